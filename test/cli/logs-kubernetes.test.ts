/**
 * `nanofaas logs` on the kubeconfig target, with the real @kubernetes/client-node against a FAKE
 * Kubernetes API server on 127.0.0.1 (test/kubernetes/fake-apiserver.ts: no Kubernetes runs
 * here). The pods carry the labels the control plane's kubernetes backend gives them, taken from
 * its own manifests, so a change there that the CLI does not follow fails here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionLabels } from '../../control-plane/src/workloads/kubernetes/manifests.js';
import { NAMESPACE } from '../../src/targets/cluster/release.js';
import { type FakeApiServer, startFakeApiServer } from '../kubernetes/fake-apiserver.js';
import { runInProcess } from './run-in-process.js';

const TOKEN = 'fake-token-for-logs';
let fake: FakeApiServer;
let dir: string;
let env: NodeJS.ProcessEnv;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

const cli = (args: readonly string[], options: { signal?: AbortSignal; onStdout?: (s: string) => void } = {}) =>
  runInProcess(args, { env, ...options });

beforeAll(async () => {
  fake = await startFakeApiServer({ namespace: NAMESPACE, token: TOKEN });
  dir = mkdtempSync(join(tmpdir(), 'nf-cli-logs-k8s-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{ name: fake, cluster: { server: "${fake.url}", insecure-skip-tls-verify: true } }]`,
      `users: [{ name: tester, user: { token: ${TOKEN} } }]`,
      'contexts: [{ name: other, context: { cluster: nowhere, user: tester } }, { name: fake, context: { cluster: fake, user: tester } }]',
      'current-context: other',
      '',
    ].join('\n'),
  );
  env = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    NANOFAAS_TARGET: 'kubeconfig',
    NANOFAAS_KUBE_CONTEXT: 'fake',
    NANOFAAS_STATE_DIR: join(dir, 'state'),
    NO_COLOR: '1',
  };
  delete env.NANOFAAS_URL;

  // Two running replicas of one function, one not started yet; another function beside them.
  fake.addPod('fn-words-aaa', functionLabels('words'), { createdAt: minutesAgo(30) });
  fake.addPod('fn-words-bbb', functionLabels('words'), { createdAt: minutesAgo(20) });
  fake.addPod('fn-words-ccc', functionLabels('words'), { phase: 'Pending' });
  fake.addPod('fn-echo-aaa', functionLabels('echo'), { createdAt: minutesAgo(30) });
  fake.writeLog('fn-words-aaa', 'a: old', minutesAgo(10));
  fake.writeLog('fn-words-aaa', 'a: recent', minutesAgo(1));
  fake.writeLog('fn-words-bbb', 'b: old', minutesAgo(10));
  fake.writeLog('fn-words-bbb', 'b: recent 1', minutesAgo(2));
  fake.writeLog('fn-words-bbb', 'b: recent 2', minutesAgo(1));
  fake.writeLog('fn-echo-aaa', 'echo: hello', minutesAgo(1));
});

afterAll(async () => {
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const logRequests = () => fake.requests.filter((r) => r.path.endsWith('/log'));
const sorted = (text: string) => text.split('\n').filter(Boolean).sort();

describe('logs (kubeconfig target, fake API server)', () => {
  it("finds the function's pods by the backend's labels and prefixes each line with its pod", async () => {
    const r = await cli(['logs', 'words']);
    expect(r.code, r.stderr).toBe(0);
    // The two pods are read at once: lines keep their order within a pod, not across pods.
    expect(sorted(r.stdout)).toEqual(
      [
        '[fn-words-aaa] a: old',
        '[fn-words-aaa] a: recent',
        '[fn-words-bbb] b: old',
        '[fn-words-bbb] b: recent 1',
        '[fn-words-bbb] b: recent 2',
      ].sort(),
    );
    const list = fake.requests.filter((q) => q.path === `/api/v1/namespaces/${NAMESPACE}/pods`).at(-1);
    expect(list?.query.labelSelector?.split(',').sort()).toEqual(
      ['app.kubernetes.io/component=function', 'app.kubernetes.io/managed-by=nanofaas', 'function=words'].sort(),
    );
    // The pending pod is not asked: it has no log yet.
    expect(
      logRequests()
        .map((q) => q.path)
        .sort(),
    ).toEqual([`/api/v1/namespaces/${NAMESPACE}/pods/fn-words-aaa/log`, `/api/v1/namespaces/${NAMESPACE}/pods/fn-words-bbb/log`]);
  });

  it("--since and --tail are the API server's sinceSeconds and tailLines", async () => {
    fake.requests.length = 0;
    const r = await cli(['logs', 'words', '--since', '5m', '--tail', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(sorted(r.stdout)).toEqual(['[fn-words-aaa] a: recent', '[fn-words-bbb] b: recent 2']);
    for (const q of logRequests()) {
      expect(q.query).toMatchObject({ container: 'function', tailLines: '1', follow: 'false' });
      // 300 s, give or take the second the command took.
      expect(Number(q.query.sinceSeconds)).toBeGreaterThanOrEqual(300);
      expect(Number(q.query.sinceSeconds)).toBeLessThanOrEqual(302);
    }
    const at = await cli(['logs', 'words', '--since', minutesAgo(3).toISOString()]);
    expect(sorted(at.stdout)).toEqual(['[fn-words-aaa] a: recent', '[fn-words-bbb] b: recent 1', '[fn-words-bbb] b: recent 2']);
  });

  it('one pod: its lines as written, no prefix; --json has them with where they came from', async () => {
    const r = await cli(['--json', 'logs', 'echo']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true,
      target: 'kubeconfig',
      function: 'echo',
      source: `pods fn-echo-aaa in namespace ${NAMESPACE}`,
      lines: ['echo: hello'],
    });
  });

  it('--follow prints what the pods write next, until Ctrl-C', async () => {
    const interrupt = new AbortController();
    let onOutput = (_: string) => {};
    const printed = (...texts: string[]) =>
      new Promise<void>((resolve) => {
        onOutput = (stdout) => texts.every((t) => stdout.includes(t)) && resolve();
      });
    const old = printed('[fn-words-aaa] a: recent', '[fn-words-bbb] b: recent 2');
    const running = cli(['logs', 'words', '--follow', '--tail', '1'], { signal: interrupt.signal, onStdout: (s) => onOutput(s) });
    await old;
    // A pod's stream is open once its old lines are printed: the fake holds both followers.
    expect(fake.logFollowers('fn-words-aaa') + fake.logFollowers('fn-words-bbb')).toBe(2);
    const next = printed('[fn-words-aaa] a: new');
    fake.writeLog('fn-words-aaa', 'a: new');
    await next;
    interrupt.abort();
    const r = await running;
    expect(r.code, r.stderr).toBe(130);
    expect(sorted(r.stdout)).toEqual(['[fn-words-aaa] a: new', '[fn-words-aaa] a: recent', '[fn-words-bbb] b: recent 2']);
  });

  it('a function without pods, a bad --since: one line each', async () => {
    const none = await cli(['logs', 'nothing']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^nanofaas: function nothing has no pods in namespace nanofaas \(not registered there, or scaled to 0\)$/m);
    const bad = await cli(['logs', 'words', '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain(
      "--since takes a duration such as 30s, 5m, 2h or 1h30m, or an RFC 3339 time such as 2026-12-06T03:00:00Z; got 'yesterday'",
    );
  });
});
