/**
 * Fault: a function whose handler never returns is flooded while a healthy function is called
 * beside it. Functions never share a queue or a slot, so the healthy one keeps answering
 * correctly; every hung call ends as 504 TIMEOUT in format; the hung commands are killed.
 *
 * The runtime's own TIMEOUT_MS is set below the control plane's `timeoutMs`, so the runtime
 * times out first and answers 504 TIMEOUT itself, as it does whenever its timer wins the race
 * against the control plane's (equal timeouts under load): the caller must still get 504 TIMEOUT
 * (docs/design.md §3.9 "timeout: 504"), not a function error.
 *
 * Latency is checked only loosely (no healthy call waits as long as the hung function's timeout):
 * exact figures belong in a benchmark, not in a test on a shared 2-core machine.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setInterval as ticks } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../control-plane/helpers.js';
import {
  api,
  Cleanup,
  inPool,
  isFormattedError,
  markedStateDir,
  register,
  startFaultControlPlane,
  waitReady,
  type Reply,
} from './harness.js';
import { listing, markedCommands, markedProcesses, newMarker, waitUntilGone } from './marked-processes.js';

const marker = newMarker();
const cleanup = new Cleanup([marker]);
afterAll(() => cleanup.run());

/** The runtime's TIMEOUT_MS: the watchdog kills the hung command and answers 504 then. */
const HUNG_TIMEOUT_MS = 1_000;
/** The control plane's deadline for the same calls. */
const CONTROL_PLANE_TIMEOUT_MS = 1_500;
/** Pace of each healthy client: a load rate (calls keep coming all through the flood), not a wait. */
const HEALTHY_TICK_MS = 20;
const FLOOD_CLIENTS = 16;
const FLOOD_CALLS = 48;
const HEALTHY_CLIENTS = 4;

interface Vector {
  name: string;
  input: unknown;
  output?: unknown;
}

/** `{"502 FUNCTION_ERROR": 48}`: short enough to read in a failure message. */
function tally(replies: readonly Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of replies) {
    const key = `${r.status} ${String(r.body?.error ?? r.text.slice(0, 40))}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
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
      timeoutMs: CONTROL_PLANE_TIMEOUT_MS,
      concurrency: FLOOD_CLIENTS,
      maxRetries: 0,
      env: { FAULTS_MARKER: marker.tag, WATCHDOG_CONCURRENCY: String(FLOOD_CLIENTS), TIMEOUT_MS: String(HUNG_TIMEOUT_MS) },
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
      let i = client;
      for await (const _tick of ticks(HEALTHY_TICK_MS)) {
        if (!flooding) break;
        const vector = vectors[i % vectors.length]!;
        i += HEALTHY_CLIENTS;
        healthy.push({ vector, reply: await api(base, 'POST', '/v1/functions/healthy:invoke', { input: vector.input }, 20_000) });
      }
    };
    const [hungReplies] = await Promise.all([flood, ...Array.from({ length: HEALTHY_CLIENTS }, (_, c) => healthyClient(c))]);

    const notTimedOut = hungReplies.filter(
      (r) => r.status !== 504 || !isFormattedError(r) || r.body.error !== 'TIMEOUT' || r.body.status !== 'timeout',
    );
    // Soft, so the healthy-side and cleanup checks still run and report when this one fails.
    expect.soft(tally(notTimedOut), notTimedOut[0]?.text).toEqual({});

    // The flood lasts three hung timeouts, so the healthy function was called all through it.
    expect(healthy.length).toBeGreaterThanOrEqual(HEALTHY_CLIENTS * 10);
    const wrong = healthy.filter(({ vector, reply }) => reply.status !== 200 || !isDeepStrictEqual(reply.body?.output, vector.output));
    expect(wrong.map(({ vector, reply }) => `${vector.name}: ${reply.status} ${reply.text}`)).toEqual([]);
    const slowest = Math.max(...healthy.map(({ reply }) => reply.ms));
    expect(slowest, `the slowest of ${healthy.length} healthy calls waited as long as a hung one`).toBeLessThan(HUNG_TIMEOUT_MS);

    const hungCommands = await waitUntilGone(() => markedCommands(marker));
    expect(hungCommands, `hung handler processes still running: ${listing(hungCommands)}`).toEqual([]);

    expect(await cp.stop('SIGTERM')).toBe(0);
    const left = await waitUntilGone(() => markedProcesses(marker));
    expect(left, listing(left)).toEqual([]);
  });
});
