/**
 * A real Prometheus (Debian's /usr/bin/prometheus, installed by .ci/run) for the tests that check
 * metrics and queries: scraping the given 127.0.0.1 targets every second, with its own TSDB in
 * `dir`, on a free port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface RealPrometheus {
  url: string;
  /** The last 4 kB of its stderr, for failure messages. */
  log(): string;
  /** An instant query's result vector (throws on a query error). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /** Polls `check` (every 200 ms) until it holds; the error names `what` and carries Prometheus's log. */
  waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrometheus(dir: string, targets: readonly string[], job = 'nanofaas-control-plane'): Promise<RealPrometheus> {
  const port = await getPort({ host: '127.0.0.1' });
  const url = `http://127.0.0.1:${port}`;
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      `  - job_name: ${job}`,
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    PROMETHEUS_BIN,
    [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));

  const query: RealPrometheus['query'] = async (expr) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const doc = (await res.json()) as { status: string; error?: string; data?: { result?: [] } };
    if (doc.status !== 'success') throw new Error(`query failed: ${expr}: ${doc.error}`);
    return doc.data?.result ?? [];
  };
  // Test-side wait on an external system that scrapes on its own clock; not product code.
  const waitFor: RealPrometheus['waitFor'] = async (check, timeoutMs, what) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const stop = (): Promise<void> => stopChild(child);
  const prometheus: RealPrometheus = { url, log: () => log, query, waitFor, stop };
  try {
    await waitFor(async () => (await fetch(`${url}/-/ready`)).ok, 30_000, 'Prometheus /-/ready');
  } catch (error) {
    await stop();
    throw error;
  }
  return prometheus;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited (at once if it already had). */
export function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
