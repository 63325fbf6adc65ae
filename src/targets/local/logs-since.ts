/**
 * `logs --since` on the process backend's log file. Runtimes write to it directly (no per-line
 * stamp is added: the control plane is not in the path), so a line's time is what it says itself:
 * the backend's run header (`--- <time> replica …`), a JSON log line's `time`, or a leading
 * RFC 3339 time. A line without one was written between the stamped lines around it, so it is
 * taken to be as new as the next stamped line (the file's last change for the trailing ones).
 * That way `--since` never hides a line written after the cut; it may show unstamped lines from
 * shortly before it (docs/design.md §7.1).
 */
import type { FileHandle } from 'node:fs/promises';

/** The process backend's run header (control-plane/src/workloads/process/replica.ts). */
const RUN_HEADER_TIME = /^--- (\S+) replica \d+ pid /;
const LEADING_TIME = /^\[?(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}:?\d{2}))/;

/** When a line says it was written, in ms since the epoch; undefined when it does not say. */
export function lineTime(line: string): number | undefined {
  const header = RUN_HEADER_TIME.exec(line);
  if (header) return parseTime(header[1]);
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      for (const key of ['time', 'timestamp', 'ts', '@timestamp']) {
        const value = parsed[key];
        // Epoch numbers: pino's ms, or seconds from loggers that write them.
        if (typeof value === 'number' && Number.isFinite(value)) return value > 1e11 ? value : value * 1000;
        if (typeof value === 'string') return parseTime(value);
      }
    } catch {
      // not JSON: try the leading time below
    }
  }
  const leading = LEADING_TIME.exec(line);
  return leading ? parseTime(leading[1]) : undefined;
}

function parseTime(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text.replace(' ', 'T').replace(',', '.'));
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * The byte offset from which the file holds lines written at or after `since` (ms), by the rule
 * above: the line after the last stamped line older than `since`, once a stamped line at or after
 * it is found; past the end when there is none and the file has not changed since then.
 */
export async function sinceOffset(handle: FileHandle, size: number, modifiedMs: number, since: number): Promise<number> {
  const buffer = Buffer.alloc(64 * 1024);
  let candidate = 0;
  let lineStart = 0;
  let carry: Buffer = Buffer.alloc(0);
  let position = 0;
  const onLine = (line: Buffer, end: number): number | undefined => {
    const at = lineTime(line.toString('utf8'));
    if (at === undefined) return undefined;
    if (at >= since) return candidate;
    candidate = end;
    return undefined;
  };
  while (position < size) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, size - position), position);
    if (bytesRead === 0) break;
    const chunk = carry.length > 0 ? Buffer.concat([carry, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
    const chunkStart = lineStart;
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      const found = onLine(chunk.subarray(from, nl), chunkStart + nl + 1);
      if (found !== undefined) return found;
      from = nl + 1;
    }
    lineStart = chunkStart + from;
    carry = Buffer.from(chunk.subarray(from));
    position += bytesRead;
  }
  if (carry.length > 0) {
    const found = onLine(carry, size);
    if (found !== undefined) return found;
  }
  return modifiedMs >= since ? candidate : size;
}
