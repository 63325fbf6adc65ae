/** `logs` on the process backend: the function's log file in the state directory, optionally followed. */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { LogsOptions, TargetEnv } from '../target.js';
import { lineSplitter } from '../../util/lines.js';
import { recordedReplicas, replicaStateDir } from './control-plane.js';
import { sinceOffset } from './logs-since.js';

/** The control plane's state directory is the CLI's (local/control-plane.ts passes it on). */
export function functionLogFile(target: TargetEnv, fn: string): string {
  return join(target.state.path, 'logs', `fn-${fn}.log`);
}

/**
 * The function's log, or with `up --replicas` every control-plane replica's log of it (each
 * replica runs its own runtimes, which write under its state dir); then each line starts with
 * `[control plane k]`. Without --follow the files are printed one after the other.
 */
export async function localLogs(target: TargetEnv, fn: string, options: LogsOptions): Promise<{ source: string }> {
  const others = recordedReplicas(target.state)
    .filter((k) => k > 0)
    .map((k) => ({ k, file: join(replicaStateDir(target.state, k), 'logs', `fn-${fn}.log`) }))
    .filter(({ file }) => existsSync(file));
  if (others.length === 0) return readLog(fn, functionLogFile(target, fn), options);
  const files = [{ k: 0, file: functionLogFile(target, fn) }, ...others].filter(({ k, file }) => k > 0 || existsSync(file));
  const read = (k: number, file: string) => readLog(fn, file, { ...options, line: (text) => options.line(`[control plane ${k}] ${text}`) });
  if (options.follow) await Promise.all(files.map(({ k, file }) => read(k, file)));
  else for (const { k, file } of files) await read(k, file);
  return { source: files.map(({ file }) => file).join(', ') };
}

async function readLog(fn: string, file: string, options: LogsOptions): Promise<{ source: string }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new Error(`function ${fn} has no log here yet (${file}): it has never been started on this target`);
  }
  try {
    const split = lineSplitter(options.line);
    const { size, mtimeMs } = await handle.stat();
    const from = options.since === undefined ? 0 : await sinceOffset(handle, size, mtimeMs, options.since.getTime());
    let position = Math.max(from, options.tail === undefined ? 0 : await tailOffset(handle, size, options.tail));
    const readTo = async (end: number) => {
      const buffer = Buffer.alloc(64 * 1024);
      while (position < end) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end - position), position);
        if (bytesRead === 0) break;
        position += bytesRead;
        split.push(buffer.subarray(0, bytesRead));
      }
    };
    await readTo(size);
    if (options.follow)
      await follow(file, handle, options.signal, async (end) => {
        // Truncated or replaced: start again from its beginning.
        if (end < position) position = 0;
        await readTo(end);
      });
    split.flush();
    return { source: file };
  } finally {
    await handle.close();
  }
}

/**
 * Read what is appended until the signal aborts: on each fs.watch event, with a slow timer as the
 * safety net for coalesced or missed events. One read at a time, in order.
 */
async function follow(file: string, handle: FileHandle, signal: AbortSignal, read: (end: number) => Promise<void>): Promise<void> {
  if (signal.aborted) return;
  let chain = Promise.resolve();
  const check = () => {
    chain = chain.then(async () => read((await handle.stat()).size)).catch(() => {});
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(file, check);
  } catch {
    watcher = undefined;
  }
  const timer = setInterval(check, 1_000);
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  clearInterval(timer);
  watcher?.close();
  await chain;
}

/** The byte offset where the last `n` lines begin (a final newline ends the last line, it does not start one). */
async function tailOffset(handle: FileHandle, size: number, n: number): Promise<number> {
  if (n === 0) return size;
  const buffer = Buffer.alloc(64 * 1024);
  let end = size;
  let newlines = 0;
  while (end > 0) {
    const start = Math.max(0, end - buffer.length);
    await handle.read(buffer, 0, end - start, start);
    for (let i = end - start - 1; i >= 0; i--) {
      if (buffer[i] !== 10 || start + i === size - 1) continue;
      newlines++;
      if (newlines === n) return start + i + 1;
    }
    end = start;
  }
  return 0;
}
