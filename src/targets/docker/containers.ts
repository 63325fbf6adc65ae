import { docker } from './engine.js';
import { COMPONENT_LABEL, ownerFilter } from './owner.js';

/** One container of this owner, as `docker ps` and `docker inspect` describe it. */
export interface OwnedContainer {
  id: string;
  name: string;
  component: string;
  /** running, exited, restarting, … */
  state: string;
  /** `docker ps`'s human status, e.g. "Up 3 minutes (healthy)". */
  status: string;
  labels: Record<string, string>;
}

/** `docker ps -a` filtered by the owner label (every container of the deployment, in any state). */
export async function ownedContainers(env: NodeJS.ProcessEnv, owner: string): Promise<OwnedContainer[]> {
  const r = await docker(env, ['ps', '-a', '--filter', ownerFilter(owner), '--format', '{{json .}}']);
  if (r.exitCode !== 0) throw new Error((r.stderr || r.stdout).trim() || `docker ps exited with ${r.exitCode}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((line) => {
      const c = JSON.parse(line) as { ID: string; Names: string; State: string; Status: string; Labels: string };
      const labels = Object.fromEntries(
        c.Labels.split(',')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      return { id: c.ID, name: c.Names, component: labels[COMPONENT_LABEL] ?? '', state: c.State, status: c.Status, labels };
    });
}

/** Names of the volumes carrying this owner label (the control plane's state). */
export async function ownedVolumes(env: NodeJS.ProcessEnv, owner: string): Promise<string[]> {
  const r = await docker(env, ['volume', 'ls', '-q', '--filter', ownerFilter(owner)]);
  if (r.exitCode !== 0) throw new Error((r.stderr || r.stdout).trim() || `docker volume ls exited with ${r.exitCode}`);
  return r.stdout.split('\n').filter((l) => l.trim());
}

/** FUNCTION_NAME and PORT of each running function container: where its runtime serves /metrics. */
export async function functionEndpoints(env: NodeJS.ProcessEnv, owner: string): Promise<{ function: string; port: number }[]> {
  const running = (await ownedContainers(env, owner)).filter((c) => c.component === 'function' && c.state === 'running');
  if (running.length === 0) return [];
  const r = await docker(env, ['inspect', '--format', '{{json .Config.Env}}', ...running.map((c) => c.id)]);
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((line) => {
      const vars = Object.fromEntries(
        (JSON.parse(line) as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      const port = Number(vars.PORT);
      return vars.FUNCTION_NAME && port ? [{ function: vars.FUNCTION_NAME, port }] : [];
    });
}
