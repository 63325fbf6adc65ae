/**
 * One append-only log file per function (`${stateDir}/logs/fn-<name>.log`). Children write to it
 * directly through the inherited file descriptor, so their output costs the control plane nothing
 * and is still captured if the control plane dies.
 */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
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

/** The last `maxLines` non-empty lines of the log (reads at most the last `maxBytes`). */
export async function readLogTail(file: string, maxLines = 15, maxBytes = 4096): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n').filter((l) => l.trim() !== '');
    // The first line may be cut in the middle when the read started mid-file.
    if (size > maxBytes) lines.shift();
    return lines.slice(-maxLines).join('\n');
  } catch {
    return '';
  } finally {
    await handle?.close();
  }
}
