/**
 * `logs --since`: the value's syntax, and on the process backend's log file (where runtimes write
 * without a per-line stamp) which lines count as written since then.
 */
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/logs-since.js';
import { lineTime, sinceOffset } from '../../src/targets/local/logs-since.js';

const NOW = Date.parse('2026-12-06T04:00:00Z');

describe('parseSince', () => {
  it('takes durations back from now and RFC 3339 times', () => {
    expect(parseSince('30s', NOW).toISOString()).toBe('2026-12-06T03:59:30.000Z');
    expect(parseSince('5m', NOW).toISOString()).toBe('2026-12-06T03:55:00.000Z');
    expect(parseSince('2h', NOW).toISOString()).toBe('2026-12-06T02:00:00.000Z');
    expect(parseSince('1h30m', NOW).toISOString()).toBe('2026-12-06T02:30:00.000Z');
    expect(parseSince('1d', NOW).toISOString()).toBe('2026-12-05T04:00:00.000Z');
    expect(parseSince('1.5s', NOW).toISOString()).toBe('2026-12-06T03:59:58.500Z');
    expect(parseSince('2026-12-06T03:00:00Z', NOW).toISOString()).toBe('2026-12-06T03:00:00.000Z');
    expect(parseSince('2026-12-06T05:00:00.250+02:00', NOW).toISOString()).toBe('2026-12-06T03:00:00.250Z');
  });

  it('refuses anything else with one line that says what it takes', () => {
    for (const bad of ['', '5', 'm', '-5m', '5 minutes', 'yesterday', '2026-12-06', '2026-12-06T03:00:00', '2026-13-06T03:00:00Z']) {
      expect(() => parseSince(bad, NOW), bad).toThrow(
        `--since takes a duration such as 30s, 5m, 2h or 1h30m, or an RFC 3339 time such as 2026-12-06T03:00:00Z; got '${bad}'`,
      );
    }
  });
});

describe('lineTime', () => {
  it('reads the run header, a JSON line and a leading time; nothing else', () => {
    expect(lineTime('--- 2026-12-06T03:00:00.000Z replica 0 pid 12 port 4000: node x')).toBe(Date.parse('2026-12-06T03:00:00Z'));
    expect(lineTime('{"time":"2026-12-06T03:01:00.000Z","level":"info","msg":"runtime listening"}')).toBe(
      Date.parse('2026-12-06T03:01:00Z'),
    );
    expect(lineTime('{"level":30,"time":1796526060000,"msg":"pino"}')).toBe(1796526060000);
    expect(lineTime('{"ts":1796526060.5,"msg":"seconds"}')).toBe(1796526060500);
    expect(lineTime('2026-12-06 03:02:00,123+00:00 INFO something')).toBe(Date.parse('2026-12-06T03:02:00.123Z'));
    expect(lineTime('[2026-12-06T03:02:00Z] bracketed')).toBe(Date.parse('2026-12-06T03:02:00Z'));
    expect(lineTime('callback for abc failed: HTTP 500')).toBeUndefined();
    expect(lineTime('{"msg":"no time"}')).toBeUndefined();
    expect(lineTime('2026-12-06T03:02:00 no zone')).toBeUndefined();
  });
});

describe('sinceOffset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nf-logs-since-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const LINES = [
    'unstamped before any header',
    '--- 2026-12-06T03:00:00.000Z replica 0 pid 1 port 1: node',
    '{"time":"2026-12-06T03:00:01.000Z","msg":"runtime listening"}',
    'callback for a failed: HTTP 500',
    'callback for b failed: HTTP 500',
    '--- 2026-12-06T03:30:00.000Z replica 1 pid 2 port 2: node',
    '{"time":"2026-12-06T03:30:01.000Z","msg":"runtime listening"}',
    'trailing unstamped',
  ];

  /** The lines `--since at` prints for the file, whose last change was at `modified`. */
  async function linesSince(at: string, modified: string, lines = LINES): Promise<string[]> {
    const file = join(dir, `log-${Math.random()}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    utimesSync(file, new Date(modified), new Date(modified));
    const handle = await open(file, 'r');
    try {
      const { size, mtimeMs } = await handle.stat();
      const from = await sinceOffset(handle, size, mtimeMs, Date.parse(at));
      const buffer = Buffer.alloc(size - from);
      await handle.read(buffer, 0, buffer.length, from);
      return buffer.toString('utf8').split('\n').slice(0, -1);
    } finally {
      await handle.close();
    }
  }

  it('an unstamped line counts as new as the next stamped line: never hidden when it may be newer', async () => {
    expect(await linesSince('2026-12-06T02:00:00Z', '2026-12-06T03:40:00Z')).toEqual(LINES);
    // Between replica 0's start and replica 1's: the callback lines may be newer than the cut.
    expect(await linesSince('2026-12-06T03:10:00Z', '2026-12-06T03:40:00Z')).toEqual(LINES.slice(3));
    expect(await linesSince('2026-12-06T03:30:00Z', '2026-12-06T03:40:00Z')).toEqual(LINES.slice(3));
    expect(await linesSince('2026-12-06T03:30:00.500Z', '2026-12-06T03:40:00Z')).toEqual(LINES.slice(6));
  });

  it('past the last stamp, the file’s last change decides for the trailing lines', async () => {
    expect(await linesSince('2026-12-06T03:35:00Z', '2026-12-06T03:40:00Z')).toEqual(['trailing unstamped']);
    expect(await linesSince('2026-12-06T03:45:00Z', '2026-12-06T03:40:00Z')).toEqual([]);
  });

  it('reads a file larger than its buffer, a line split across reads included', async () => {
    const filler = Array.from({ length: 3000 }, (_, i) => `unstamped filler line ${i} ${'x'.repeat(40)}`);
    const lines = [
      '--- 2026-12-06T03:00:00.000Z replica 0 pid 1 port 1: node',
      ...filler,
      '{"time":"2026-12-06T03:50:00Z","msg":"late"}',
      'last',
    ];
    expect(await linesSince('2026-12-06T03:20:00Z', '2026-12-06T03:50:00Z', lines)).toEqual(lines.slice(1));
    expect(await linesSince('2026-12-06T03:55:00Z', '2026-12-06T03:50:00Z', lines)).toEqual([]);
    const late = await linesSince('2026-12-06T03:55:00Z', '2026-12-06T03:56:00Z', lines);
    expect(late).toEqual(['last']);
  });
});
