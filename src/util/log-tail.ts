import { closeSync, openSync, readSync, statSync, watch } from 'node:fs';

/**
 * The last `lines` lines of a file, written after byte `from` (reads at most the last 64 KiB).
 * A log appended to across runs is tailed from where this run started, so no earlier run's
 * lines pass for this one's.
 */
export function tailFile(path: string, lines = 12, from = 0): string[] {
  let fd: number | undefined;
  try {
    const size = statSync(path).size;
    const start = Math.max(from, size - 64 * 1024);
    if (start >= size) return [];
    const length = size - start;
    const buffer = Buffer.alloc(length);
    fd = openSync(path, 'r');
    readSync(fd, buffer, 0, length, start);
    return buffer
      .toString('utf8')
      .split('\n')
      .map((l) => l.trimEnd())
      .filter(Boolean)
      .slice(-lines);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Follow a log file from `offset` and resolve with the first line `match` accepts. Reacts to
 * fs.watch events, with a slow timer as a safety net (watch events can coalesce or be missed).
 * Rejects on timeout or when `abort` fires (e.g. the process exited).
 */
export function waitForLine<T>(
  path: string,
  offset: number,
  match: (line: string) => T | undefined,
  options: { timeoutMs: number; onAbort?: (abort: (reason: Error) => void) => void },
): Promise<T> {
  return new Promise((resolve, reject) => {
    let position = offset;
    let partial = '';
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      watcher?.close();
      clearInterval(timer);
      clearTimeout(deadline);
      fn();
    };
    const scan = () => {
      if (settled) return;
      let fd: number | undefined;
      try {
        const size = statSync(path).size;
        if (size <= position) return;
        const buffer = Buffer.alloc(size - position);
        fd = openSync(path, 'r');
        readSync(fd, buffer, 0, buffer.length, position);
        position = size;
        const parts = (partial + buffer.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          const hit = match(line);
          if (hit !== undefined) return finish(() => resolve(hit));
        }
      } catch {
        // the file may not exist yet; the next event or tick retries
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    };
    let watcher: ReturnType<typeof watch> | undefined;
    try {
      watcher = watch(path, scan);
    } catch {
      watcher = undefined;
    }
    const timer = setInterval(scan, 200);
    const deadline = setTimeout(
      () => finish(() => reject(new Error(`no matching line in ${path} after ${options.timeoutMs} ms`))),
      options.timeoutMs,
    );
    options.onAbort?.((reason) => {
      scan();
      finish(() => reject(reason));
    });
    scan();
  });
}
