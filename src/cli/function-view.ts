/** How a registered function reads in the terminal: `functions get`, a failed register, `status`. */
import type { FunctionView } from '@nanofaas/control-plane/contracts';
import type { ChalkInstance } from 'chalk';

export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;

/** The first line of a message, cut to `max` characters (a table cell stays one line). */
export function oneLine(text: string, max = 72): string {
  const first = (text.split('\n').find((l) => l.trim() !== '') ?? '').trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** The failed start's last log lines, framed so they read as quoted output. */
export function logTailLines(view: FunctionView, c: ChalkInstance, indent = '  '): string[] {
  const tail = view.status?.logTail ?? [];
  const lines: string[] = [];
  if (tail.length > 0) {
    lines.push(`${indent}last ${plural(tail.length, 'log line')}:`);
    for (const line of tail) lines.push(`${indent}  ${c.dim('│')} ${line}`);
  }
  if (view.status?.logPath) lines.push(`${indent}log: ${view.status.logPath}`);
  return lines;
}

/** `functions get` without --json: what the function is, whether it runs, and why not. */
export function describeFunction(view: FunctionView, c: ChalkInstance): string[] {
  const status = view.status;
  const state = status?.state ?? 'UNKNOWN';
  const painted = state === 'READY' ? c.green(state) : state === 'PENDING' || state === 'DEGRADED' ? c.yellow(state) : c.red(state);
  const rows: [string, string | undefined][] = [
    ['state', status ? `${painted} (${status.readyReplicas} of ${plural(status.replicas, 'replica')} ready)` : painted],
    ['message', status?.message],
    ['runtime', view.runtime ?? (view.image ? `image ${view.image}` : view.endpointUrl ? 'external endpoint' : undefined)],
    ['handler', view.handler],
    ['command', view.command?.join(' ') ?? view.runtimeCommand],
    ['endpoint', view.endpointUrl],
    ['mode', `${view.runtimeMode}, execution ${view.executionMode}`],
    ['replicas', String(view.replicas)],
    ['timeout', `${view.timeoutMs} ms`],
    ['concurrency', String(view.concurrency)],
    ['queue size', String(view.queueSize)],
    ['max retries', String(view.maxRetries)],
    // Names only: values may be secrets, and --json shows them to whoever asks for the document.
    ['env', view.env && Object.keys(view.env).length > 0 ? Object.keys(view.env).join(', ') : undefined],
    [
      'resources',
      view.resources
        ? Object.entries(view.resources)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        : undefined,
    ],
    [
      'scaling',
      view.scalingConfig?.strategy
        ? `${view.scalingConfig.strategy} ${view.scalingConfig.minReplicas ?? '-'}…${view.scalingConfig.maxReplicas ?? '-'}`
        : undefined,
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  const lines = [c.bold(view.name)];
  for (const [label, value] of rows) if (value !== undefined && value !== '') lines.push(`  ${c.dim(`${label}:`.padEnd(width))}${value}`);
  return [...lines, ...logTailLines(view, c)];
}
