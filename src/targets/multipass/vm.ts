import { formatArgv } from '../host/host.js';
import type { Runner } from '../host/run-local.js';

export type VmState = 'absent' | 'Running' | 'Stopped' | 'Suspended' | 'Starting' | 'Restarting' | 'Deleted' | 'Unknown';

export interface VmInfo {
  state: VmState;
  ipv4: string[];
}

export function infoArgv(vm: string): string[] {
  return ['multipass', 'info', vm, '--format', 'json'];
}

/**
 * `multipass info <vm> --format json` → state and addresses. A VM that does not exist is
 * reported by multipass as an error mentioning "does not exist"; that is `absent`, not a failure.
 */
export async function vmInfo(run: Runner, vm: string): Promise<VmInfo> {
  const argv = infoArgv(vm);
  const result = await run(argv, { timeoutMs: 60_000 });
  if (result.exitCode !== 0) {
    if (/does not exist|not found/i.test(result.stderr + result.stdout)) return { state: 'absent', ipv4: [] };
    throw new Error(`${formatArgv(argv)} exited with ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return parseInfo(result.stdout, vm);
}

export function parseInfo(json: string, vm: string): VmInfo {
  let doc: { info?: Record<string, { state?: string; ipv4?: unknown }> };
  try {
    doc = JSON.parse(json) as typeof doc;
  } catch {
    throw new Error(`multipass info printed something that is not JSON: ${json.slice(0, 200)}`);
  }
  const entry = doc.info?.[vm];
  if (!entry) return { state: 'absent', ipv4: [] };
  const known: VmState[] = ['Running', 'Stopped', 'Suspended', 'Starting', 'Restarting', 'Deleted'];
  const state = known.find((s) => s === entry.state) ?? 'Unknown';
  const ipv4 = Array.isArray(entry.ipv4) ? entry.ipv4.filter((a): a is string => typeof a === 'string') : [];
  return { state, ipv4 };
}

export function launchArgv(cfg: { vmName: string; cpus: number; memory: string; disk: string; image: string }): string[] {
  return [
    'multipass',
    'launch',
    cfg.image,
    '--name',
    cfg.vmName,
    '--cpus',
    String(cfg.cpus),
    '--memory',
    cfg.memory,
    '--disk',
    cfg.disk,
    '--timeout',
    '900',
  ];
}
