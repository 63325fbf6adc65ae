import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '../../api-client/client.js';
import { apiToken } from '../../config/env.js';
import type { Step } from '../../pipeline/step.js';
import { StepFailure } from '../../pipeline/step.js';
import { loadCatalog, type Catalog, type CatalogFunction } from '../../util/catalog.js';
import { displayCommand, isAlive, stopGroup } from '../../util/process.js';
import type { DownContext, Endpoints, Target, TargetEnv, TargetFactory, TargetStatus, UpContext, UpOptions } from '../target.js';
import { hasScript, javaUpToDate, tscCommand, typescriptUpToDate } from './build.js';
import {
  choosePorts,
  COMPONENT as CONTROL_PLANE,
  httpStatus,
  runningControlPlane,
  startControlPlane,
  stopControlPlane,
} from './control-plane.js';
import { deployFunctions, removeUndeployedCatalogFunctions } from './deploy-functions.js';
import { localDoctorChecks } from './doctor.js';
import { stopGrafanaStep } from '../grafana-step.js';
import { findOwnedProcesses, isOwnedBy } from './owned-processes.js';
import {
  COMPONENT as PROMETHEUS,
  configurePrometheus,
  prometheusBinary,
  prometheusConfig,
  reloadPrometheus,
  runningPrometheus,
  startPrometheus,
  stopPrometheus,
  writeRuntimeTargets,
} from './prometheus.js';
import { checkRuntime, NODE_MIN, nodeVersionOk } from './toolchains.js';

