/**
 * The REAL multipass target pipeline driven against a FAKE `multipass` (test/targets/fixtures/
 * fake-multipass.mjs, first on PATH) that records every call and answers from a scenario file.
 * The smoke step talks HTTP to a fake API (NANOFAAS_URL / PROM_URL), since k3s cannot run here.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatStepError } from '../../src/pipeline/step.js';
import { registriesYaml } from '../../src/targets/multipass/vm-scripts.js';
import { installDependencies } from '../../src/targets/multipass/provision/dependencies.js';
import { installK3s } from '../../src/targets/multipass/provision/k3s.js';
import { writeRegistryMirror } from '../../src/targets/multipass/provision/registry-mirror.js';
import { type HostScript, scriptArgv } from '../../src/targets/multipass/provision/script.js';
import { archiveProject } from '../../src/targets/multipass/project-sync.js';
import { runLocal } from '../../src/targets/host/run-local.js';
import { inputHash } from '../../src/images/input-hash.js';
import { imageBuilds } from '../../src/targets/cluster/images.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { World, catalogNames, down, fakeApi, load, up } from './harness.js';

let api: Awaited<ReturnType<typeof fakeApi>>;
let world: World;
const worlds: World[] = [];
const names = catalogNames();
/** The recorded argv of a script run in the VM: exactly the text the plan shows. */
const inVm = (script: HostScript) => ['exec', 'nanofaas-e2e', '--', ...scriptArgv(script)];

beforeAll(async () => {
  // Requires the token the fake VM's Secret holds: every smoke call must carry it.
  api = await fakeApi(names, { token: 'fake-api-token' });
});
afterAll(async () => {
  await new Promise<void>((r) => api.server.close(() => r()));
});
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
});

function newWorld(): World {
  world = new World();
  worlds.push(world);
  return world;
}

/** A VM where everything is already in place. */
const READY = {
  state: 'Running' as const,
  missingDeps: '',
  k3sInstalled: true,
  registryHealthy: true,
  registriesYaml: registriesYaml('localhost:5000'),
};

