/**
 * `doctor` gives the fix for the situation it found, on each target: Prometheus installed but not
 * running is started by `up` (not installed again); a stopped VM is started with `multipass start`,
 * an absent one is created by `up` with the user's --target; a cluster kubectl cannot reach is
 * reported once per check with how to reach it, not as a kubectl error. Fixes that name a nanofaas
 * command keep the user's global flags (TargetEnv.suggest).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StateDir } from '../../src/state/state-dir.js';
import { localDoctorChecks, prometheusSituation } from '../../src/targets/local/doctor.js';
import { INSTALL_HINT, natsSituation } from '../../src/targets/local/nats-step.js';
import { prometheusBinary } from '../../src/targets/local/prometheus.js';
import { createTarget as createKubeconfig } from '../../src/targets/kubeconfig/index.js';
import { createTarget as createMultipass } from '../../src/targets/multipass/index.js';
import type { CheckResult, DoctorCheck } from '../../src/targets/target.js';
import { ROOT_DIR } from '../../src/util/paths.js';
import { World } from './harness.js';
import { runInProcess } from '../cli/run-in-process.js';

const dirs: string[] = [];
const worlds: World[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const w of worlds.splice(0)) w.cleanup();
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'nanofaas-doctor-'));
  dirs.push(d);
  return d;
};
const suggestFor = (target: string) => (command: string) => `nanofaas ${command} --target ${target}`;
const runAll = async (checks: DoctorCheck[]) =>
  Object.fromEntries(await Promise.all(checks.map(async (c) => [c.id, await c.run()] as const))) as Record<string, CheckResult>;

/** A pid that existed and has exited (the process really ran). */
function exitedPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

describe('local target: Prometheus', () => {
  it('not installed: install it, then up', () => {
    const r = prometheusSituation({
      binary: undefined,
      running: undefined,
      exited: false,
      log: '/s/logs/prometheus.log',
      suggest: suggestFor('local'),
    });
    expect(r.status).toBe('warn');
    expect(r.fix).toBe('apt-get install prometheus (or put `prometheus` on PATH), then nanofaas up --target local');
  });

  it('running: ok', () => {
    expect(
      prometheusSituation({
        binary: '/usr/bin/prometheus',
        running: { pid: 42, url: 'http://127.0.0.1:9090' },
        exited: false,
        log: 'x',
        suggest: suggestFor('local'),
      }),
    ).toEqual({
      status: 'ok',
      detail: 'running (pid 42, http://127.0.0.1:9090)',
    });
  });

  it.skipIf(!prometheusBinary(process.env))(
    'installed but not running (real binary, real state dir): `up` starts it, nothing says install; an exited one points at its log',
    async () => {
      const state = new StateDir(tempDir());
      const checks = localDoctorChecks({ rootDir: ROOT_DIR, state, env: process.env, suggest: suggestFor('local') });
      const check = checks.find((c) => c.id === 'prometheus-local')!;
      const idle = await check.run();
      expect(idle.status).toBe('warn');
      expect(idle.detail).toMatch(/^installed \(.*prometheus\) but not running$/);
      expect(idle.fix).toBe('nanofaas up --target local starts it (unless given --no-prometheus)');

      const pid = await exitedPid();
      state.saveProcess('prometheus', {
        pid,
        pgid: pid,
        command: ['prometheus'],
        log: state.logPath('prometheus'),
        startedAt: new Date().toISOString(),
        url: 'http://127.0.0.1:1',
      });
      const exited = await check.run();
      expect(exited.detail).toContain(`it exited (see ${state.logPath('prometheus')})`);
      expect(exited.fix).not.toContain('apt-get');
    },
  );

  it.skipIf(!prometheusBinary(process.env))(
    '`nanofaas doctor` (in-process, nothing running): neither Prometheus check tells an installed Prometheus to be installed',
    async () => {
      const stateDir = tempDir();
      const { code, stdout } = await runInProcess(['--state-dir', stateDir, '--json', 'doctor'], {
        env: { PATH: process.env.PATH, NANOFAAS_TARGET: 'local' },
      });
      expect(code).toBe(1); // the API is not reachable: that is a failure
      const doc = JSON.parse(stdout) as { checks: { id: string; title: string; detail: string; fix?: string }[] };
      expect(doc.checks.filter((c) => /\b(seed|original)\b/i.test(`${c.title} ${c.detail} ${c.fix ?? ''}`))).toEqual([]);
      const prom = doc.checks.filter((c) => c.id.startsWith('prometheus'));
      expect(prom.map((c) => c.id).sort()).toEqual(['prometheus', 'prometheus-local']);
      for (const c of prom) {
        expect(c.fix).not.toMatch(/apt-get/);
        expect(c.fix).toContain(`nanofaas up --state-dir ${stateDir}`);
      }
    },
  );
});

