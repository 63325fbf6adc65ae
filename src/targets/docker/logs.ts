/** `logs` on the docker target: `docker logs` of the function's containers (one per replica). */
import { spawn } from 'node:child_process';
import type { LogsOptions, TargetEnv } from '../target.js';
import { lineSplitter } from '../../util/lines.js';
import { docker, DOCKER } from './engine.js';
import { OWNER_LABEL, ownerId } from './owner.js';

/** The control plane's docker backend labels each function container with these (container-spec.ts). */
const FUNCTION_LABEL = 'dev.nanofaas.function';
const REPLICA_LABEL = 'dev.nanofaas.replica';

export async function dockerLogs(target: TargetEnv, fn: string, options: LogsOptions): Promise<{ source: string }> {
  const owner = ownerId(target.state.path);
  const r = await docker(target.env, [
    'ps',
    '-a',
    '--filter',
    `label=${OWNER_LABEL}=${owner}`,
    '--filter',
    `label=${FUNCTION_LABEL}=${fn}`,
    '--format',
    `{{.ID}} {{.Label "${REPLICA_LABEL}"}}`,
  ]);
  if (r.exitCode !== 0) throw new Error((r.stderr || r.stdout).trim() || `docker ps exited with ${r.exitCode}`);
  const containers = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [id = '', replica = ''] = l.trim().split(' ');
      return { id, replica };
    })
    .sort((a, b) => Number(a.replica) - Number(b.replica));
  if (containers.length === 0) throw new Error(`function ${fn} has no containers on this engine (not registered here, or scaled to 0)`);
  const prefix = (replica: string) => (containers.length > 1 ? `[replica ${replica}] ` : '');
  await Promise.all(containers.map((c) => containerLogs(target.env, c.id, options, prefix(c.replica))));
  return { source: `docker logs ${containers.map((c) => c.id).join(' ')}` };
}

/** One container's log: the runtime's stdout and stderr, line by line, until it ends or the signal aborts. */
function containerLogs(env: NodeJS.ProcessEnv, id: string, options: LogsOptions, prefix: string): Promise<void> {
  const args = [
    'logs',
    ...(options.tail === undefined ? [] : ['--tail', String(options.tail)]),
    // The Engine stamps every line it keeps, so it filters exactly; an absolute time, not a
    // duration, so every replica's cut is the same moment.
    ...(options.since === undefined ? [] : ['--since', options.since.toISOString()]),
    ...(options.follow ? ['--follow'] : []),
    id,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = lineSplitter((line) => options.line(prefix + line));
    const err = lineSplitter((line) => options.line(prefix + line));
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const stop = () => child.kill('SIGTERM');
    options.signal.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      options.signal.removeEventListener('abort', stop);
      reject(error);
    });
    child.on('close', (code) => {
      options.signal.removeEventListener('abort', stop);
      out.flush();
      err.flush();
      if (code === 0 || options.signal.aborted) resolve();
      else reject(new Error(`docker logs ${id} exited with ${code}`));
    });
  });
}
