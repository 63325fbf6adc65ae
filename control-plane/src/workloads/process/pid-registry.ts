/**
 * Orphan safeguard for a control plane that dies without running close() (SIGKILL, OOM, power).
 * Each backend records the process groups it started in `${stateDir}/run/process-backend-<pid>.json`
 * together with process start times; the next backend started on the same state directory kills
 * the groups of owners that are gone. Start times guard against pid reuse: a recorded pid is only
 * signalled if the process with that pid is still the one we started. Linux (/proc) only; elsewhere
 * nothing is reaped, which is the safe failure.
 */
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BackendLogger } from '../backend.js';
import { signalGroup } from './process-group.js';

interface RegistryFile {
  ownerPid: number;
  ownerStart: string | undefined;
  children: Array<{ pid: number; start: string | undefined }>;
}

export interface PidRegistry {
  add(pid: number): void;
  remove(pid: number): void;
  /** Wait for pending writes, then delete the file (everything it listed has been stopped). */
  close(): Promise<void>;
}

const FILE_PATTERN = /^process-backend-(\d+)\.json$/;

export function registryDir(stateDir: string): string {
  return path.join(stateDir, 'run');
}

export function createPidRegistry(stateDir: string, logger: BackendLogger): PidRegistry {
  const dir = registryDir(stateDir);
  const file = path.join(dir, `process-backend-${process.pid}.json`);
  const children = new Map<number, Promise<string | undefined>>();
  let writing: Promise<void> = Promise.resolve();
  let dirty = false;
  let closed = false;

  // Coalesce bursts (scale to 10 replicas) into few writes; each write is atomic (tmp + rename).
  function scheduleWrite(): void {
    if (dirty || closed) return;
    dirty = true;
    writing = writing.then(async () => {
      dirty = false;
      const entries = await Promise.all([...children].map(async ([pid, start]) => ({ pid, start: await start })));
      const body: RegistryFile = { ownerPid: process.pid, ownerStart: await processStartTime(process.pid), children: entries };
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(`${file}.tmp`, JSON.stringify(body));
        await rename(`${file}.tmp`, file);
      } catch (err) {
        logger.warn({ err, file }, 'could not record child pids (orphan reaping after a crash will miss them)');
      }
    });
  }

  return {
    add(pid) {
      children.set(pid, processStartTime(pid));
      scheduleWrite();
    },
    remove(pid) {
      if (children.delete(pid)) scheduleWrite();
    },
    async close() {
      closed = true;
      await writing;
      await unlink(file).catch(() => undefined);
    },
  };
}

/**
 * Kill the process groups recorded by backends whose control plane is no longer running.
 * Returns how many groups were signalled.
 */
export async function reapOrphans(stateDir: string, logger: BackendLogger): Promise<number> {
  const dir = registryDir(stateDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let reaped = 0;
  for (const name of names) {
    const match = FILE_PATTERN.exec(name);
    if (!match || Number(match[1]) === process.pid) continue;
    const file = path.join(dir, name);
    let record: RegistryFile;
    try {
      record = JSON.parse(await readFile(file, 'utf8')) as RegistryFile;
    } catch {
      continue;
    }
    if (await isSameProcess(record.ownerPid, record.ownerStart)) continue; // its owner is alive
    for (const child of record.children ?? []) {
      if (child.start === undefined || !(await isSameProcess(child.pid, child.start))) continue;
      if (signalGroup(child.pid, 'SIGKILL')) {
        reaped += 1;
        logger.warn({ pid: child.pid, ownerPid: record.ownerPid }, 'killed orphaned function process group');
      }
    }
    await unlink(file).catch(() => undefined);
  }
  return reaped;
}

async function isSameProcess(pid: number, start: string | undefined): Promise<boolean> {
  const current = await processStartTime(pid);
  return current !== undefined && current === start;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined if not running. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
