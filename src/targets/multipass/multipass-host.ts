import type { ExecOptions, Host } from '../host/host.js';
import { runLocal, type Runner } from '../host/run-local.js';

/**
 * A Multipass VM as a Host: `multipass exec <vm> -- argv` and `multipass transfer`. Values reach
 * the VM as argv elements (and `env K=V` for environment), so nothing is re-parsed by a shell on
 * either side; in-VM scripts that need bash are fixed text that read their values from env.
 */
export class MultipassHost implements Host {
  constructor(
    readonly vm: string,
    private readonly run: Runner = runLocal,
  ) {}

  exec(argv: readonly string[], opts: ExecOptions = {}) {
    const { env: _env, ...rest } = opts;
    return this.run(this.commandFor(argv, opts), rest);
  }

  async copy(localPath: string, remotePath: string): Promise<void> {
    const result = await this.run(this.copyCommandFor(localPath, remotePath), { timeoutMs: 600_000 });
    if (result.exitCode !== 0) {
      throw new Error(`multipass transfer ${localPath} → ${this.vm}:${remotePath} failed: ${result.stderr.trim()}`);
    }
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