describe('multipass target: the fix for the VM the checks found', () => {
  const load = (w: World, env = w.env()) => createMultipass({ rootDir: w.repo, state: w.state, env, suggest: suggestFor('multipass') });
  const READY_ANSWERS = [{ match: 'kubectl get namespace nanofaas', stdout: 'namespace/nanofaas\n' }];

  it('stopped VM: `multipass start <vm>` for the VM check and for every cluster check, which run nothing in the VM', async () => {
    const w = new World().scenario({ state: 'Stopped', answers: READY_ANSWERS });
    worlds.push(w);
    const results = await runAll(load(w).doctorChecks());
    expect(results['vm-running']).toEqual({ status: 'fail', detail: 'VM nanofaas-e2e is Stopped', fix: 'multipass start nanofaas-e2e' });
    for (const id of ['namespace', 'admission-env', 'image-pull', 'exec-stdio', 'service-account-token']) {
      expect(results[id], id).toEqual({
        status: 'fail',
        detail: 'not checked: VM nanofaas-e2e is Stopped',
        fix: 'multipass start nanofaas-e2e',
      });
    }
    // One `multipass info` for the whole doctor run, and no kubectl inside a stopped VM.
    expect(w.lines().filter((l) => l.startsWith('exec'))).toEqual([]);
    expect(w.lines().filter((l) => l.startsWith('info'))).toHaveLength(1);
  });

  it('absent VM: `nanofaas up` with the target the user gave creates it', async () => {
    const w = new World().scenario({ state: 'absent' });
    worlds.push(w);
    const results = await runAll(load(w).doctorChecks());
    expect(results['vm-running']).toEqual({
      status: 'fail',
      detail: 'VM nanofaas-e2e does not exist',
      fix: 'nanofaas up --target multipass (creates it)',
    });
    expect(results.namespace?.fix).toBe('nanofaas up --target multipass (creates it)');
  });

  it('running VM without the release: the namespace fix is `nanofaas up` with the target', async () => {
    const w = new World().scenario({
      state: 'Running',
      answers: [{ match: 'kubectl get namespace nanofaas', exitCode: 1, stderr: 'Error from server (NotFound)\n' }],
    });
    worlds.push(w);
    const namespace = await load(w)
      .doctorChecks()
      .find((c) => c.id === 'namespace')!
      .run();
    expect(namespace).toEqual({
      status: 'fail',
      detail: 'namespace nanofaas not found',
      fix: 'nanofaas up --target multipass (helm --create-namespace creates it)',
    });
  });

  it('no multipass on PATH: install it, then `nanofaas up` with the target', async () => {
    const w = new World().scenario({});
    worlds.push(w);
    const [only] = load(w, w.env({ PATH: '/nonexistent' })).doctorChecks();
    expect((await only!.run()).fix).toBe(
      'install it (snap install multipass, brew install multipass, or https://multipass.run), then nanofaas up --target multipass',
    );
  });
});

