import { stopRegistry } from '../../images/registry.js';
import type { Step } from '../../pipeline/step.js';
import { stopGrafanaStep } from '../grafana-step.js';
import { envRunner } from '../host/env-runner.js';
import { LocalHost } from '../host/local-host.js';
import { forgetEndpointsStep } from '../local/down-steps.js';
import { stopPrometheusStep } from '../local/prometheus.js';
import type { DownContext, DownOptions, TargetEnv } from '../target.js';
import { ownedContainers, ownedVolumes } from './containers.js';
import { inspectContainer } from './control-plane.js';
import { dockerLine } from './engine.js';
import { controlPlaneName, ownerFilter, ownerId } from './owner.js';

/** How long the control plane gets to stop its function containers itself. */
const STOP_GRACE_S = 20;

/**
 * `down`: Prometheus; the control plane's container first (so nothing recreates a function),
 * then every container still carrying this owner label; the registry only with
 * --remove-registry; Grafana if `loadtest` started it; the endpoints file. A dry run asks the
 * engine nothing: its plan shows the commands.
 */
export function dockerDownSteps(target: TargetEnv, options: DownOptions): Step<DownContext>[] {
  const { rootDir, state, env } = target;
  const owner = ownerId(state.path);
  const name = controlPlaneName(owner);
  const host = new LocalHost(envRunner(env));
  return [
    stopPrometheusStep(state),
    {
      title: 'Stop the control plane container',
      async skip(_ctx, { dryRun }) {
        if (dryRun) return false;
        return (await inspectContainer(env, name)) ? false : 'not there';
      },
      plan: () => [
        `${dockerLine(['stop', '--time', String(STOP_GRACE_S), name])}   (on SIGTERM it removes its function containers)`,
        dockerLine(['rm', '-f', name]),
      ],
      async run(ctx, io) {
        await io.exec('docker', ['stop', '--time', String(STOP_GRACE_S), name], {
          env,
          timeoutMs: (STOP_GRACE_S + 30) * 1000,
          allowFailure: true,
        });
        await io.exec('docker', ['rm', '-f', name], { env, timeoutMs: 60_000 });
        ctx.stopped.push('control-plane');
      },
    },
    {
      title: 'Remove the function containers',
      async skip(_ctx, { dryRun }) {
        if (dryRun) return false;
        return (await ownedContainers(env, owner)).length === 0 ? 'none left' : false;
      },
      plan: () => [dockerLine(['ps', '-aq', '--filter', ownerFilter(owner)]), `${dockerLine(['rm', '-f'])} <each id it lists>`],
      async run(ctx, io) {
        const left = await ownedContainers(env, owner);
        if (left.length === 0) return;
        await io.exec('docker', ['rm', '-f', ...left.map((c) => c.id)], { env, timeoutMs: 120_000 });
        for (const c of left) io.log(`removed ${c.name} (${c.state})`);
        ctx.stopped.push(`${left.length} function container${left.length === 1 ? '' : 's'}`);
      },
    },
    {
      title: "Remove the control plane's state volume",
      async skip(_ctx, { dryRun }) {
        if (dryRun) return false;
        return (await ownedVolumes(env, owner)).length === 0 ? 'none' : false;
      },
      plan: () => [
        dockerLine(['volume', 'ls', '-q', '--filter', ownerFilter(owner)]),
        `${dockerLine(['volume', 'rm'])} <each one it lists>`,
      ],
      async run(ctx, io) {
        const volumes = await ownedVolumes(env, owner);
        if (volumes.length === 0) return;
        await io.exec('docker', ['volume', 'rm', ...volumes], { env, timeoutMs: 60_000 });
        ctx.stopped.push(`volume ${volumes.join(', ')}`);
      },
    },
    {
      title: 'Stop the local registry',
      skip: () => (options.removeRegistry ? false : 'kept for the next `up` (down --remove-registry stops it)'),
      plan: () => ['stop the registry this state directory started (one started elsewhere is left alone)'],
      async run(ctx) {
        if (await stopRegistry({ state, host, docker: ['docker'] })) ctx.stopped.push('registry');
      },
    },
    stopGrafanaStep(state, rootDir, env),
    forgetEndpointsStep(state),
  ];
}
