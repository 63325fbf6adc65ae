import type { Runner } from '../host/run-local.js';

export interface ProcessRow {
  pid: number;
  ppid: number;
  args: string;
}

export function parsePs(text: string): ProcessRow[] {
  const rows: ProcessRow[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m) rows.push({ pid: Number(m[1]), ppid: Number(m[2]), args: m[3]!.trim() });
  }
  return rows;
}

/**
 * `multipass exec <vm>` clients whose parent died (re-parented to init) keep a session in the VM
 * and can hold locks (apt, k3s install). They are reaped before starting — only
 * those for this VM, only orphans, one pid at a time.
 */
export function orphanedExecs(rows: readonly ProcessRow[], vm: string): ProcessRow[] {
  const prefix = new RegExp(`(^|/)multipass exec ${vm.replace(/[-.]/g, '\\$&')}( |$)`);
  return rows.filter((r) => r.ppid === 1 && prefix.test(r.args));
}

export async function reapOrphanedExecs(run: Runner, vm: string, log: (line: string) => void): Promise<number> {
  const ps = await run(['ps', '-eo', 'pid=,ppid=,args='], { timeoutMs: 10_000 });
  if (ps.exitCode !== 0) {
    log(`could not list processes (ps exited ${ps.exitCode}); not reaping`);
    return 0;
  }
  const orphans = orphanedExecs(parsePs(ps.stdout), vm);
  for (const orphan of orphans) {
    try {
      process.kill(orphan.pid, 'SIGTERM');
      log(`reaped orphaned pid ${orphan.pid}: ${orphan.args}`);
    } catch {
      // Already gone between ps and kill.
    }
  }
  return orphans.length;
}
