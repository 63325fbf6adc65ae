/**
 * FIXTURE, written by hand from k6's documented `--out json` format (k6 cannot run here): the
 * Metric declarations, then Points with nanosecond RFC 3339 times and a zone offset, one
 * http_reqs / http_req_duration / http_req_failed triple per request, a vus gauge every second,
 * and noise the conversion ignores (other metrics, checks, data_sent).
 */
export function k6PointsFixture(): string {
  const lines: unknown[] = [
    { type: 'Metric', data: { type: 'gauge', contains: 'default', thresholds: [], submetrics: null }, metric: 'vus' },
    {
      type: 'Metric',
      data: { type: 'trend', contains: 'time', thresholds: ['p(95)<3000'], submetrics: null },
      metric: 'http_req_duration',
    },
    { type: 'Metric', data: { type: 'rate', contains: 'default', thresholds: ['rate<0.15'], submetrics: null }, metric: 'http_req_failed' },
  ];
  const at = (ms: number) => {
    const whole = new Date(Date.UTC(2026, 0, 1, 9, 0, 0) + ms);
    // k6 writes local time with an offset and nanoseconds: 2026-01-01T10:00:00.123456789+01:00.
    const local = new Date(whole.getTime() + 3600_000).toISOString().replace('Z', '');
    return `${local}456789+01:00`;
  };
  const tags = { method: 'POST', name: 'http://127.0.0.1:8080/v1/functions/word-stats-python:invoke', scenario: 'load', status: '200' };
  const request = (ms: number, duration: number, failed: boolean) => {
    lines.push({ type: 'Point', data: { time: at(ms), value: 1, tags }, metric: 'http_reqs' });
    lines.push({ type: 'Point', data: { time: at(ms), value: duration, tags }, metric: 'http_req_duration' });
    lines.push({ type: 'Point', data: { time: at(ms), value: failed ? 1 : 0, tags }, metric: 'http_req_failed' });
    lines.push({ type: 'Point', data: { time: at(ms), value: 0.2, tags }, metric: 'http_req_waiting' });
  };
  lines.push({ type: 'Point', data: { time: at(0), value: 1, tags: null }, metric: 'vus' });
  for (let i = 0; i < 20; i++) request(40 + i * 45, 2 + (i % 5), false); // second 0: 20 requests, 2–6 ms
  lines.push({ type: 'Point', data: { time: at(1000), value: 3, tags: null }, metric: 'vus' });
  for (let i = 0; i < 30; i++) request(1010 + i * 30, i < 27 ? 10 : 150, i === 29); // second 1: slow tail, one failure
  lines.push({ type: 'Point', data: { time: at(2000), value: 3, tags: null }, metric: 'vus' });
  lines.push({ type: 'Point', data: { time: at(2100), value: 2, tags: { scenario: 'load' } }, metric: 'dropped_iterations' });
  lines.push({ type: 'Point', data: { time: at(2500), value: 1, tags: { check: 'status is 200' } }, metric: 'checks' });
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}
