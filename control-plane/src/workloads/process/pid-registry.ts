/**
 * Orphan safeguard for a control plane that dies without running close() (SIGKILL, OOM, power).
 * Each backend records the process groups it started in `${stateDir}/run/process-backend-<pid>.json`
 * together with process start times; the next backend started on the same state directory kills
 * the groups of owners that are gone. That includes a group whose leader died but whose members
 * live on. Start times guard against pid reuse (see reapGroup). Linux (/proc) only; elsewhere
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
        await mkdir(dir, { recursive: true, mode: 0o700 });
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
      if (child.start === undefined) continue;
      if (await reapGroup(child.pid, child.start)) {
        reaped += 1;
        logger.warn({ pgid: child.pid, ownerPid: record.ownerPid }, 'killed orphaned function process group');
      }
    }
    await unlink(file).catch(() => undefined);
  }
  return reaped;
}

/**
 * SIGKILL the group led by `pgid`, recorded when its leader started at `start`, if it is still
 * that group. With the leader alive, its start time must match (else the pid was reused by an
 * unrelated process). With the leader gone, the kernel does not hand out a pid that is still some
 * group's id, so live members with that pgid belong to the recorded group; as a sanity check none
 * may have started before the recorded leader, as no member of that group can have.
 */
async function reapGroup(pgid: number, start: string): Promise<boolean> {
  const leaderStart = await processStartTime(pgid);
  if (leaderStart !== undefined) return leaderStart === start && signalGroup(pgid, 'SIGKILL');
  const members = await groupMembers(pgid);
  if (members.length === 0 || members.some((m) => Number(m.start) < Number(start))) return false;
  return signalGroup(pgid, 'SIGKILL');
}

/** Live (non-zombie) processes whose process group is `pgid`, with their start times. */
async function groupMembers(pgid: number): Promise<Array<{ pid: number; start: string }>> {
  let names: string[];
  try {
    names = await readdir('/proc');
  } catch {
    return [];
  }
  const members: Array<{ pid: number; start: string }> = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const fields = await statFields(Number(name));
    // fields[0] state, [2] pgrp, [19] starttime
    if (fields && fields[0] !== 'Z' && Number(fields[2]) === pgid && fields[19] !== undefined) {
      members.push({ pid: Number(name), start: fields[19] });
    }
  }
  return members;
}

async function isSameProcess(pid: number, start: string | undefined): Promise<boolean> {
  const current = await processStartTime(pid);
  return current !== undefined && current === start;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot; undefined if not running. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  return (await statFields(pid))?.[19];
}

/** /proc/<pid>/stat from field 3 (state) on; undefined if there is no such process. */
async function statFields(pid: number): Promise<string[] | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
