/**
 * Fault: a function whose handler never returns is flooded while a healthy function is called
 * beside it. Functions never share a queue or a slot, so the healthy one keeps answering
 * correctly; every hung call ends as 504 TIMEOUT in format; the hung commands are killed.
 * Latency is checked only loosely (no healthy call waits as long as the hung function's timeout):
 * exact figures belong in a benchmark, not in a test on a shared 2-core machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../control-plane/helpers.js';
import { api, Cleanup, inPool, isFormattedError, markedStateDir, register, startFaultControlPlane, waitReady, type Reply } from './harness.js';
import { listing, markedCommands, markedProcesses, newMarker, waitUntilGone } from './marked-processes.js';

const marker = newMarker();
const cleanup = new Cleanup([marker]);
afterAll(() => cleanup.run());

const HUNG_TIMEOUT_MS = 1_500;
const FLOOD_CLIENTS = 16;
const FLOOD_CALLS = 48;
const HEALTHY_CLIENTS = 4;

interface Vector {
  name: string;
  input: unknown;
  output?: unknown;
}

describe('a hung function beside a healthy one', () => {
  it('keeps the healthy function answering, times the hung calls out in format and kills their commands', async () => {
    const catalog = JSON.parse(readFileSync(join(ROOT, 'functions/catalog.json'), 'utf8')) as {
      functions: Array<{ name: string; runtime: string; handler: string; spec: Record<string, unknown> }>;
    };
    const healthySpec = catalog.functions.find((f) => f.name === 'word-stats-node')!;
    const vectors = (JSON.parse(readFileSync(join(ROOT, 'functions/testdata/word-stats.json'), 'utf8')) as Vector[]).filter(
      (v) => v.output !== undefined,
    );
    expect(vectors.length).toBeGreaterThan(0);

    const stateDir = cleanup.dir(markedStateDir(marker));
    const cp = cleanup.plane(await startFaultControlPlane(stateDir));
    const base = cp.apiUrl;
    await register(base, {
      name: 'hung',
      runtime: 'exec',
      runtimeMode: 'STDIO',
      handler: `sleep ${marker.token}`,
      timeoutMs: HUNG_TIMEOUT_MS,
      concurrency: FLOOD_CLIENTS,
      maxRetries: 0,
      env: { FAULTS_MARKER: marker.tag, WATCHDOG_CONCURRENCY: String(FLOOD_CLIENTS) },
    });
    await register(base, {
      ...healthySpec.spec,
      name: 'healthy',
      runtime: healthySpec.runtime,
      handler: healthySpec.handler,
      env: { FAULTS_MARKER: marker.tag },
    });
    await Promise.all([waitReady(base, 'hung'), waitReady(base, 'healthy')]);

    let flooding = true;
    const flood = inPool(FLOOD_CALLS, FLOOD_CLIENTS, () =>
      api(base, 'POST', '/v1/functions/hung:invoke', { input: { hang: true } }, 20_000),
    ).finally(() => (flooding = false));
    const healthy: Array<{ vector: Vector; reply: Reply }> = [];
    const healthyClient = async (client: number) => {
      for (let i = client; flooding; i += HEALTHY_CLIENTS) {
        const vector = vectors[i % vectors.length]!;
        healthy.push({ vector, reply: await api(base, 'POST', '/v1/functions/healthy:invoke', { input: vector.input }, 20_000) });
      }
    };
    const [hungReplies] = await Promise.all([flood, ...Array.from({ length: HEALTHY_CLIENTS }, (_, c) => healthyClient(c))]);

    const notTimedOut = hungReplies.filter(
      (r) => r.status !== 504 || !isFormattedError(r) || r.body.error !== 'TIMEOUT' || r.body.status !== 'timeout',
    );
    expect(notTimedOut.map((r) => `${r.status} ${r.text}`)).toEqual([]);

    // The flood lasts at least three hung timeouts, so the healthy function was called throughout.
    expect(healthy.length).toBeGreaterThanOrEqual(HEALTHY_CLIENTS * 3);
    const wrong = healthy.filter(({ vector, reply }) => reply.status !== 200 || !isDeepStrictEqual(reply.body?.output, vector.output));
    expect(wrong.map(({ vector, reply }) => `${vector.name}: ${reply.status} ${reply.text}`)).toEqual([]);
    const slowest = Math.max(...healthy.map(({ reply }) => reply.ms));
    expect(slowest, 'a healthy call waited as long as a hung one').toBeLessThan(HUNG_TIMEOUT_MS);

    const hungCommands = await waitUntilGone(() => markedCommands(marker));
    expect(hungCommands, `hung handler processes still running: ${listing(hungCommands)}`).toEqual([]);

    expect(await cp.stop('SIGTERM')).toBe(0);
    const left = await waitUntilGone(() => markedProcesses(marker));
    expect(left, listing(left)).toEqual([]);
  });
});
