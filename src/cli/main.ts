// Entry point of `nanofaas` (bin/nanofaas imports the built copy of this file).
import { installInterruptHandlers, restoreTerminal } from './interrupt.js';
import { run } from './program.js';
import { ROOT_DIR } from '../util/paths.js';

// `nanofaas … | head` closes the pipe early: that is the reader's choice, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const interrupts = installInterruptHandlers();
const code = await run(process.argv.slice(2), {
  env: process.env,
  rootDir: ROOT_DIR,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: interrupts.signal,
});
if (interrupts.signal.aborted) {
  // Work the interrupt abandoned (a timer, a child's pipe) must not keep the process alive.
  restoreTerminal();
  process.exit(code);
}
// Done: a Ctrl-C from now on gets the default behaviour.
interrupts.dispose();
process.exitCode = code;
