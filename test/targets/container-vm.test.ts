/**
 * The multipass target's in-VM steps, run for REAL on a Debian bookworm container through
 * DockerExecHost (./container-vm.ts): dependency checks and installs (Debian's nodejs through apt
 * for real), k3s, node Ready + kubeconfig, project sync, the registry, the k3s mirror, image build
 * and push on the host's Docker engine. Only what cannot be fetched or run in a container is a
 * named stand-in (src/targets/multipass/provision/debian-stand-ins.ts): the k3s installer and
 * k3s, systemd's systemctl, the JDK 21, the helm installer, docker.io, registry:2.
 *
 * The project synced, built and pushed is a small fixture (./container-vm.ts: the control plane's
 * and one function's Dockerfile, as the catalog names them), so cold builds take seconds.
 *
 * The sequence runs twice: the first run does everything, the second changes nothing in the
 * container (no file newer than the first run's end) and reports a skip reason for every step.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStepError, runPipeline } from '../../src/pipeline/run.js';
import type { UpContext } from '../../src/targets/target.js';
import { runLocal } from '../../src/targets/host/run-local.js';
import { multipassConfig } from '../../src/targets/multipass/config.js';
import { imageSteps } from '../../src/targets/multipass/image-steps.js';
import { createKit, type MultipassUpInput } from '../../src/targets/multipass/kit.js';
import { DEBIAN_CONTAINER, STAND_IN_SYSTEMCTL_LOG } from '../../src/targets/multipass/provision/debian-stand-ins.js';
import { provisionSteps } from '../../src/targets/multipass/vm-steps.js';
import { REGISTRIES_YAML, REGISTRY_CONTAINER, VM_SYNC_MARKER, registriesYaml } from '../../src/targets/multipass/vm-scripts.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { type ContainerVm, ensureImages, fixtureProject, startContainerVm } from './container-vm.js';

let FUNCTION = '';
const CONTAINER = `nanofaas-vm-test-${process.pid}`;

let vm: ContainerVm;
let project: string;
let workDir: string;
let registry: string;
let removeImages: (() => Promise<void>) | undefined;

/** Runs a command in the container; its stdout. */
async function inVm(argv: string[]): Promise<string> {
  const r = await vm.host.exec(argv, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} in the container exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh kit each time, as each `up` makes one; the container's address is the host's (--network host). */
function steps() {
  const catalog = loadCatalog(project);
  const input: MultipassUpInput = {
    rootDir: project,
    workDir,
    functions: catalog.functions.filter((f) => f.name === FUNCTION),
    catalog,
    skipBuild: false,
    run: runLocal,
    suggest: (c) => `nanofaas ${c}`,
    cfg: multipassConfig({ LOCAL_REGISTRY: registry, VM_NAME: CONTAINER }),
  };
  const kit = createKit(input, { host: vm.host, profile: DEBIAN_CONTAINER });
  kit.live.ip = '127.0.0.1';
  return [...provisionSteps(kit), ...imageSteps(kit)];
}

async function run(dryRun = false) {
  const written: string[] = [];
  const started = performance.now();
  const result = await runPipeline(steps(), { functions: [], notes: [] } as UpContext, {
    renderer: 'silent',
    dryRun,
    write: (line) => written.push(line),
  });
  return { result, written, seconds: (performance.now() - started) / 1000 };
}

beforeAll(async () => {
  removeImages = await ensureImages();
  project = mkdtempSync(join(tmpdir(), 'nanofaas-vm-project-'));
  FUNCTION = (await fixtureProject(project)).functionName;
  workDir = mkdtempSync(join(tmpdir(), 'nanofaas-vm-state-'));
  registry = `localhost:${await getPort()}`;
  vm = await startContainerVm(ROOT_DIR, CONTAINER);
}, 600_000);

afterAll(async () => {
  await vm?.remove();
  await runLocal(['docker', 'rm', '-f', REGISTRY_CONTAINER], { timeoutMs: 60_000 });
  await removeImages?.();
  // The tags the build step made (the layers stay in the engine's cache).
  const tags = [`${registry}/nanofaas/control-plane:0.1.0`, `${registry}/nanofaas/${FUNCTION}:0.1.0`];
  if (registry) await runLocal(['docker', 'rmi', ...tags], { timeoutMs: 60_000 });
  for (const dir of [project, workDir]) if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('the in-VM steps on a real Debian container (DockerExecHost)', () => {
  it('the plan names every stand-in and runs nothing in the container', async () => {
    const before = await inVm(['bash', '-c', 'command -v helm node k3s java || true']);
    const { result, written } = await run(true);
    expect(result.ok).toBe(true);
    const plan = written.join('\n');
    for (const s of DEBIAN_CONTAINER.standIns) expect(plan).toContain(`stand-in ${s.name}: `);
    expect(plan).toContain(`docker exec -i ${CONTAINER} sudo bash -c`);
    expect(plan).toContain('k3s-install.sh');
    expect(before.trim()).toBe('');
    expect((await inVm(['bash', '-c', 'command -v helm node k3s java || true'])).trim()).toBe('');
  });

  it('first run does every step; the second changes nothing and skips each one with its reason', async () => {
    const first = await run();
    expect(first.result.error ? formatStepError(first.result.error).join('\n') : '').toBe('');
    expect(first.result.steps.map((s) => [s.title, s.status])).toEqual([
      ['Dependencies in the VM (Docker, JDK 21, Helm, Node)', 'done'],
      ['k3s (Traefik disabled)', 'done'],
      ['k3s node Ready; kubeconfig exported', 'done'],
      [expect.stringMatching(/^Project synced into the VM/), 'done'],
      [`Local registry ${registry} (registry:2)`, 'done'],
      [`k3s registry mirror (${REGISTRIES_YAML})`, 'done'],
      ['Build 2 images in the VM', 'done'],
      [`Push images to ${registry}`, 'done'],
    ]);

    // What the first run left in the container, read back from it.
    expect(await inVm(['node', '--version'])).toMatch(/^v18\./); // Debian's nodejs, installed by apt
    expect(await inVm(['helm', 'version', '--short'])).toMatch(/^v3\./);
    expect(await inVm(['sudo', 'docker', 'version', '--format', '{{.Server.Version}}'])).toMatch(/^\d+\./);
    expect((await inVm(['cat', '/etc/rancher/k3s/install-exec'])).trim()).toBe('--disable traefik');
    expect(await inVm(['sudo', 'cat', REGISTRIES_YAML])).toBe(registriesYaml(registry));
    expect((await inVm(['cat', STAND_IN_SYSTEMCTL_LOG])).trim().split('\n')).toEqual([
      'enable docker',
      'enable k3s',
      'restart k3s', // the mirror was written
    ]);
    expect(readFileSync(join(workDir, `kubeconfig-${CONTAINER}.yaml`), 'utf8')).toContain('server: https://127.0.0.1:6443');
    expect((await inVm(['cat', VM_SYNC_MARKER])).trim()).toMatch(/^[0-9a-f]{64}$/);
    const catalog = JSON.parse(await inVm(['curl', '-fsS', `http://${registry}/v2/_catalog`])) as { repositories: string[] };
    expect(catalog.repositories.sort()).toEqual(['nanofaas/control-plane', `nanofaas/${FUNCTION}`]);
    const registryId = (await runLocal(['docker', 'inspect', '--format', '{{.Id}}', REGISTRY_CONTAINER])).stdout.trim();

    // Anything the second run writes in the container would be newer than this marker.
    await inVm(['bash', '-c', 'touch /tmp/after-first-run && sleep 1']);
    const second = await run();
    expect(second.result.error ? formatStepError(second.result.error).join('\n') : '').toBe('');
    expect(second.result.steps.map((s) => [s.title.split(' (')[0], s.status, s.detail])).toEqual([
      ['Dependencies in the VM', 'skipped', 'all installed'],
      ['k3s', 'skipped', 'installed and active'],
      ['k3s node Ready; kubeconfig exported', 'skipped', 'node Ready; kubeconfig unchanged'],
      ['Project synced into the VM', 'skipped', expect.stringMatching(/^unchanged since the last sync \(\d+ files\)$/)],
      [`Local registry ${registry}`, 'skipped', 'healthy (kept)'],
      ['k3s registry mirror', 'skipped', 'unchanged (k3s not restarted)'],
      ['Build 2 images in the VM', 'skipped', 'all 2 up to date (their inputs hash is unchanged)'],
      [`Push images to ${registry}`, 'skipped', `all 2 already in ${registry} (same digests)`],
    ]);
    const changed = await inVm([
      'bash',
      '-c',
      'find / -xdev -newer /tmp/after-first-run -not -path /tmp/after-first-run -not -path "/proc/*" -not -path "/sys/*" -not -path "/dev/*" 2>/dev/null || true',
    ]);
    expect(changed.trim().split('\n').filter(Boolean)).toEqual([]);
    expect((await inVm(['cat', STAND_IN_SYSTEMCTL_LOG])).trim().split('\n')).toHaveLength(3); // k3s not restarted again
    expect((await runLocal(['docker', 'inspect', '--format', '{{.Id}}', REGISTRY_CONTAINER])).stdout.trim()).toBe(registryId);
    const timing = (r: typeof first) =>
      r.result.steps.map((s) => `${s.title.split(' (')[0]} ${(s.durationMs / 1000).toFixed(1)} s`).join(', ');
    console.log(`container VM steps, first run: ${timing(first)}; second: ${timing(second)}`);
    console.log(`container VM: first run ${first.seconds.toFixed(1)} s, second run ${second.seconds.toFixed(1)} s`);
  }, 420_000);
});
