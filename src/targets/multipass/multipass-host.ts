import { CommandHost } from '../host/command-host.js';
import type { ExecOptions } from '../host/host.js';
import { runLocal, type Runner } from '../host/run-local.js';

/**
 * A Multipass VM as a Host: `multipass exec <vm> -- argv` and `multipass transfer`. Values reach
 * the VM as argv elements (and `env K=V` for environment), so nothing is re-parsed by a shell on
 * either side; in-VM scripts that need bash are fixed text that read their values from env.
 */
export class MultipassHost extends CommandHost {
  constructor(
    readonly vm: string,
    run: Runner = runLocal,
  ) {
    super(run);
  }

  describe(): string {
    return `multipass VM ${this.vm}`;
  }

  commandFor(argv: readonly string[], opts: Pick<ExecOptions, 'env'> = {}): string[] {
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    return ['multipass', 'exec', this.vm, '--', ...(env.length ? ['env', ...env] : []), ...argv];
  }

  copyCommandFor(localPath: string, remotePath: string): string[] {
    return ['multipass', 'transfer', localPath, `${this.vm}:${remotePath}`];
  }
}