/** The artifact a catalog function needs on disk before the process backend can launch it. */
export function handlerArtifact(fn: CatalogFunction): string | undefined {
  if (fn.runtime === 'java') return fn.handler.split('#')[0];
  if (fn.runtime === 'node') return fn.handler;
  if (fn.runtime === 'python') return fn.handler.split(':')[0];
  if (fn.runtime === 'exec') return fn.handler.split(/\s+/).find((part) => part.includes('/'));
  return undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function artifactMtime(rootDir: string, fn: CatalogFunction): number {
  const artifact = handlerArtifact(fn);
  try {
    return artifact ? statSync(join(rootDir, artifact)).mtimeMs : 0;
  } catch {
    return 0;
  }
}

export const createTarget: TargetFactory = (targetEnv: TargetEnv): Target => {
  const { rootDir, state, env } = targetEnv;
  const javaJars = (fns: readonly CatalogFunction[]) =>
    fns
      .filter((f) => f.runtime === 'java')
      .map((f) => handlerArtifact(f)!)
      .filter(Boolean);

  const endpoints = async (): Promise<Endpoints | undefined> => {
    const saved = state.endpoints();
    const cp = state.process(CONTROL_PLANE);
    if (!saved || !cp || !isAlive(cp.pid)) return undefined;
    const { target: _t, updatedAt: _u, ...rest } = saved;
    return rest;
  };

  return {
    name: 'local',
    describe: () => 'processes on this machine (process backend)',
    endpoints,

    upSteps(options: UpOptions): Step<UpContext>[] {
      let catalog: Catalog;
      let selected: CatalogFunction[] = [];
      let runnable: CatalogFunction[] = [];
      let api: ApiClient | undefined;
      let managementPort = 0;
      const skip = (ctx: UpContext, fn: CatalogFunction, reason: string) => {
        runnable = runnable.filter((f) => f !== fn);
        const existing = ctx.functions.find((o) => o.name === fn.name);
        if (existing) existing.skipped = reason;
        else ctx.functions.push({ name: fn.name, runtime: fn.runtime, skipped: reason });
      };

      const select = () => {
        catalog = loadCatalog(rootDir);
        selected = catalog.functions.filter(
          (f) => (!options.functions || options.functions.includes(f.name)) && (!options.runtimes || options.runtimes.includes(f.runtime)),
        );
        const unknown = [...(options.functions ?? [])].filter((n) => !catalog.functions.some((f) => f.name === n));
        if (unknown.length > 0)
          throw new StepFailure(`unknown function(s) ${unknown.join(', ')}`, {
            hint: `choose from ${catalog.functions.map((f) => f.name).join(', ')}`,
          });
        runnable = [...selected];
      };

      return [
        {
          title: 'Preflight: node version and runtime toolchains',
          hint: 'install what the message names, or limit `up` with --runtimes',
          // What run() selects, so the later steps' plans name the functions; the toolchain checks run programs, so a plan only names them.
          plan(ctx) {
            select();
            for (const fn of runnable) ctx.functions.push({ name: fn.name, runtime: fn.runtime });
            return [
              `check Node.js >= ${NODE_MIN.join('.')} and the toolchains of: ${[...new Set(selected.map((f) => f.runtime))].join(', ') || '(no functions selected)'}`,
            ];
          },
          async run(ctx, io) {
            if (!nodeVersionOk())
              throw new StepFailure(`Node.js ${process.versions.node} is too old; nanofaas needs ${NODE_MIN.join('.')} or newer`, {
                hint: 'install Node.js 20 LTS or newer',
              });
            select();
            const runtimes = [...new Set(selected.map((f) => f.runtime))];
            const checks = await Promise.all(runtimes.map((rt) => checkRuntime(rootDir, rt, env)));
            for (const check of checks) {
              io.log(check.ok ? `${check.runtime}: ok (${check.found.join(', ')})` : `${check.runtime}: ${check.reason}`);
              if (!check.ok)
                for (const fn of selected.filter((f) => f.runtime === check.runtime)) skip(ctx, fn, check.reason ?? 'unavailable');
            }
            for (const fn of runnable) ctx.functions.push({ name: fn.name, runtime: fn.runtime });
          },
        },
        {
          title: 'Build TypeScript (tsc -b)',
          skip: () => {
            if (options.skipBuild) return 'SKIP_BUILD';
            if (!tscCommand(rootDir)) return 'typescript not installed; using the shipped dist/';
            const state = typescriptUpToDate(rootDir);
            return state.upToDate ? state.reason : false;
          },
          plan: () => {
            const [node, ...args] = tscCommand(rootDir) ?? ['tsc', '-b'];
            return [displayCommand(node!, args)];
          },
          async run(_ctx, io) {
            const [node, ...args] = tscCommand(rootDir)!;
            await io.exec(node!, args, {
              cwd: rootDir,
              timeoutMs: 300_000,
              hint: `fix the compiler errors above, then rerun \`${targetEnv.suggest('up')}\``,
            });
          },
        },
        {
          title: 'Build Java functions (npm run build:java)',
          skip: () => {
            const jars = javaUpToDate(rootDir, javaJars(runnable));
            if (javaJars(runnable).length === 0) return 'no Java functions to run';
            if (options.skipBuild) return 'SKIP_BUILD';
            if (!hasScript(rootDir, 'build:java')) return 'no build:java script in this build';
            return jars.upToDate ? jars.reason : false;
          },
          plan: () => ['npm run --silent build:java'],
          async run(_ctx, io) {
            await io.exec('npm', ['run', '--silent', 'build:java'], {
              cwd: rootDir,
              timeoutMs: 600_000,
              hint: 'Maven runs offline (`mvn -o`): check ~/.m2, or skip Java with --runtimes node,python,exec',
            });
          },
        },
        {
          title: 'Start the control plane (process backend)',
          async skip(ctx, { dryRun }) {
            const running = await runningControlPlane(state);
            if (!running?.ports) return false;
            ctx.endpoints = {
              apiUrl: running.url ?? `http://127.0.0.1:${running.ports.api}`,
              managementUrl: `http://127.0.0.1:${running.ports.management}`,
            };
            managementPort = running.ports.management!;
            if (!dryRun)
              state.saveEndpoints('local', {
                ...ctx.endpoints,
                ...(state.endpoints()?.prometheusUrl ? { prometheusUrl: state.endpoints()!.prometheusUrl! } : {}),
              });
            return `already running (pid ${running.pid}, API :${running.ports.api})`;
          },
          plan: () => [
            `${displayCommand(process.execPath, [join(rootDir, 'control-plane/dist/main.js')])}   (NANOFAAS_WORKLOAD_BACKEND=process, detached, log ${state.logPath(CONTROL_PLANE)})`,
          ],
          async run(ctx, io) {
            const stale = state.process(CONTROL_PLANE);
            if (stale) {
              io.log(`replacing the stale control plane record (pid ${stale.pid})`);
              if (isOwnedBy(stale.pid, state.path)) await stopGroup(stale.pgid, 5_000);
              state.forgetProcess(CONTROL_PLANE);
            }
            const ports = await choosePorts({
              env,
              ...(options.apiPort !== undefined ? { apiPort: options.apiPort } : {}),
              ...(options.managementPort !== undefined ? { managementPort: options.managementPort } : {}),
            });
            if (ports.note) ctx.notes.push(ports.note);
            io.target(`node control-plane/dist/main.js (log ${state.logFile(CONTROL_PLANE)})`);
            const { record, listening } = await startControlPlane({ rootDir, state, env, signal: io.signal }, ports);
            io.log(`pid ${record.pid}, API ${listening.apiUrl}, management ${listening.managementUrl}`);
            ctx.endpoints = { apiUrl: listening.apiUrl, managementUrl: listening.managementUrl };
            managementPort = listening.managementPort;
            state.saveEndpoints('local', ctx.endpoints);
          },
        },
        {
          title: 'Register and smoke-test the demo functions',
          plan: () => [
            'GET /v1/functions, then DELETE /v1/functions/<name> for each catalog function registered there that this run does not deploy (functions under other names are kept)',
            ...runnable.map((f) => `POST /v1/functions ${f.name}, then POST /v1/functions/${f.name}:invoke with a test vector`),
          ],
          async run(ctx, io) {
            for (const fn of [...runnable]) {
              const artifact = handlerArtifact(fn);
              if (artifact && !existsSync(join(rootDir, artifact))) skip(ctx, fn, `handler not built (${artifact} missing)`);
            }
            const token = apiToken(env);
            api ??= new ApiClient({ baseUrl: ctx.endpoints!.apiUrl, ...(token ? { token } : {}) });
            // Functions whose artifact was rebuilt since the last `up` get fresh processes.
            const deployed = state.readJson<Record<string, number>>('deployed-artifacts.json') ?? {};
            const current = Object.fromEntries(runnable.map((f) => [f.name, artifactMtime(rootDir, f)]));
            const rebuilt = new Set(
              runnable.filter((f) => deployed[f.name] !== undefined && deployed[f.name] !== current[f.name]).map((f) => f.name),
            );
            try {
              // First, so the removed ones free their processes before the new ones start.
              const removed = await removeUndeployedCatalogFunctions(api, catalog, runnable, io);
              ctx.removed = [...(ctx.removed ?? []), ...removed];
              if (runnable.length === 0) {
                io.log('no runnable functions');
                return;
              }
              await deployFunctions(api, rootDir, catalog, runnable, ctx.functions, io, 90_000, rebuilt, targetEnv.suggest);
              state.writeJson({ ...deployed, ...current }, 'deployed-artifacts.json');
            } finally {
              const order = new Map(catalog.functions.map((f, i) => [f.name, i]));
              ctx.functions.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
              await api.close();
              api = undefined;
            }
          },
        },
        {
          title: 'Start Prometheus',
          async skip(ctx, { dryRun }) {
            if (!options.prometheus) return '--no-prometheus';
            if (!prometheusBinary(env)) {
              ctx.notes.push(
                `Prometheus is not installed, so there are no metric charts: apt-get install prometheus (or put \`prometheus\` on PATH), then rerun \`${targetEnv.suggest('up')}\``,
              );
              return 'prometheus not installed';
            }
            const running = await runningPrometheus(state);
            if (!running?.url) return false;
            if (dryRun) {
              const current = readText(state.file('prometheus', 'prometheus.yml'));
              const wanted = prometheusConfig(managementPort, state.file('prometheus', 'runtimes.json'));
              return `already running (pid ${running.pid}, ${running.url}${current === wanted ? '' : '; its config would be rewritten and reloaded'})`;
            }
            writeRuntimeTargets(state);
            const config = await configurePrometheus(state, managementPort);
            if (config.changed) await reloadPrometheus(running.url);
            ctx.endpoints = { ...ctx.endpoints!, prometheusUrl: running.url };
            state.saveEndpoints('local', ctx.endpoints);
            return `already running (pid ${running.pid}, ${running.url}${config.changed ? ', config reloaded' : ''})`;
          },
          plan: () => [
            `prometheus --config.file=${state.file('prometheus', 'prometheus.yml')} --web.listen-address=127.0.0.1:<9090 or free>`,
          ],
          async run(ctx, io) {
            const stale = state.process(PROMETHEUS);
            if (stale && isOwnedBy(stale.pid, state.path)) await stopGroup(stale.pgid, 5_000);
            const runtimes = writeRuntimeTargets(state);
            const config = await configurePrometheus(state, managementPort);
            io.target(`prometheus --config.file=${config.path}`);
            const record = await startPrometheus(state, env, prometheusBinary(env)!, config.path, io.signal);
            io.log(`pid ${record.pid}, ${record.url}, scraping the control plane and ${runtimes} runtimes`);
            ctx.endpoints = { ...ctx.endpoints!, prometheusUrl: record.url! };
            state.saveEndpoints('local', ctx.endpoints);
          },
        },
      ];
    },

    downSteps(): Step<DownContext>[] {
      // Owned processes the stop steps before this one do not stop: not the recorded groups, nor
      // the runtimes the recorded control plane stops. Once those ran (and forgot their records),
      // it is every owned process still alive.
      const leftovers = () => {
        const records = [CONTROL_PLANE, PROMETHEUS].map((c) => state.process(c)).filter((r) => r !== undefined);
        const groups = new Set(records.map((r) => r.pgid));
        const parents = new Set(records.map((r) => r.pid));
        return findOwnedProcesses(state.path).filter((p) => !groups.has(p.pgid) && !parents.has(p.ppid));
      };
      return [
        {
          title: 'Stop Prometheus',
          skip: () => (state.process(PROMETHEUS) ? false : 'not running'),
          plan: () => [`kill -TERM -${state.process(PROMETHEUS)?.pgid}`],
          async run(ctx) {
            if (await stopPrometheus(state)) ctx.stopped.push('prometheus');
          },
        },
        {
          title: 'Stop the control plane and its runtimes',
          skip: () => (state.process(CONTROL_PLANE) ? false : 'not running'),
          plan: () => [`kill -TERM -${state.process(CONTROL_PLANE)?.pgid}   (it stops its runtimes)`],
          async run(ctx) {
            if (await stopControlPlane(state)) ctx.stopped.push('control-plane');
          },
        },
        {
          title: 'Stop leftover processes',
          skip: () => (leftovers().length === 0 ? 'none' : false),
          plan: () => leftovers().map((p) => `kill -TERM -${p.pid}   (${p.env.FUNCTION_NAME ?? 'helper process'})`),
          async run(ctx, io) {
            const leftovers = findOwnedProcesses(state.path);
            await Promise.all(leftovers.map((p) => stopGroup(p.pid, 5_000)));
            for (const p of leftovers) io.log(`stopped pid ${p.pid} ${p.env.FUNCTION_NAME ?? ''}`);
            ctx.stopped.push(`${leftovers.length} leftover process${leftovers.length === 1 ? '' : 'es'}`);
          },
        },
        stopGrafanaStep(state, rootDir, env),
        {
          title: 'Forget endpoints',
          skip: () => (state.exists('endpoints.json') ? false : 'nothing recorded'),
          plan: () => [`rm ${state.file('endpoints.json')}`],
          run() {
            state.remove('endpoints.json');
          },
        },
      ];
    },

    async statusOf(): Promise<TargetStatus> {
      const components: TargetStatus['components'] = [];
      const cp = state.process(CONTROL_PLANE);
      if (!cp) components.push({ name: 'control-plane', state: 'stopped' });
      else if (!isAlive(cp.pid))
        components.push({
          name: 'control-plane',
          state: 'unhealthy',
          pid: cp.pid,
          detail: `process exited (stale pid file); rerun \`${targetEnv.suggest('up')}\``,
        });
      // Recorded at spawn, ports only once it listened: its `up` was interrupted or is still starting it.
      else if (!cp.ports)
        components.push({
          name: 'control-plane',
          state: 'unhealthy',
          pid: cp.pid,
          detail: `started but not listening yet (interrupted \`up\`?); \`${targetEnv.suggest('down')}\` stops it`,
        });
      else {
        const ready = await httpStatus(`http://127.0.0.1:${cp.ports?.management}/readyz`);
        components.push({
          name: 'control-plane',
          state: ready === 200 ? 'running' : 'unhealthy',
          pid: cp.pid,
          ...(cp.url ? { url: cp.url } : {}),
          ...(ready === 200 ? {} : { detail: `/readyz answered ${ready || 'nothing'}` }),
        });
      }
      const runtimes = findOwnedProcesses(state.path).filter((p) => p.env.FUNCTION_NAME);
      components.push({
        name: 'runtimes',
        state: runtimes.length > 0 ? 'running' : 'stopped',
        detail: `${runtimes.length} process${runtimes.length === 1 ? '' : 'es'}`,
      });
      const prom = state.process(PROMETHEUS);
      if (!prom) components.push({ name: 'prometheus', state: 'stopped', detail: prometheusBinary(env) ? 'not started' : 'not installed' });
      else {
        const ready = isAlive(prom.pid) ? await httpStatus(`${prom.url}/-/ready`) : 0;
        components.push({
          name: 'prometheus',
          state: ready === 200 ? 'running' : 'unhealthy',
          pid: prom.pid,
          ...(prom.url ? { url: prom.url } : {}),
        });
      }
      const e = await endpoints();
      return { components, ...(e ? { endpoints: e } : {}) };
    },

    doctorChecks: () => localDoctorChecks(targetEnv),
  };
};
