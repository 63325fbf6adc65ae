import { copyFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ExecOptions, Host } from './host.js';
import { runLocal, type Runner } from './run-local.js';

/** This machine: commands run directly (kubeconfig target, docker compose). */
export class LocalHost implements Host {
  constructor(private readonly run: Runner = runLocal) {}

  exec(argv: readonly string[], opts: ExecOptions = {}) {
    // execa extends process.env with opts.env, so PATH and KUBECONFIG reach kubectl/helm.
    return this.run(argv, opts);
  }

  async copy(localPath: string, remotePath: string): Promise<void> {
    await mkdir(dirname(remotePath), { recursive: true });
    await copyFile(localPath, remotePath);
  }

  describe(): string {
    return 'this machine';
  }

  commandFor(argv: readonly string[], opts: Pick<ExecOptions, 'env'> = {}): string[] {
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    return env.length ? ['env', ...env, ...argv] : [...argv];
  }

  copyCommandFor(localPath: string, remotePath: string): string[] {
    return ['cp', localPath, remotePath];
  }
}
