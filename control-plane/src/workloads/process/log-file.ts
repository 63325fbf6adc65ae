/**
 * One append-only log file per function (`${stateDir}/logs/fn-<name>.log`). Children write to it
 * directly through the inherited file descriptor, so their output costs the control plane nothing
 * and is still captured if the control plane dies.
 */
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export function functionLogPath(stateDir: string, name: string): string {
  return path.join(stateDir, 'logs', `fn-${name}.log`);
}

/**
 * Open the log for appending (creating its directory); the caller closes the handle. Private to
 * the control plane's user: a function writes through the descriptor it is given, and must not
 * read other functions' logs even when it runs as another user.
 */
export async function openLogForAppend(file: string): Promise<FileHandle> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  return open(file, 'a', 0o600);
}

/** Where the next run's output will start: the current end of the log. */
export async function logSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

/**
 * The last `maxLines` non-empty lines written from byte `from` on (reads at most the last
 * `maxBytes`). The backend's own run headers ("--- <time> replica …") are left out: the tail is
 * what the runtime said.
 */
export async function readLogTail(file: string, options: { from?: number; maxLines?: number; maxBytes?: number } = {}): Promise<string[]> {
  const { from = 0, maxLines = 15, maxBytes = 4096 } = options;
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const start = Math.max(from, size - maxBytes);
    if (start >= size) return [];
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8').split('\n');
    // The first line may be cut in the middle when the read started after `from`.
    if (start > from) lines.shift();
    return lines.filter((l) => l.trim() !== '' && !RUN_HEADER.test(l)).slice(-maxLines);
  } catch {
    return [];
  } finally {
    await handle?.close();
  }
}

export const RUN_HEADER = /^--- \S+ replica \d+ pid /;

/**
 * One line saying what a runtime's last words were: the `error` (or `msg`) of a JSON log line,
 * else the line itself, cut to `max` characters.
 */
export function lastWords(tail: readonly string[], max = 300): string | undefined {
  const line = tail.at(-1)?.trim();
  if (!line) return undefined;
  let text = line;
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as { error?: unknown; msg?: unknown; message?: unknown };
      const said = [parsed.error, parsed.message, parsed.msg].find((v) => typeof v === 'string' && v !== '');
      if (typeof said === 'string') text = said;
    } catch {
      // not JSON after all: the raw line
    }
  }
  text = text.replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
