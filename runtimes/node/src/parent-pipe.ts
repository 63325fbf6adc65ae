/**
 * Die with the control plane (NANOFAAS_PARENT_PIPE=stdin). The control plane starts the runtime
 * with stdin as a pipe it holds open and never writes: the kernel closes that pipe however the
 * control plane ends, SIGKILL included, so EOF (or an error) on stdin is the one reliable sign
 * that nobody will ever stop this runtime. It then kills its whole process group at once: the
 * runtime leads that group (it is spawned detached), and what it started shares it.
 */
import type { Logger } from './log.js';

export function dieWithParent(logger: Logger, input: NodeJS.ReadableStream = process.stdin): void {
  let gone = false;
  const die = (why: string) => {
    if (gone) return;
    gone = true;
    try {
      logger('error', 'control plane gone: killing this runtime and everything it started', { why });
    } catch {
      // best effort: stderr may be gone with the parent
    }
    killOwnGroup();
  };
  // Nothing is expected on the pipe; reading keeps it flowing so EOF is seen.
  input.on('data', () => undefined);
  input.once('end', () => die('stdin reached EOF'));
  input.once('error', (err: Error) => die(`stdin failed: ${err.message}`));
}

/**
 * SIGKILL the group this process leads. A process that does not lead a group (started without
 * `detached`) must not take its starter's group down, so it kills only itself.
 */
export function killOwnGroup(): never {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    // ESRCH: no group with our id, so we are not a leader
  }
  process.kill(process.pid, 'SIGKILL');
  // SIGKILL of ourselves does not return; this satisfies the type checker.
  process.exit(137);
}
