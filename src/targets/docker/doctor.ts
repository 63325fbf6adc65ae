import { accessSync, constants, statSync } from 'node:fs';
import { registryHealthy } from '../../images/registry.js';
import { prometheusCheck } from '../local/doctor.js';
import type { DoctorCheck, TargetEnv } from '../target.js';
import { inspectContainer } from './control-plane.js';
import { dockerCli, engineVersion, socketPath, START_ENGINE_HINT } from './engine.js';
import { registryOf } from './up-state.js';
import { controlPlaneName, ownerId } from './owner.js';

/** Docker-target checks: the engine answers, its socket can be handed to the control plane, the registry, Prometheus. */
export function dockerDoctorChecks(target: TargetEnv): DoctorCheck[] {
  const { state, env, suggest } = target;
  const socket = socketPath(env);
  const registry = () => registryOf({ env, state });
  return [
    {
      id: 'docker-engine',
      title: 'Docker engine reachable',
      async run() {
        const engine = await engineVersion(env);
        if (engine.version) return { status: 'ok', detail: `Docker ${engine.version} (${dockerCli(env)})` };
        return {
          status: 'fail',
          detail: engine.problem ?? 'no answer',
          fix: dockerCli(env) ? START_ENGINE_HINT : 'apt-get install docker.io (or install Docker Engine)',
        };
      },
    },
    {
      id: 'docker-socket',
      title: 'engine socket usable by the control plane',
      async run() {
        let mode: number;
        let gid: number;
        try {
          ({ mode, gid } = statSync(socket));
        } catch {
          return {
            status: 'fail',
            detail: `${socket} is not there`,
            fix: 'set DOCKER_HOST=unix://<path> to the socket the engine listens on',
          };
        }
        try {
          accessSync(socket, constants.R_OK | constants.W_OK);
        } catch {
          return {
            status: 'fail',
            detail: `this user cannot open ${socket}`,
            fix: 'add yourself to its group (sudo usermod -aG docker $USER), then log in again',
          };
        }
        // The control plane's container runs as uid 10001 and reaches the socket through its group.
        if ((mode & 0o060) !== 0o060)
          return {
            status: 'fail',
            detail: `${socket} is not read-write for its group (mode ${(mode & 0o777).toString(8)})`,
            fix: `sudo chmod g+rw ${socket}`,
          };
        return { status: 'ok', detail: `${socket}, group ${gid} (the control plane's container joins it)` };
      },
    },
    {
      id: 'docker-registry',
      title: `local registry (${registry()})`,
      async run() {
        return (await registryHealthy(registry(), 2_000))
          ? { status: 'ok', detail: `http://${registry()}/v2/ answers` }
          : {
              status: 'warn',
              detail: `http://${registry()}/v2/ does not answer`,
              fix: `${suggest('up')} starts one (Debian's docker-registry, or the registry:2 image)`,
            };
      },
    },
    {
      id: 'docker-control-plane',
      title: 'control plane container',
      async run() {
        const name = controlPlaneName(ownerId(state.path));
        const c = await inspectContainer(env, name);
        if (!c) return { status: 'ok', detail: `not there (${suggest('up')} starts it)` };
        if (c.running && c.restarts === 0) return { status: 'ok', detail: `${name} running` };
        return {
          status: 'warn',
          detail: `${name} ${c.status}${c.restarts ? `, restarted ${c.restarts} times` : ''}`,
          fix: `docker logs --tail 50 ${name}; then ${suggest('up')}`,
        };
      },
    },
    prometheusCheck(target),
  ];
}
