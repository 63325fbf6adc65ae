/**
 * Dry-run plans show what will run: image names under a registry prefix (never doubled), what
 * --no-build does instead of building and pushing, and the real in-VM scripts of the multipass
 * target (no `<install the missing ones>` placeholders). FAKE kubectl/helm/docker/multipass on PATH
 * prove nothing runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { helmValues } from '../../src/targets/cluster/helm-values.js';
import { dockerBuildArgv, imageBuilds, placeImage } from '../../src/targets/cluster/images.js';
import { checkDependencies, installDependencies } from '../../src/targets/multipass/provision/dependencies.js';
import { installK3s, waitNodeReady, waitNodeReadyLines } from '../../src/targets/multipass/provision/k3s.js';
import { writeRegistryMirror } from '../../src/targets/multipass/provision/registry-mirror.js';
import { VM_PROJECT_DIR } from '../../src/targets/multipass/vm-scripts.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { World, load, up } from './harness.js';

const worlds: World[] = [];
afterEach(() => {
  for (const w of worlds.splice(0)) w.cleanup();
});
const newWorld = () => {
  const w = new World();
  worlds.push(w);
  return w;
};

describe('image names under a registry prefix', () => {
  it('a prefix ending in the image namespace is not repeated; others get <registry>/<image>; none keeps the name', () => {
    expect(placeImage('registry.example.com/nanofaas', 'nanofaas/control-plane:0.1.0').ref).toBe(
      'registry.example.com/nanofaas/control-plane:0.1.0',
    );
    expect(placeImage('registry.example.com/nanofaas/', 'nanofaas/word-stats-node:0.1.0').ref).toBe(
      'registry.example.com/nanofaas/word-stats-node:0.1.0',
    );
    expect(placeImage('localhost:5000', 'nanofaas/control-plane:0.1.0').ref).toBe('localhost:5000/nanofaas/control-plane:0.1.0');
    expect(placeImage('ghcr.io/team', 'nanofaas/control-plane:0.1.0').ref).toBe('ghcr.io/team/nanofaas/control-plane:0.1.0');
    // A host called nanofaas is a host, not a path.
    expect(placeImage('nanofaas:5000', 'nanofaas/x:1').ref).toBe('nanofaas:5000/nanofaas/x:1');
    expect(placeImage(undefined, 'nanofaas/x:1').ref).toBe('nanofaas/x:1');
  });

  it('the chart renders the same references that are pushed (helm template on the real chart)', () => {
    const functions = loadCatalog(ROOT_DIR).functions.filter((f) => f.runtime === 'node');
    const values = helmValues({
      registry: 'registry.example.com/nanofaas',
      controlPlaneImage: 'nanofaas/control-plane:0.1.0',
      functions,
      admissionEnabled: true,
      pullPolicy: 'IfNotPresent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'nanofaas-values-'));
    try {
      writeFileSync(join(dir, 'values.yaml'), stringify(values));
      const rendered = execFileSync(
        join(ROOT_DIR, 'node_modules/.bin/helm'),
        ['template', 'nanofaas', join(ROOT_DIR, 'helm/nanofaas'), '--namespace', 'nanofaas', '-f', join(dir, 'values.yaml')],
        { encoding: 'utf8' },
      );
      expect(rendered).toContain('image: "registry.example.com/nanofaas/control-plane:0.1.0"');
      for (const fn of functions) expect(rendered).toContain(`registry.example.com/nanofaas/${fn.name}:0.1.0`);
      expect(rendered).not.toContain('nanofaas/nanofaas/');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kubeconfig dry run', () => {
  it("--registry registry.example.com/nanofaas (the README's example) builds and pushes <registry>/<name>:<version>", async () => {
    const w = newWorld().shadow('kubectl', 'helm', 'docker').scenario({});
    const { written, result } = await up(load('kubeconfig', w, w.env({ NANOFAAS_REGISTRY: 'registry.example.com/nanofaas' })), {
      dryRun: true,
      runtimes: ['node'],
    });
    expect(result.ok).toBe(true);
    const plan = written.join('\n');
    expect(plan).toContain(
      "$ docker build --network host --label 'dev.nanofaas.inputs=<inputs hash>' -t registry.example.com/nanofaas/control-plane:0.1.0 ",
    );
    expect(plan).toContain('$ docker push registry.example.com/nanofaas/word-stats-node:0.1.0');
    expect(plan).not.toContain('nanofaas/nanofaas/');
    expect(w.calls()).toEqual([]);
  });

  it('--no-build with a registry: no build, no push, and the plan names the images pulled from it', async () => {
    const w = newWorld().shadow('kubectl', 'helm', 'docker').scenario({});
    const { written } = await up(load('kubeconfig', w, w.env({ NANOFAAS_REGISTRY: 'registry.example.com/nanofaas', SKIP_BUILD: 'true' })), {
      dryRun: true,
      skipBuild: true,
      runtimes: ['node'],
    });
    const plan = written.join('\n');
    expect(plan).toContain('• Use prebuilt images from registry.example.com/nanofaas (--no-build: no build, no push)');
    expect(plan).toContain('$ the cluster pulls registry.example.com/nanofaas/control-plane:0.1.0');
    expect(plan).toContain('$ the cluster pulls registry.example.com/nanofaas/json-transform-node:0.1.0');
    expect(plan).not.toMatch(/\(none\)|docker (build|push)/);
  });
});

describe('multipass dry run shows the real in-VM scripts', () => {
  /** The printed command, split into words by bash itself: what a person pasting it would run. */
  function wordsOf(printed: string): string[] {
    const r = spawnSync('bash', ['-c', `set -- ${printed}\nprintf '%s\\0' "$@"`], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.split('\0').slice(0, -1);
  }
  const lines = (script: string) =>
    script
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);

  it('no placeholders; each script command parses back (bash) to the script that runs, and the script is valid bash', async () => {
    const w = newWorld().scenario({ state: 'absent' });
    const { written, result } = await up(load('multipass', w, w.env()), { dryRun: true, runtimes: ['node'] });
    expect(result.ok).toBe(true);
    expect(w.calls()).toEqual([]);
    const plan = written.join('\n');
    expect(plan).not.toMatch(/<install the missing ones>|<check:|<wait for node Ready>|<what the check printed>/);
    // The plan speaks of the product (it used to print "seed word-stats payload").
    expect(plan).not.toMatch(/\b(seed|original)\b/i);

    // Each `$ ` command up to the next command or step title, without the trailing "(…)" note.
    const commands = plan
      .split(/\n(?= {4}\$ |• )/)
      .filter((c) => c.startsWith('    $ '))
      .map((c) => c.slice('    $ '.length).replace(/'\s+\([^)]*\)$/, "'"))
      // A plain command's note after three spaces: "(unless … already carries the inputs hash)".
      .map((c) => (/ bash -c '/.test(c) ? c : c.replace(/ {3}\([^)]*\)$/, '')));
    const scripted = commands.filter((c) => / bash -c '/.test(c)).map(wordsOf);
    const byScript = (script: string) => scripted.filter((argv) => lines(argv.at(-1)!).join('\n') === lines(script).join('\n'));
    expect(byScript(checkDependencies().text)).toHaveLength(1);
    expect(byScript(installDependencies().text)).toHaveLength(1);
    expect(byScript(installK3s().text)).toHaveLength(1);
    expect(byScript(waitNodeReady().text)).toHaveLength(1);
    // The mirror step restarts k3s only when the file changed, then waits for Ready the same way.
    expect(byScript(writeRegistryMirror('localhost:5000').text)).toHaveLength(1);
    expect(writeRegistryMirror('localhost:5000').text).toContain(waitNodeReadyLines().join('\n'));
    expect(byScript(installDependencies().text)[0]!.slice(0, 6)).toEqual(['multipass', 'exec', 'nanofaas-e2e', '--', 'sudo', 'bash']);
    expect(byScript(installK3s().text)[0]!.at(-1)).toContain(`INSTALL_K3S_EXEC=$'--disable traefik' sh -`);
    // Five provisioning scripts and the push step's read-only digest check; the images are built and
    // pushed by docker itself, argv only, no shell.
    expect(scripted.filter((argv) => argv.at(-1)!.includes('docker-content-digest'))).toHaveLength(1);
    expect(scripted).toHaveLength(6);
    const builds = imageBuilds(
      w.repo,
      loadCatalog(w.repo).functions.filter((f) => f.runtime === 'node'),
    );
    const docker = commands.filter((c) => c.startsWith('multipass exec nanofaas-e2e -- sudo docker ')).map(wordsOf);
    for (const b of builds) {
      const tag = `localhost:5000/${b.image}`;
      expect(docker).toContainEqual([
        ...['multipass', 'exec', 'nanofaas-e2e', '--', 'sudo', 'docker', 'build', '--network', 'host'],
        ...['--label', 'dev.nanofaas.inputs=<inputs hash>', ...dockerBuildArgv(b, tag, VM_PROJECT_DIR, []).slice(1)],
      ]);
      expect(docker).toContainEqual(['multipass', 'exec', 'nanofaas-e2e', '--', 'sudo', 'docker', 'push', tag]);
    }
    expect(docker.filter((argv) => argv[6] === 'build')).toHaveLength(builds.length);
    // The control plane and each node function.
    expect(builds).toHaveLength(3);
    for (const argv of scripted) {
      const check = spawnSync('bash', ['-n', '-c', argv.at(-1)!], { encoding: 'utf8' });
      expect(check.status, `${argv.at(-1)}\n${check.stderr}`).toBe(0);
    }
  });
});
