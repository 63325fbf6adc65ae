import type { ExecOptions, Host } from '../host/host.js';
import { runLocal, type Runner } from '../host/run-local.js';

/**
 * A running container as a Host: `docker exec -i [-e K=V…] <container> argv…` and `docker cp`.
 * It stands where a Multipass VM stands, so the multipass target's in-VM steps run unchanged on a
 * real Debian system (test/targets/container-vm.test.ts). Values reach the container as argv
 * elements; `-i` keeps stdin open so a step can write input (`tee` of the sync marker).
 */
export class DockerExecHost implements Host {
  constructor(
    readonly container: string,
    private readonly run: Runner = runLocal,
    private readonly docker: readonly string[] = ['docker'],
  ) {}

  exec(argv: readonly string[], opts: ExecOptions = {}) {
    const { env: _env, ...rest } = opts;
    return this.run(this.commandFor(argv, opts), rest);
  }

  async copy(localPath: string, remotePath: string): Promise<void> {
    const result = await this.run(this.copyCommandFor(localPath, remotePath), { timeoutMs: 600_000 });
    if (result.exitCode !== 0) {
      throw new Error(`docker cp ${localPath} → ${this.container}:${remotePath} failed: ${result.stderr.trim()}`);
    }
  }

  describe(): string {
    return `container ${this.container}`;
  }

  commandFor(argv: readonly string[], opts: Pick<ExecOptions, 'env'> = {}): string[] {
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    return [...this.docker, 'exec', '-i', ...env, this.container, ...argv];
  }

  copyCommandFor(localPath: string, remotePath: string): string[] {
    return [...this.docker, 'cp', localPath, `${this.container}:${remotePath}`];
  }
}
