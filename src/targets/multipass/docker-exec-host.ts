import { CommandHost } from '../host/command-host.js';
import type { ExecOptions } from '../host/host.js';
import { runLocal, type Runner } from '../host/run-local.js';

/**
 * A running container as a Host: `docker exec -i [-e K=V…] <container> argv…` and `docker cp`.
 * It stands where a Multipass VM stands, so the multipass target's in-VM steps run unchanged on a
 * real Debian system (test/targets/container-vm.test.ts). Values reach the container as argv
 * elements; `-i` keeps stdin open so a step can write input (`tee` of the sync marker).
 */
export class DockerExecHost extends CommandHost {
  constructor(
    readonly container: string,
    run: Runner = runLocal,
    private readonly docker: readonly string[] = ['docker'],
  ) {
    super(run);
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
