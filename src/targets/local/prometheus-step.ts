import { readFileSync } from 'node:fs';
import type { Step } from '../../pipeline/step.js';
import type { StateDir } from '../../state/state-dir.js';
import { stopGroup } from '../../util/process.js';
import type { TargetName, UpContext } from '../target.js';
import { isOwnedBy } from './owned-processes.js';
import {
  COMPONENT as PROMETHEUS,
  configurePrometheus,
  prometheusBinary,
  prometheusConfig,
  reloadPrometheus,
  runningPrometheus,
  startPrometheus,
  writeRuntimeTargets,
} from './prometheus.js';
import type { LocalUp } from './up-state.js';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Prometheus scraping the control plane and the runtimes; a running one this state dir started is
 * kept and reloaded when its config changed. Without the binary, a note says how to get it.
 * Another target on this machine reuses it with its own name (recorded in the endpoints file)
 * and `runtimeTargets`, which writes the runtimes' scrape targets and counts them.
 */
/** The management ports to scrape: every replica's when `up --replicas N` recorded them. */
function scrapedPorts(ctx: UpContext, up: LocalUp): number[] {
  const replicas = ctx.endpoints?.replicas;
  if (!replicas?.length) return [up.managementPort];
  return replicas.map((r) => Number(new URL(r.managementUrl).port));
}

export function prometheusStep(
  up: LocalUp,
  options: { target?: TargetName; runtimeTargets?: (state: StateDir) => number | Promise<number> } = {},
): Step<UpContext> {
  const { state, env } = up.target;
  const { target = 'local', runtimeTargets = writeRuntimeTargets } = options;
  return {
    title: 'Start Prometheus',
    async skip(ctx, { dryRun }) {
      if (!up.options.prometheus) return '--no-prometheus';
      if (!prometheusBinary(env)) {
        ctx.notes.push(
          `Prometheus is not installed, so there are no metric charts: apt-get install prometheus (or put \`prometheus\` on PATH), then rerun \`${up.target.suggest('up')}\``,
        );
        return 'prometheus not installed';
      }
      const running = await runningPrometheus(state);
      if (!running?.url) return false;
      if (dryRun) {
        const current = readText(state.file('prometheus', 'prometheus.yml'));
        const wanted = prometheusConfig(scrapedPorts(ctx, up), state.file('prometheus', 'runtimes.json'));
        return `already running (pid ${running.pid}, ${running.url}${current === wanted ? '' : '; its config would be rewritten and reloaded'})`;
      }
      await runtimeTargets(state);
      const config = await configurePrometheus(state, scrapedPorts(ctx, up));
      if (config.changed) await reloadPrometheus(running.url);
      ctx.endpoints = { ...ctx.endpoints!, prometheusUrl: running.url };
      state.saveEndpoints(target, ctx.endpoints);
      return `already running (pid ${running.pid}, ${running.url}${config.changed ? ', config reloaded' : ''})`;
    },
    plan: () => [`prometheus --config.file=${state.file('prometheus', 'prometheus.yml')} --web.listen-address=127.0.0.1:<9090 or free>`],
    async run(ctx, io) {
      const stale = state.process(PROMETHEUS);
      if (stale && isOwnedBy(stale.pid, state.path)) await stopGroup(stale.pgid, 5_000);
      const runtimes = await runtimeTargets(state);
      const config = await configurePrometheus(state, scrapedPorts(ctx, up));
      io.target(`prometheus --config.file=${config.path}`);
      const record = await startPrometheus(state, env, prometheusBinary(env)!, config.path, io.signal);
      io.log(`pid ${record.pid}, ${record.url}, scraping the control plane and ${runtimes} runtimes`);
      ctx.endpoints = { ...ctx.endpoints!, prometheusUrl: record.url! };
      state.saveEndpoints(target, ctx.endpoints);
    },
  };
}
