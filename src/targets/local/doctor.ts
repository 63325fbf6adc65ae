import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../../util/catalog.js';
import { isAlive } from '../../util/process.js';
import type { CheckResult, DoctorCheck, TargetEnv } from '../target.js';
import { COMPONENT as CONTROL_PLANE, recordedReplicas, replicaComponent } from './control-plane.js';
import { COMPONENT as PROMETHEUS, prometheusBinary, runningPrometheus } from './prometheus.js';
import { natsDoctorCheck } from './nats-step.js';
import { checkRuntime, NODE_MIN, nodeVersionOk } from './toolchains.js';

/**
 * Prometheus on this machine, with the fix for the situation: install it when it is missing; when
 * it is installed, `up` starts it (installing it again fixes nothing).
 */
export function prometheusSituation(input: {
  binary: string | undefined;
  running: { pid: number; url?: string } | undefined;
  exited: boolean;
  log: string;
  suggest: (command: string) => string;
}): CheckResult {
  if (input.running) return { status: 'ok', detail: `running (pid ${input.running.pid}, ${input.running.url ?? '?'})` };
  if (!input.binary) {
    return {
      status: 'warn',
      detail: 'not installed, so there are no metric charts',
      fix: `apt-get install prometheus (or put \`prometheus\` on PATH), then ${input.suggest('up')}`,
    };
  }
  return {
    status: 'warn',
    detail: `installed (${input.binary}) but not running${input.exited ? `; it exited (see ${input.log})` : ''}`,
    fix: `${input.suggest('up')} starts it (unless given --no-prometheus)`,
  };
}

/** Local-machine checks: the toolchains each runtime needs, the build, Prometheus, nats-server, and stale state. */
export function localDoctorChecks(target: TargetEnv): DoctorCheck[] {
  const { rootDir, state, env, suggest } = target;
  const runtimes = [...new Set(loadCatalog(rootDir).functions.map((f) => f.runtime))];
  return [
    {
      id: 'node-version',
      title: 'Node.js version',
      run: async () =>
        nodeVersionOk()
          ? { status: 'ok', detail: `v${process.versions.node}` }
          : { status: 'fail', detail: `v${process.versions.node} < ${NODE_MIN.join('.')}`, fix: 'install Node.js 20 LTS or newer' },
    },
    {
      id: 'control-plane-built',
      title: 'control plane built',
      run: async () =>
        existsSync(join(rootDir, 'control-plane', 'dist', 'main.js'))
          ? { status: 'ok', detail: 'control-plane/dist/main.js' }
          : { status: 'fail', detail: 'control-plane/dist/main.js missing', fix: 'npm run build' },
    },
    ...runtimes.map(
      (runtime): DoctorCheck => ({
        id: `runtime-${runtime}`,
        title: `${runtime} runtime toolchain`,
        async run() {
          const check = await checkRuntime(rootDir, runtime, env);
          return check.ok
            ? { status: 'ok', detail: check.found.join(', ') || 'nothing extra needed' }
            : { status: 'warn', detail: `${check.reason}; its functions are skipped`, ...(check.hint ? { fix: check.hint } : {}) };
        },
      }),
    ),
    {
      id: 'state-dir',
      title: 'state directory writable',
      async run() {
        try {
          mkdirSync(state.path, { recursive: true });
          accessSync(state.path, constants.W_OK);
          return { status: 'ok', detail: state.path };
        } catch (error) {
          return {
            status: 'fail',
            detail: `${state.path}: ${(error as Error).message}`,
            fix: 'choose another with --state-dir or NANOFAAS_STATE_DIR',
          };
        }
      },
    },
    {
      id: 'stale-pids',
      title: 'no stale pid files',
      async run() {
        // Every control-plane replica `up --replicas` recorded, nats-server (`--nats`), Prometheus.
        const components = [...recordedReplicas(state).map(replicaComponent), 'nats', 'prometheus'];
        const stale = components.filter((c) => {
          const record = state.process(c);
          return record !== undefined && !isAlive(record.pid);
        });
        return stale.length === 0
          ? { status: 'ok', detail: state.process(CONTROL_PLANE) ? 'recorded processes are alive' : 'nothing recorded' }
          : {
              status: 'warn',
              detail: `${stale.join(', ')} exited without \`down\` (see ${state.file('logs')})`,
              fix: `${suggest('up')} (restarts them) or ${suggest('down')} (clears the records)`,
            };
      },
    },
    prometheusCheck(target),
    natsDoctorCheck(target),
  ];
}

/** The Prometheus check of the targets that run it on this machine (local, docker). */
export function prometheusCheck({ state, env, suggest }: TargetEnv): DoctorCheck {
  return {
    id: 'prometheus-local',
    title: 'Prometheus on this machine',
    async run() {
      const record = state.process(PROMETHEUS);
      return prometheusSituation({
        binary: prometheusBinary(env),
        running: await runningPrometheus(state),
        exited: record !== undefined && !isAlive(record.pid),
        log: state.logPath(PROMETHEUS),
        suggest,
      });
    },
  };
}