// Every fake multipass call starts a node process; a full `up` makes about a hundred of them.
describe('multipass target: up against a fake multipass', { timeout: 90_000 }, () => {
  it('fresh VM: launches with the CPU/memory/disk flags, installs what is missing, builds, pushes, deploys, smoke-tests', async () => {
    const w = newWorld().scenario({
      state: 'absent',
      missingDeps: 'docker java helm node',
      k3sInstalled: false,
      registryHealthy: false,
      registriesYaml: null,
    });
    const target = load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url }));
    const { result, ctx } = await up(target);
    expect(result.error ? formatStepError(result.error).join('\n') : '').toBe('');
    expect(result.ok).toBe(true);

    const calls = w.calls();
    const lines = w.lines();
    expect(calls).toContainEqual([
      'launch',
      '24.04',
      '--name',
      'nanofaas-e2e',
      '--cpus',
      '4',
      '--memory',
      '8G',
      '--disk',
      '30G',
      '--timeout',
      '900',
    ]);
    expect(lines.some((l) => l.startsWith('start'))).toBe(false);
    expect(calls).toContainEqual(inVm(installDependencies()));
    expect(calls).toContainEqual(inVm(installK3s()));
    expect(lines).toContainEqual(expect.stringMatching(/^transfer .*project\.tar nanofaas-e2e:\/home\/ubuntu\/nanofaas-src\.tar$/));
    expect(lines).toContain('exec nanofaas-e2e -- sudo docker run -d --restart=always --name nanofaas-registry -p 5000:5000 registry:2');
    expect(calls).toContainEqual(inVm(writeRegistryMirror('localhost:5000')));
    // control plane + one image per catalog function, each built then pushed to the local registry
    const builds = lines.filter((l) => l.includes(' docker build '));
    const pushes = lines.filter((l) => l.includes(' docker push '));
    expect(builds).toHaveLength(names.length + 1);
    expect(pushes.map((l) => l.split(' ').at(-1))).toEqual(
      expect.arrayContaining(['localhost:5000/nanofaas/control-plane:0.1.0', 'localhost:5000/nanofaas/word-stats-python:0.1.0']),
    );
    const helm = lines.find((l) => l.includes('helm upgrade --install'));
    expect(helm).toBe(
      'exec nanofaas-e2e -- sudo env KUBECONFIG=/etc/rancher/k3s/k3s.yaml helm upgrade --install nanofaas /home/ubuntu/nanofaas/helm/nanofaas --namespace nanofaas --create-namespace -f /home/ubuntu/nanofaas-values.yaml --wait --timeout 5m',
    );
    // order: VM before deps before k3s before build before push before helm
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    expect(at(/^launch/)).toBeLessThan(at(/apt-get update/));
    expect(at(/apt-get update/)).toBeLessThan(at(/INSTALL_K3S_EXEC/));
    expect(at(/docker build/)).toBeLessThan(at(/docker push/));
    expect(at(/docker push/)).toBeLessThan(at(/helm upgrade/));
    expect(at(/helm upgrade/)).toBeLessThan(at(/rollout status deployment\/nanofaas-control-plane/));

    // kubeconfig exported with the VM address; values generated with the fixed NodePorts and STDIO for exec
    const kubeconfig = readFileSync(w.state.file('multipass', 'kubeconfig-nanofaas-e2e.yaml'), 'utf8');
    expect(kubeconfig).toContain('server: https://127.0.0.1:6443');
    const values = readFileSync(w.state.file('multipass', 'values-e2e.yaml'), 'utf8');
    expect(values).toContain('nodePort: 30090');
    expect(values).toMatch(/name: word-stats-exec\n(.*\n)*?\s+runtimeMode: STDIO/);

    expect(ctx.functions.map((f) => f.name).sort()).toEqual([...names].sort());
    expect(ctx.functions.every((f) => f.smoke?.ok)).toBe(true);
    // The smoke test read the chart's token Secret in the VM and sent it on every call.
    expect(lines).toContain(
      'exec nanofaas-e2e -- sudo k3s kubectl -n nanofaas get secret nanofaas-api-token --ignore-not-found -o jsonpath={.data.token}',
    );
    expect(at(/helm upgrade/)).toBeLessThan(at(/get secret nanofaas-api-token/));
    expect(api.unauthorized).toEqual([]);
    expect(ctx.endpoints?.apiUrl).toBe(api.url);
    expect(ctx.notes.join('\n')).toContain('VM: nanofaas-e2e (127.0.0.1)');
  });

  it('existing running VM: no launch, no start, every idempotent step skipped with its reason, no k3s restart', async () => {
    const w = newWorld().scenario(READY);
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(true);
    const lines = w.lines();
    expect(lines.filter((l) => /^(launch|start) /.test(l))).toEqual([]);
    expect(lines.filter((l) => l.includes('systemctl restart k3s') || l.includes('tee /etc/rancher/k3s/registries.yaml'))).toEqual([]);
    expect(lines.filter((l) => l.includes('apt-get') || l.includes('INSTALL_K3S_EXEC'))).toEqual([]);
    const skipReason = (prefix: string) => {
      const step = result.steps.find((s) => s.title.startsWith(prefix));
      return step?.status === 'skipped' ? step.detail : `${step?.status}`;
    };
    expect(skipReason('VM ')).toBe('already running at 127.0.0.1 (reused)');
    expect(skipReason('Dependencies')).toBe('all installed');
    expect(skipReason('k3s (Traefik disabled)')).toBe('installed and active');
    expect(skipReason('Local registry')).toBe('healthy (kept)');
    expect(skipReason('k3s registry mirror')).toBe('unchanged (k3s not restarted)');
  });

  it('project unchanged since the last sync (same archive hash in the VM): no transfer', async () => {
    const w = newWorld();
    const archive = await archiveProject(runLocal, w.repo, join(w.dir, 'probe'));
    w.scenario({ ...READY, syncMarker: archive.sha256 });
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(true);
    expect(result.steps.find((s) => s.title.startsWith('Project synced'))).toMatchObject({
      status: 'skipped',
      detail: `unchanged since the last sync (${archive.files} files)`,
    });
    expect(w.lines().filter((l) => l.startsWith('transfer') && l.includes('project.tar'))).toEqual([]);
  });

  it('images whose hash label in the VM equals the hash of their inputs are not rebuilt (the step says so); they are still pushed', async () => {
    const w = newWorld();
    const builds = imageBuilds(w.repo, loadCatalog(w.repo).functions);
    // The VM's docker: every base has one id, every image carries the hash its inputs have now.
    const answers = [{ match: 'docker image inspect --format {{.Id}} ', stdout: 'sha256:base\n' }];
    for (const b of builds) {
      const hash = await inputHash(w.repo, b, async () => 'sha256:base');
      answers.push({ match: `{{end}} localhost:5000/${b.image}`, stdout: `${hash}\n` });
    }
    w.scenario({ ...READY, answers });
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(true);
    const lines = w.lines();
    expect(lines.filter((l) => l.includes(' docker build '))).toEqual([]);
    expect(lines.filter((l) => l.includes(' docker image inspect --format {{with .Config.Labels}}'))).toHaveLength(builds.length);
    expect(result.steps.find((s) => s.title.startsWith('Build'))).toMatchObject({
      status: 'skipped',
      detail: `all ${builds.length} up to date (their inputs hash is unchanged)`,
    });
    expect(lines.filter((l) => l.includes(' docker push '))).toHaveLength(builds.length);
  });

  it('images the registry already holds with the digest of the local image are not pushed again (the step says so)', async () => {
    const w = newWorld();
    const refs = imageBuilds(w.repo, loadCatalog(w.repo).functions).map((b) => `localhost:5000/${b.image}`);
    const digest = `sha256:${'a'.repeat(64)}`;
    // The digest check's one script: `<ref> <registry digest> <local RepoDigests>` a line.
    const stdout = refs.map((ref) => `${ref} ${digest} ["${ref.slice(0, ref.lastIndexOf(':'))}@${digest}"]\n`).join('');
    w.scenario({ ...READY, answers: [{ match: 'docker-content-digest', stdout }] });
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(true);
    expect(w.lines().filter((l) => l.includes(' docker push '))).toEqual([]);
    expect(result.steps.find((s) => s.title.startsWith('Push'))).toMatchObject({
      status: 'skipped',
      detail: `all ${refs.length} already in localhost:5000 (same digests)`,
    });
  });

  it('stopped VM: started, not launched', async () => {
    const w = newWorld().scenario({ ...READY, state: 'Stopped' });
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(true);
    expect(w.calls()).toContainEqual(['start', 'nanofaas-e2e']);
    expect(w.lines().some((l) => l.startsWith('launch'))).toBe(false);
  });

  it('registries.yaml with other content is rewritten and k3s restarted', async () => {
    const w = newWorld().scenario({ ...READY, registriesYaml: 'mirrors: {}\n' });
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(true);
    expect(w.calls()).toContainEqual(inVm(writeRegistryMirror('localhost:5000')));
  });

  it('SKIP_BUILD=true: no docker build, no push, the steps say why', async () => {
    const w = newWorld().scenario(READY);
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url, SKIP_BUILD: 'true' })));
    expect(result.ok).toBe(true);
    expect(w.lines().filter((l) => l.includes('docker build') || l.includes('docker push'))).toEqual([]);
    const build = result.steps.find((s) => s.title.startsWith('Build'));
    expect(build).toMatchObject({ status: 'skipped', detail: 'SKIP_BUILD=true' });
    expect(w.lines().some((l) => l.includes('helm upgrade --install'))).toBe(true);
  });

  it('a failing step: the error names the step and the command, shows the log tail and a hint; later steps do not run', async () => {
    const w = newWorld().scenario({
      ...READY,
      fail: [
        {
          match: 'docker build',
          exitCode: 1,
          stdout: 'Step 3/7 : RUN npm ci',
          stderr: 'ERROR: failed to solve: process "/bin/sh -c npm ci" did not complete successfully',
        },
      ],
    });
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(false);
    const error = result.error!;
    expect(error.step).toMatch(/^Build \d+ images in the VM$/);
    expect(error.command).toMatch(
      /^multipass exec nanofaas-e2e -- sudo docker build --network host --label dev\.nanofaas\.inputs=[0-9a-f]{64} -t localhost:5000\/nanofaas\/control-plane:0\.1\.0 /,
    );
    expect(error.message).toBe('docker exited with code 1');
    expect(error.logTail.join('\n')).toContain('failed to solve');
    expect(error.hint).toContain('control-plane/Dockerfile');
    const text = formatStepError(error).join('\n');
    expect(text).toContain('while running: multipass exec nanofaas-e2e -- sudo docker build --network host');
    expect(text).toContain('hint:');
    expect(w.lines().some((l) => l.includes('helm upgrade'))).toBe(false);
    expect(result.steps.find((s) => s.title.startsWith('Push'))?.status).toBe('not-run');
  });

  it('a missing Dockerfile fails the build step before any docker build, naming the image and the file', async () => {
    const w = newWorld().scenario(READY);
    rmSync(join(w.repo, 'runtimes/node/Dockerfile'));
    const { result } = await up(load('multipass', w, w.env({ NANOFAAS_URL: api.url, PROM_URL: api.url })));
    expect(result.ok).toBe(false);
    expect(result.error?.step).toMatch(/^Build/);
    expect(result.error?.message).toBe(
      'no Dockerfile for 2 image(s): nanofaas/word-stats-node:0.1.0 (runtimes/node/Dockerfile), nanofaas/json-transform-node:0.1.0 (runtimes/node/Dockerfile)',
    );
    expect(result.error?.hint).toContain('SKIP_BUILD=true');
    expect(w.lines().some((l) => l.includes('docker build'))).toBe(false);
  });

  it('a failing smoke invocation fails the smoke step, naming the function', async () => {
    const bad = await fakeApi(names, { failInvoke: 'json-transform-exec' });
    try {
      const w = newWorld().scenario(READY);
      const { result, ctx } = await up(load('multipass', w, w.env({ NANOFAAS_URL: bad.url, PROM_URL: bad.url })));
      expect(result.ok).toBe(false);
      expect(result.error?.step).toMatch(/^Smoke-test/);
      expect(result.error?.message).toContain('json-transform-exec (HTTP 400');
      expect(ctx.functions.find((f) => f.name === 'json-transform-exec')?.smoke?.ok).toBe(false);
      expect(bad.invoked.sort()).toEqual([...names].sort());
    } finally {
      await new Promise<void>((r) => bad.server.close(() => r()));
    }
  });

  it('--dry-run prints every command of the plan and records no multipass call at all', async () => {
    const w = newWorld().scenario({ state: 'absent' });
    const { result, written } = await up(load('multipass', w, w.env()), { dryRun: true });
    expect(result.ok).toBe(true);
    expect(w.calls()).toEqual([]);
    const plan = written.join('\n');
    for (const expected of [
      '$ multipass version',
      '$ multipass launch 24.04 --name nanofaas-e2e --cpus 4 --memory 8G --disk 30G --timeout 900  (if absent)',
      '$ multipass start nanofaas-e2e  (if stopped)',
      "multipass exec nanofaas-e2e -- sudo bash -c 'set -euo pipefail; curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC=$'\\''--disable traefik'\\'' sh -'",
      'multipass transfer ',
      'multipass exec nanofaas-e2e -- sudo docker run -d --restart=always --name nanofaas-registry -p 5000:5000 registry:2',
      'printf %s "$desired" > /etc/rancher/k3s/registries.yaml\n        systemctl restart k3s\n',
      `multipass exec nanofaas-e2e -- sudo docker image inspect --format '{{with .Config.Labels}}{{index . "dev.nanofaas.inputs"}}{{end}}' localhost:5000/nanofaas/word-stats-exec:0.1.0`,
      "multipass exec nanofaas-e2e -- sudo docker build --network host --label 'dev.nanofaas.inputs=<inputs hash>' -t localhost:5000/nanofaas/word-stats-exec:0.1.0 -f /home/ubuntu/nanofaas/runtimes/watchdog/Dockerfile --build-arg FUNCTION=word-stats /home/ubuntu/nanofaas",
      'multipass exec nanofaas-e2e -- sudo docker push localhost:5000/nanofaas/json-transform-node:0.1.0',
      'helm upgrade --install nanofaas /home/ubuntu/nanofaas/helm/nanofaas --namespace nanofaas --create-namespace',
      'rollout status deployment/nanofaas-control-plane --timeout=180s',
      'POST <api>/v1/functions/word-stats-java:invoke',
      'GET  <prometheus>/api/v1/query?query=up',
    ]) {
      expect(plan).toContain(expected);
    }
    expect(result.steps.every((s) => s.status === 'planned')).toBe(true);
  });

  it('VM_NAME, CPUS, MEMORY, DISK, LOCAL_REGISTRY shape the plan; a bad value is a usage error naming the variable', async () => {
    const w = newWorld().scenario({ state: 'absent' });
    const env = w.env({ VM_NAME: 'my-vm', CPUS: '2', MEMORY: '4G', DISK: '20G', LOCAL_REGISTRY: 'localhost:5050' });
    const { written } = await up(load('multipass', w, env), { dryRun: true });
    const plan = written.join('\n');
    expect(plan).toContain('multipass launch 24.04 --name my-vm --cpus 2 --memory 4G --disk 20G');
    expect(plan).toContain('-p 5050:5000 registry:2');
    expect(plan).toContain('multipass exec my-vm -- sudo docker push localhost:5050/nanofaas/control-plane:0.1.0');
    expect(() => load('multipass', w, w.env({ CPUS: 'four' }))).toThrow(/CPUS must be an integer 1-64, got "four"/);
    expect(() => load('multipass', w, w.env({ KEEP_VM: 'maybe' }))).toThrow(
      /KEEP_VM must be true or false \(also 1\/0, yes\/no\), got "maybe"/,
    );
  });
});