describe('kubeconfig target: the fix for the cluster the checks found', () => {
  /** A kubectl (real process) that fails like kubectl does when the API server does not answer. */
  function unreachableKubectl(w: World): void {
    const path = join(w.bin, 'kubectl');
    writeFileSync(
      path,
      `#!/usr/bin/env node\nprocess.stderr.write('The connection to the server 10.9.9.9:6443 was refused - did you specify the right host or port?\\n');\nprocess.exit(1);\n`,
    );
    chmodSync(path, 0o755);
  }
  const load = (w: World, env: NodeJS.ProcessEnv) =>
    createKubeconfig({ rootDir: w.repo, state: w.state, env, suggest: suggestFor('kubeconfig') });

  it('unreachable cluster: every check says how to pick or fix the context, once, instead of a kubectl error each', async () => {
    const w = new World().shadow('helm').scenario({});
    worlds.push(w);
    unreachableKubectl(w);
    const results = await runAll(load(w, w.env({ NANOFAAS_KUBE_CONTEXT: 'staging' })).doctorChecks());
    for (const [id, r] of Object.entries(results)) {
      expect(r.status, id).toBe('fail');
      expect(r.detail, id).toBe(
        'not checked: the cluster does not answer (The connection to the server 10.9.9.9:6443 was refused - did you specify the right host or port?)',
      );
      expect(r.fix, id).toBe(
        'kubectl --context staging config get-contexts: pick the context with --context or NANOFAAS_KUBE_CONTEXT, or fix KUBECONFIG',
      );
    }
  });

  it('no kubectl on PATH: one check that says to install it', async () => {
    const w = new World().scenario({});
    worlds.push(w);
    const checks = load(w, w.env({ PATH: '/nonexistent' })).doctorChecks();
    expect(checks.map((c) => c.id)).toEqual(['kubectl-installed']);
    expect((await checks[0]!.run()).fix).toMatch(/^install kubectl .*then nanofaas doctor --target kubeconfig$/);
  });
});

describe('doctor, nats-server (local target)', () => {
  const suggest = suggestFor('local');

  it('says what runs, what is missing and how to install it, and what is too old', () => {
    expect(
      natsSituation({ binary: undefined, versionText: undefined, running: { pid: 7, url: 'nats://127.0.0.1:4222' }, suggest }),
    ).toEqual({
      status: 'ok',
      detail: 'running (pid 7, nats://127.0.0.1:4222)',
    });
    expect(natsSituation({ binary: undefined, versionText: undefined, running: undefined, suggest })).toEqual({
      status: 'warn',
      detail: 'not installed: `up --nats` cannot start it (the default memory mode needs none)',
      fix: INSTALL_HINT,
    });
    expect(natsSituation({ binary: '/opt/nats-server', versionText: 'nats-server: v2.8.4\n', running: undefined, suggest })).toEqual({
      status: 'warn',
      detail: '/opt/nats-server is 2.8.4; NATS mode needs 2.9 or newer',
      fix: INSTALL_HINT,
    });
    expect(natsSituation({ binary: '/opt/nats-server', versionText: 'nats-server: v2.10.22\n', running: undefined, suggest })).toEqual({
      status: 'ok',
      detail: '/opt/nats-server 2.10.22; `nanofaas up --target local --nats` starts it',
    });
    expect(natsSituation({ binary: '/opt/nats-server', versionText: 'segfault', running: undefined, suggest }).status).toBe('warn');
  });

  it('asks the real nats-server for its version; without one on PATH, says how to install it', async () => {
    const state = new StateDir(tempDir());
    const check = (env: NodeJS.ProcessEnv) =>
      localDoctorChecks({ rootDir: ROOT_DIR, state, env, suggest }).find((c) => c.id === 'nats-server')!;
    const found = await check(process.env).run();
    expect(found.status).toBe('ok');
    expect(found.detail).toMatch(/nats-server 2\.\d+\.\d+; `nanofaas up --target local --nats` starts it$/);
    const missing = await check({ PATH: '/nonexistent' }).run();
    expect(missing).toMatchObject({ status: 'warn', fix: INSTALL_HINT });
  });
});
