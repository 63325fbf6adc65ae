import type { ExecOptions, ExecResult, Host } from './host.js';
import { runLocal, type Runner } from './run-local.js';

/**
 * A Host reached through one local command per exec and per copy (`multipass exec`/`transfer`,
 * `docker exec`/`cp`): a subclass only says how its argv is built.
 */
export abstract class CommandHost implements Host {
  constructor(private readonly run: Runner = runLocal) {}

  /** The local argv that runs `argv` on the host, with `opts.env` passed as argv elements (never through a shell). */
  abstract commandFor(argv: readonly string[], opts?: Pick<ExecOptions, 'env'>): string[];
  abstract copyCommandFor(localPath: string, remotePath: string): string[];
  abstract describe(): string;

  exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const { env: _env, ...rest } = opts;
    return this.run(this.commandFor(argv, opts), rest);
  }

  async copy(localPath: string, remotePath: string): Promise<void> {
    const command = this.copyCommandFor(localPath, remotePath);
    const result = await this.run(command, { timeoutMs: 600_000 });
    if (result.exitCode !== 0) {
      throw new Error(`${command.slice(0, -2).join(' ')} ${localPath} → ${command.at(-1)} failed: ${result.stderr.trim()}`);
    }
  }
}
