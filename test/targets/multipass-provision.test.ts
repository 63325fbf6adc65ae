/**
 * The in-VM provisioning scripts, built with zx, run by the real bash of this machine. apt-get,
 * systemctl, curl, docker, k3s… are FAKE stubs on a PATH of their own that record their argv
 * (one argument per line) and, where it matters, install the command they were asked for; the
 * scripts' own logic (what is missing, whether a file changed, what the values become after
 * bash reads zx's quoting) is real.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildImages } from '../../src/images/build.js';
import { inputHash } from '../../src/images/input-hash.js';
import { pushImages } from '../../src/images/push.js';
import { dockerBuildArgv, type ImageBuild } from '../../src/targets/cluster/images.js';
import { LocalHost } from '../../src/targets/host/local-host.js';
import { checkDependencies, installDependencies } from '../../src/targets/multipass/provision/dependencies.js';
import { installK3s } from '../../src/targets/multipass/provision/k3s.js';
import { writeRegistryMirror } from '../../src/targets/multipass/provision/registry-mirror.js';
import type { HostScript } from '../../src/targets/multipass/provision/script.js';
import { VM_PROJECT_DIR, registriesYaml } from '../../src/targets/multipass/vm-scripts.js';
import { ROOT_DIR } from '../../src/util/paths.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A machine of stubs: only the listed real tools, plus whatever stubs a test writes. */
function machine() {
  const dir = mkdtempSync(join(tmpdir(), 'nanofaas-provision-'));
  dirs.push(dir);
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  spawnSync('mkdir', [bin]);
  writeFileSync(log, '');
  for (const tool of ['bash', 'sed', 'head', 'cmp', 'grep', 'mkdir', 'sh', 'cat', 'chmod']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  const stub = (name: string, body = '') => {
    const path = join(bin, name);
    writeFileSync(path, `#!/bin/bash\n{ echo "--- ${name}"; printf '%s\\n' "$@"; } >> ${JSON.stringify(log)}\n${body}\n`);
    chmodSync(path, 0o755);
  };
  const run = (s: HostScript) => {
    const r = spawnSync('/bin/bash', ['-c', s.text], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: bin, BIN: bin, SUDO_USER: 'ubuntu' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  /** Each recorded call as its argv (program first). */
  const calls = () =>
    readFileSync(log, 'utf8')
      .split('--- ')
      .filter(Boolean)
      .map((c) => c.split('\n').slice(0, -1));
  return { dir, bin, stub, run, calls };
}

describe('dependencies: only the missing ones are installed, a second run installs nothing', () => {
  it('docker present, JDK 17 too old, helm and node absent', () => {
    const m = machine();
    m.stub('docker');
    m.stub('java', `echo 'openjdk version "17.0.2" 2022-01-18' >&2`);
    m.stub('systemctl');
    m.stub('usermod');
    // apt-get and the upstream installers put the real command in place, as they would.
    m.stub(
      'apt-get',
      [
        'for a in "$@"; do case "$a" in',
        `  openjdk-21-jdk-headless) printf '#!/bin/bash\\necho "openjdk version \\\\"21.0.2\\\\" 2024-01-16" >&2\\n' > "$BIN/java" ;;`,
        `  nodejs) printf '#!/bin/bash\\n' > "$BIN/node"; chmod +x "$BIN/node" ;;`,
        'esac; done',
      ].join('\n'),
    );
    m.stub('curl', `case "$*" in *get-helm-3*) echo 'printf "#!/bin/bash\\n" > "$BIN/helm"; chmod +x "$BIN/helm"' ;; *) echo ':' ;; esac`);

    const check = m.run(checkDependencies());
    expect(check).toMatchObject({ status: 0, stdout: 'java helm node\n' });
    expect(m.calls().map((c) => c[0])).toEqual(['java']);

    const first = m.run(installDependencies());
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe('installing java\ninstalling helm\ninstalling node\n');
    const installs = m.calls().filter((c) => c[0] === 'apt-get' || c[0] === 'curl');
    expect(installs).toEqual([
      ['apt-get', 'update', '-qq'],
      ['apt-get', 'install', '-y', '-qq', 'openjdk-21-jdk-headless'],
      ['curl', '-fsSL', 'https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3'],
      ['curl', '-fsSL', 'https://deb.nodesource.com/setup_20.x'],
      ['apt-get', 'install', '-y', '-qq', 'nodejs'],
    ]);
    // Docker was there: not reinstalled, the service and group left alone.
    expect(m.calls().some((c) => ['systemctl', 'usermod'].includes(c[0]!))).toBe(false);

    expect(m.run(checkDependencies())).toMatchObject({ status: 0, stdout: '\n' });
    writeFileSync(join(m.dir, 'calls.log'), '');
    const second = m.run(installDependencies());
    expect(second).toMatchObject({ status: 0, stdout: 'all installed\n' });
    expect(m.calls().filter((c) => c[0] === 'apt-get' || c[0] === 'curl')).toEqual([]);
  });

  it('nothing there: docker comes with its service and the login user in its group; a failing installer stops the script', () => {
    const m = machine();
    m.stub('systemctl');
    m.stub('usermod');
    m.stub('apt-get');
    m.stub('curl', 'exit 22');
    const r = m.run(installDependencies());
    expect(r.status).toBe(22);
    expect(r.stderr).toBe('');
    const calls = m.calls();
    expect(calls).toContainEqual(['apt-get', 'install', '-y', '-qq', 'docker.io', 'curl']);
    expect(calls).toContainEqual(['systemctl', 'enable', '--now', 'docker']);
    expect(calls).toContainEqual(['usermod', '-aG', 'docker', 'ubuntu']);
    // curl failed for helm: pipefail stops the script before node.
    expect(calls.filter((c) => c[0] === 'curl')).toEqual([
      ['curl', '-fsSL', 'https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3'],
    ]);
    expect(r.stdout).not.toContain('installing node');
  });
});

describe('k3s installer', () => {
  it('the installer reads INSTALL_K3S_EXEC as one value: --disable traefik', () => {
    const m = machine();
    m.stub('curl', `echo 'printf "%s\\n" "$INSTALL_K3S_EXEC"'`);
    const r = m.run(installK3s());
    expect(r).toMatchObject({ status: 0, stdout: '--disable traefik\n' });
    expect(m.calls()).toEqual([['curl', '-sfL', 'https://get.k3s.io']]);
  });
});

describe('registries.yaml', () => {
  it('written and k3s restarted when different; a second run restarts nothing', () => {
    const m = machine();
    m.stub('systemctl');
    m.stub('k3s', 'if [ "$2" = get ]; then echo node/vm; fi');
    const file = join(m.dir, 'etc/rancher/k3s/registries.yaml');
    const first = m.run(writeRegistryMirror('localhost:5050', file));
    expect(first.status, first.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(registriesYaml('localhost:5050'));
    expect(m.calls()).toEqual([
      ['systemctl', 'restart', 'k3s'],
      ['k3s', 'kubectl', 'get', 'nodes', '-o', 'name'],
      ['k3s', 'kubectl', 'wait', '--for=condition=Ready', 'node', '--all', '--timeout=180s'],
    ]);

    writeFileSync(join(m.dir, 'calls.log'), '');
    const second = m.run(writeRegistryMirror('localhost:5050', file));
    expect(second).toMatchObject({ status: 0, stdout: 'unchanged: k3s not restarted\n' });
    expect(m.calls()).toEqual([]);

    const other = m.run(writeRegistryMirror('localhost:5000', file));
    expect(other.status).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(registriesYaml('localhost:5000'));
    expect(m.calls()[0]).toEqual(['systemctl', 'restart', 'k3s']);
  });
});

describe('image build and push', () => {
  it('docker receives exactly the argv of the build and the push, values with spaces, quotes, $ and newlines included', async () => {
    const m = machine();
    m.stub('docker');
    const build: ImageBuild = {
      image: 'nanofaas/x:1',
      dockerfile: 'runtimes/node/Dockerfile',
      context: '.',
      buildArgs: { FUNCTION: `it's "quoted" $HOME \`x\`\nline` },
    };
    const tag = 'localhost:5000/nanofaas/x:1';
    // As in the VM: the tree's copy is elsewhere (repoDir), and docker is a prefix of argv.
    const on = { host: new LocalHost(), docker: [join(m.bin, 'docker')] };
    const [built] = await buildImages([build], { ...on, rootDir: ROOT_DIR, repoDir: VM_PROJECT_DIR, tag: () => tag });
    await pushImages([{ source: tag, ref: tag }], on);
    // The stub answers every `image inspect` with nothing: no base ids, no label.
    const hash = await inputHash(ROOT_DIR, build, async () => undefined);
    expect(built).toMatchObject({ tag, hash, result: 'built' });
    const calls = m.calls().filter((c) => c[1] !== 'image');
    expect(calls).toEqual([
      [
        'docker',
        'build',
        '--network',
        'host',
        '--label',
        `dev.nanofaas.inputs=${hash}`,
        ...dockerBuildArgv(build, tag, VM_PROJECT_DIR, []).slice(1),
      ].flatMap((a) => a.split('\n')),
      ['docker', 'push', tag],
    ]);
  });
});
