/**
 * Bounded concurrency: at most `limit` tasks run; the rest wait in FIFO order and start the moment
 * a slot frees (no polling). A waiter whose signal aborts leaves the queue.
 */
export interface Limiter {
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

export function createLimiter(limit: number): Limiter {
  let active = 0;
  const queue: Array<() => void> = [];

  const release = () => {
    active -= 1;
    const next = queue.shift();
    if (next) next();
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    async run(task, signal) {
      if (active >= limit) {
        await new Promise<void>((resolve, reject) => {
          const start = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = queue.indexOf(start);
            if (i !== -1) queue.splice(i, 1);
            reject(signal?.reason ?? new Error('aborted'));
          };
          if (signal?.aborted) return onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
          queue.push(start);
        });
      }
      active += 1;
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
