import { writeSync } from 'node:fs';
import { constants } from 'node:os';

/** The abort reason main.ts gives ctx.signal: which signal the user sent. */
export class Interrupt extends Error {
  readonly signalName: NodeJS.Signals;
  constructor(signalName: NodeJS.Signals) {
    super(`interrupted (${signalName})`);
    this.name = 'Interrupt';
    this.signalName = signalName;
  }
}

/** 128 + the signal number, what a shell reports for a command a signal stopped (130 for Ctrl-C). */
export function interruptExitCode(reason: unknown): number {
  const name = reason instanceof Interrupt ? reason.signalName : 'SIGINT';
  return 128 + (constants.signals[name] ?? constants.signals.SIGINT);
}

const SHOW_CURSOR = '\x1b[?25h';

/**
 * Show the cursor again on every terminal we write to. The spinner renderer hides it and, while
 * it runs, replaces process.stdout.write, so this writes to the file descriptors directly.
 */
export function restoreTerminal(): void {
  for (const [fd, stream] of [
    [1, process.stdout],
    [2, process.stderr],
  ] as const) {
    if (!stream.isTTY) continue;
    try {
      writeSync(fd, SHOW_CURSOR);
    } catch {
      // the terminal is gone; nothing to restore
    }
  }
}

/**
 * SIGINT and SIGTERM abort the returned signal, so the running command stops its work, records
 * what it started and reports itself interrupted. A second one exits at once (after restoring
 * the cursor): the user asked twice.
 */
export function installInterruptHandlers(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): {
  signal: AbortSignal;
  dispose: () => void;
} {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      controller.abort(new Interrupt(name));
      return;
    }
    restoreTerminal();
    process.exit(interruptExitCode(new Interrupt(name)));
  };
  for (const name of signals) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of signals) process.removeListener(name, onSignal);
    },
  };
}
