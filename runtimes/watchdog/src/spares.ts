import type { ChildProcess } from 'node:child_process';
import { killTree } from './process-group.js';

/**
 * WATCHDOG_PRESPAWN for STDIO: up to `count` processes of the command started ahead of need, each
 * blocked reading its stdin. An invocation takes one that is still alive and the watchdog starts
 * the next one after the invocation's input is written, so the start-up time of a process is paid
 * between calls instead of inside one. It hides latency, not CPU: every call still costs one process.
 *
 * A spare is refilled only when one is taken, never when one dies unused, so a command that cannot
 * start or exits at once does not loop: the invocation then starts its own process as without spares.
 */
export interface Spares {
  /** A live spare, or undefined (none yet, or it died): the caller spawns its own. */
  take(): ChildProcess | undefined;
  /** Start spares up to the count (after a take, off the caller's path). */
  refill(): void;
  close(): void;
}

export function createSpares(count: number, spawnOne: () => ChildProcess): Spares {
  const ready: ChildProcess[] = [];
  let closed = false;
  const alive = (child: ChildProcess) => child.pid !== undefined && child.exitCode === null && child.signalCode === null;

  const refill = () => {
    while (!closed && ready.length < count) {
      let child: ChildProcess;
      try {
        child = spawnOne();
      } catch {
        return;
      }
      // A spare that fails or exits unused is dropped; whoever takes a live one listens from then on.
      child.on('error', () => {});
      child.stdin?.on('error', () => {});
      child.once('exit', () => {
        const i = ready.indexOf(child);
        if (i !== -1) ready.splice(i, 1);
      });
      ready.push(child);
    }
  };

  return {
    take() {
      while (ready.length > 0) {
        const child = ready.shift()!;
        if (alive(child)) return child;
      }
      return undefined;
    },
    refill,
    close() {
      closed = true;
      for (const child of ready.splice(0)) killTree(child);
    },
  };
}