describe('multipass target: down', () => {
  it('deletes and purges the VM', async () => {
    const w = newWorld().scenario(READY);
    const { result, ctx } = await down(load('multipass', w, w.env()));
    expect(result.ok).toBe(true);
    expect(w.calls()).toContainEqual(['delete', 'nanofaas-e2e']);
    expect(w.calls()).toContainEqual(['purge']);
    expect(ctx.stopped).toContain('VM nanofaas-e2e');
  });

  it('KEEP_VM=true keeps the VM and only uninstalls the release', async () => {
    const w = newWorld().scenario(READY);
    const { result } = await down(load('multipass', w, w.env({ KEEP_VM: 'true' })));
    expect(result.ok).toBe(true);
    expect(w.lines().some((l) => l.startsWith('delete') || l === 'purge')).toBe(false);
    expect(w.lines()).toContain(
      'exec nanofaas-e2e -- sudo env KUBECONFIG=/etc/rancher/k3s/k3s.yaml helm uninstall nanofaas --namespace nanofaas --ignore-not-found',
    );
  });

  it('stops Grafana only when loadtest recorded starting it', async () => {
    const w = newWorld().scenario(READY).shadow('docker');
    const notStarted = await down(load('multipass', w, w.env({ SKIP_GRAFANA: '' })));
    expect(notStarted.result.ok).toBe(true);
    expect(w.calls().some((c) => c[0] === 'docker')).toBe(false);
    expect(notStarted.ctx.stopped).not.toContain('grafana');
    const composeFile = join(w.repo, 'grafana', 'docker-compose.yml');
    w.state.saveGrafana({ composeFile, env: { PROM_URL: 'http://127.0.0.1:9' }, startedAt: new Date().toISOString() });
    const started = await down(load('multipass', w, w.env({ SKIP_GRAFANA: '' })));
    expect(started.result.ok).toBe(true);
    expect(w.calls()).toContainEqual(['docker', 'compose', '-f', composeFile, 'down']);
    expect(started.ctx.stopped).toContain('grafana');
    expect(w.state.grafana()).toBeUndefined();
  });

  it('no VM: the delete step is skipped, and a dry run calls nothing', async () => {
    const w = newWorld().scenario({ state: 'absent' });
    const dry = await down(load('multipass', w, w.env()), { dryRun: true });
    expect(w.calls()).toEqual([]);
    expect(dry.written.join('\n')).toContain('multipass delete nanofaas-e2e');
    const { result } = await down(load('multipass', w, w.env()));
    expect(result.steps.find((s) => s.title.startsWith('Delete'))).toMatchObject({ status: 'skipped', detail: 'no such VM' });
  });
});
