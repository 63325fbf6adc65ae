/**
 * `up --nats` on the REAL local target (built dist/, real nats-server, control plane and node
 * runtime): nats-server -js runs detached with its store in the state directory, the control
 * plane gets NANOFAAS_NATS_URL and keeps its registry in JetStream KV, an async call runs, and
 * `down` stops nats-server and keeps the store. Without nats-server on PATH, `up --nats` fails
 * with how to install it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerEnv } from '../../src/targets/local/nats-step.js';
import { isAlive } from '../../src/util/process.js';
import { createE2EEnv, type E2EEnv, nanofaas, nanofaasJson, type UpDocument } from '../e2e/helpers.js';

const FN = 'word-stats-node';

describe('natsServerEnv', () => {
  it('caps Go at half the cores, at least one, and keeps a GOMAXPROCS the caller set', () => {
    expect(natsServerEnv({}, 1)).toEqual({ GOMAXPROCS: '1' });
    expect(natsServerEnv({}, 2)).toEqual({ GOMAXPROCS: '1' });
    expect(natsServerEnv({}, 3)).toEqual({ GOMAXPROCS: '1' });
    expect(natsServerEnv({}, 16)).toEqual({ GOMAXPROCS: '8' });
    expect(natsServerEnv({ GOMAXPROCS: '3' }, 16)).toEqual({ GOMAXPROCS: '3' });
    expect(natsServerEnv({ GOMAXPROCS: ' ' }, 4)).toEqual({ GOMAXPROCS: '2' });
  });
});

describe('up --nats (local target)', () => {
  let e: E2EEnv;
  let doc: UpDocument;
  let natsRecord: { pid: number; url: string };

  beforeAll(async () => {
    e = createE2EEnv('nanofaas-up-nats-');
    const up = await nanofaasJson<UpDocument>(['up', '--skip-build', '--functions', FN, '--no-prometheus', '--nats'], {
      env: e.env,
      timeoutMs: 180_000,
    });
    if (up.code !== 0 || !up.doc.ok)
      throw new Error(`up --nats failed (exit ${up.code}): ${JSON.stringify(up.doc.error ?? up.doc)}\n${up.stderr}`);
    doc = up.doc;
    natsRecord = JSON.parse(readFileSync(join(e.stateDir, 'pids', 'nats.json'), 'utf8')) as { pid: number; url: string };
  }, 240_000);

  afterAll(async () => {
    await e?.cleanup();
  }, 90_000);

  it('runs nats-server with its store in the state dir, and the control plane in NATS mode against it', async () => {
    expect(natsRecord.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(isAlive(natsRecord.pid)).toBe(true);
    // Go's scheduler capped to half the cores, as natsServerEnv says.
    const natsEnv = readFileSync(`/proc/${natsRecord.pid}/environ`, 'utf8').split('\0');
    expect(natsEnv).toContain(`GOMAXPROCS=${natsServerEnv(e.env).GOMAXPROCS}`);
    const cp = JSON.parse(readFileSync(join(e.stateDir, 'pids', 'control-plane.json'), 'utf8')) as { pid: number };
    expect(readFileSync(`/proc/${cp.pid}/environ`, 'utf8').split('\0')).toContain(`NANOFAAS_NATS_URL=${natsRecord.url}`);
    // The registry lives in the JetStream KV bucket, inside the state dir's store.
    expect(existsSync(join(e.stateDir, 'nats', 'jetstream', '$G', 'streams', 'KV_nanofaas_functions'))).toBe(true);
    expect(existsSync(join(e.stateDir, 'functions.json'))).toBe(false);

    const api = doc.endpoints!.apiUrl;
    const queued = await fetch(`${api}/v1/functions/${FN}:enqueue`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: { text: 'one two two' } }),
    });
    expect(queued.status).toBe(202);
    const { executionId } = (await queued.json()) as { executionId: string };
    const ended = (await (await fetch(`${api}/v1/executions/${executionId}?waitMs=20000`)).json()) as { status: string };
    expect(ended.status).toBe('success');
  });

  it('down stops nats-server after the control plane and keeps its store', async () => {
    const down = await nanofaas(['down'], { env: e.env, timeoutMs: 90_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('nats-server');
    expect(isAlive(natsRecord.pid)).toBe(false);
    expect(existsSync(join(e.stateDir, 'pids', 'nats.json'))).toBe(false);
    expect(existsSync(join(e.stateDir, 'nats', 'jetstream'))).toBe(true);
  });

  it('without nats-server on PATH, up --nats fails and says how to install it', async () => {
    const bare = createE2EEnv('nanofaas-up-nats-missing-');
    try {
      // /usr/bin has node but not Debian's /usr/sbin/nats-server.
      const env = { ...bare.env, PATH: '/usr/bin:/bin' };
      const r = await nanofaas(['up', '--skip-build', '--functions', FN, '--no-prometheus', '--nats'], { env, timeoutMs: 120_000 });
      expect(r.code).not.toBe(0);
      expect(`${r.stdout}\n${r.stderr}`).toContain('apt-get install nats-server');
      expect(existsSync(join(bare.stateDir, 'pids', 'control-plane.json'))).toBe(false);
    } finally {
      await bare.cleanup();
    }
  }, 150_000);
});
