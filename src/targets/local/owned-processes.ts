import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every process `up` starts carries OWNER_ENV=<state dir> in its environment, and so do the
 * runtimes the control plane spawns from it (the process backend sets it explicitly: runtimes inherit nothing else). That lets `down`
 * find leftovers of a crashed control plane, and Prometheus find the runtimes' ports.
 * Linux only (/proc); elsewhere the lists are empty.
 */
export const OWNER_ENV = 'NANOFAAS_OWNER_STATE_DIR';

/**
 * `up --replicas N`: control-plane replica k ≥ 1 runs with NANOFAAS_STATE_DIR=<state>/replicas/<k>
 * (its process backend's pid registry and function logs are its own), so its runtimes carry that
 * directory as their owner. They belong to the state dir all the same.
 */
export const REPLICAS_DIR = 'replicas';

/** Whether an environment entry marks a process of `stateDir` (its own, or one of its replicas' runtimes). */
function marksOwner(entry: string, stateDir: string): boolean {
  const marker = `${OWNER_ENV}=${stateDir}`;
  if (entry === marker) return true;
  const replica = `${marker}/${REPLICAS_DIR}/`;
  return entry.startsWith(replica) && /^\d+$/.test(entry.slice(replica.length));
}

export interface OwnedProcess {
  pid: number;
  /** Process group id (0 when unknown). */
  pgid: number;
  /** Parent pid (0 when unknown). */
  ppid: number;
  env: Record<string, string>;
}

export function findOwnedProcesses(stateDir: string): OwnedProcess[] {
  if (process.platform !== 'linux') return [];
  const found: OwnedProcess[] = [];
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return [];
  }
  for (const name of pids) {
    const pid = Number(name);
    if (pid === process.pid) continue;
    let raw: string;
    try {
      raw = readFileSync(`/proc/${pid}/environ`, 'utf8');
    } catch {
      continue; // gone, or not ours to read
    }
    const entries = raw.split('\0');
    if (!entries.some((entry) => marksOwner(entry, stateDir))) continue;
    const stat = procStat(pid);
    if (!stat || stat.state === 'Z') continue;
    const env: Record<string, string> = {};
    for (const entry of entries) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    found.push({ pid, pgid: stat.pgid, ppid: stat.ppid, env });
  }
  return found;
}

/** State, parent and process group from /proc/<pid>/stat ("pid (comm) S ppid pgrp …"; comm may hold spaces). */
function procStat(pid: number): { state: string; ppid: number; pgid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1]) || 0, pgid: Number(fields[2]) || 0 };
  } catch {
    return undefined;
  }
}

/**
 * Is `pid` still the process we started for this state directory? Guards against signalling an
 * unrelated process that reused a recorded pid. Without /proc we cannot tell and trust the record.
 */
export function isOwnedBy(pid: number, stateDir: string): boolean {
  if (process.platform !== 'linux') return true;
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`${OWNER_ENV}=${stateDir}`);
  } catch {
    return false;
  }
}
