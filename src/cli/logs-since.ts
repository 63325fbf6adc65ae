/** `logs --since`: a duration back from now (30s, 5m, 2h, 1h30m, 1d) or an RFC 3339 time. */
import { InvalidArgumentError } from 'commander';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
/** A date and a time with a zone: a time without one would depend on this machine's zone. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The absolute time `value` names, `now` being the moment the command runs. */
export function parseSince(value: string, now = Date.now()): Date {
  const text = value.trim();
  if (DURATION.test(text)) {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(DURATION_PART)) ms += Number(n) * (UNIT_MS[unit as string] ?? 0);
    return new Date(now - ms);
  }
  if (RFC3339.test(text)) {
    const at = Date.parse(text.replace(' ', 'T'));
    if (!Number.isNaN(at)) return new Date(at);
  }
  throw new InvalidArgumentError(
    `--since takes a duration such as 30s, 5m, 2h or 1h30m, or an RFC 3339 time such as 2026-12-06T03:00:00Z; got '${value}'`,
  );
}
