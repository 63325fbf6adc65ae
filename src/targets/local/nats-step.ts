import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Step, StepIO } from '../../pipeline/step.js';
import { StepFailure } from '../../pipeline/step.js';
import type { StateDir } from '../../state/state-dir.js';
import { tailFile, waitForLine } from '../../util/log-tail.js';
import { preferPort } from '../../util/ports.js';
import { versionAtLeast } from '../../util/version.js';
import { displayCommand, isAlive, runCommand, which } from '../../util/process.js';
import type { CheckResult, DoctorCheck, DownContext, TargetEnv, UpContext } from '../target.js';
import { abandonStart, startDetached, stopRecorded } from './detached-process.js';
import { isOwnedBy, OWNER_ENV } from './owned-processes.js';
import type { LocalUp } from './up-state.js';

export const COMPONENT = 'nats';
const DEFAULT_PORT = 4222;
export const INSTALL_HINT = 'apt-get install nats-server (Debian/Ubuntu), or put `nats-server` (2.9 or newer) on PATH';

/** nats-server logs this once it accepts clients; its port is read from the line before it. */
const LISTENING = /Listening for client connections on [^:\s]+:(\d+)/;

/**
 * The environment nats-server starts with. Go runs one scheduler thread per core; on the local
 * target nats-server shares the host with the control plane(s), the load generator and every
 * function runtime, and its idle threads' spinning and hand-offs cost CPU the others need. Capped
 * at half the cores (at least one), it spent about a quarter less CPU per message on a 2-core host
 * (BENCHMARKS.md, "GOMAXPROCS"). A GOMAXPROCS of the caller's is kept as given.
 */
export function natsServerEnv(callerEnv: NodeJS.ProcessEnv, cores = availableParallelism()): Record<string, string> {
  const given = callerEnv.GOMAXPROCS?.trim();
  return { GOMAXPROCS: given ? given : String(Math.max(1, Math.floor(cores / 2))) };
}

/** The recorded nats-server when its process (started by this state dir) still lives. */
export function runningNats(state: StateDir): { pid: number; url: string } | undefined {
  const record = state.process(COMPONENT);
  if (!record?.url || !isAlive(record.pid) || !isOwnedBy(record.pid, state.path)) return undefined;
  return { pid: record.pid, url: record.url };
}

/** Whether process `pid` was started with NANOFAAS_NATS_URL=`url` (Linux /proc; false when unreadable). */
export function runsWithNats(pid: number, url: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`NANOFAAS_NATS_URL=${url}`);
  } catch {
    return false;
  }
}

/**
 * `up --nats` (local target): `nats-server -js` on 127.0.0.1 with its JetStream store in the state
 * directory (`nats/`), detached like the control plane, so queued async work outlives the control
 * plane and `down` + `up` keeps it. The control plane step then gets NANOFAAS_NATS_URL.
 */
export function natsStep(
  up: LocalUp,
  binary: () => string | undefined = () => which('nats-server', up.target.env),
  /** The port asked for when free (tests pass their own). */
  preferredPort = DEFAULT_PORT,
): Step<UpContext> {
  const { state } = up.target;
  return {
    title: 'Start nats-server (JetStream)',
    skip() {
      if (!up.options.nats) return '--nats not given';
      const running = runningNats(state);
      if (!running) return false;
      up.natsUrl = running.url;
      return `already running (pid ${running.pid}, ${running.url})`;
    },
    plan: () => [
      `GOMAXPROCS=${natsServerEnv(up.target.env).GOMAXPROCS} nats-server -js -a 127.0.0.1 -p <4222 or free> -sd ${state.file('nats')}   (detached, log ${state.logPath(COMPONENT)})`,
    ],
    async run(_ctx, io) {
      const bin = binary();
      if (!bin) throw new StepFailure('--nats needs nats-server, which is not installed', { hint: INSTALL_HINT });
      const stale = state.process(COMPONENT);
      if (stale) state.forgetProcess(COMPONENT);
      const preferred = (await preferPort(preferredPort)) || -1;
      let started = await startNats(up, bin, preferred, io);
      // 4222 was free when looked at, but another nats-server (another state dir's `up`) bound it
      // first: any free port (-1) will do, the URL is recorded.
      if ('lostPort' in started) {
        io.log(`port ${preferred} was taken meanwhile; starting on a free port`);
        started = await startNats(up, bin, -1, io);
      }
      if ('lostPort' in started) throw started.lostPort;
      up.natsUrl = started.url;
      io.log(`pid ${started.pid}, ${started.url}, store ${state.file('nats')}`);
    },
  };
}

/** nats-server logs this when its port is taken (it exits then). */
const PORT_TAKEN = /address already in use/;

/**
 * One start of nats-server on `port` (-1 = any free one), recorded the moment it exists; resolves
 * once it listens. When the port turned out taken it is forgotten and `lostPort` says so.
 */
async function startNats(
  up: LocalUp,
  bin: string,
  port: number,
  io: Pick<StepIO, 'target'>,
): Promise<{ pid: number; url: string } | { lostPort: StepFailure }> {
  const { state, env } = up.target;
  const args = ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', state.file('nats')];
  io.target(displayCommand(bin, args));
  const { child, log, offset, startedAt } = await startDetached(state, COMPONENT, bin, args, {
    env: { PATH: env.PATH ?? '', ...natsServerEnv(env), [OWNER_ENV]: state.path },
  });
  if (!child.pid) throw new StepFailure('nats-server did not start', { output: tailFile(log, 15, offset) });
  state.saveProcess(COMPONENT, { pid: child.pid, pgid: child.pid, command: [bin, ...args], log, startedAt });
  let exited: ((reason: Error) => void) | undefined;
  void child.then((result) => exited?.(new Error(`nats-server exited during startup (${result.signal ?? `code ${result.exitCode}`})`)));
  try {
    const listening = await waitForLine(log, offset, (line) => Number(LISTENING.exec(line)?.[1]) || undefined, {
      timeoutMs: 15_000,
      onAbort: (abort) => {
        exited = abort;
      },
    });
    const url = `nats://127.0.0.1:${listening}`;
    state.saveProcess(COMPONENT, {
      pid: child.pid,
      pgid: child.pid,
      command: [bin, ...args],
      log,
      startedAt,
      ports: { client: listening },
      url,
    });
    return { pid: child.pid, url };
  } catch (error) {
    await abandonStart(state, COMPONENT, child.pid, 3_000);
    const output = tailFile(log, 15, offset);
    const failure = new StepFailure((error as Error).message, { command: displayCommand(bin, args), output });
    if (port !== -1 && output.some((line) => PORT_TAKEN.test(line))) return { lostPort: failure };
    throw failure;
  }
}

/** `down`: stop the nats-server `up --nats` started (after the control plane, which uses it); its store stays. */
export function stopNatsStep(state: StateDir): Step<DownContext> {
  return {
    title: 'Stop nats-server',
    skip: () => (state.process(COMPONENT) ? false : 'not running'),
    plan: () => [`kill -TERM -${state.process(COMPONENT)?.pgid}   (the JetStream store in ${state.file('nats')} is kept)`],
    async run(ctx) {
      if (await stopRecorded(state, COMPONENT, 10_000)) ctx.stopped.push('nats-server');
    },
  };
}

/** NATS mode's JetStream features (work-queue streams, KV, the consumer API) need this release. */
const NATS_MIN = [2, 9] as const;

/**
 * `doctor`: can `up --nats` start nats-server here, and is it recent enough? A missing one is a
 * warning, not a failure: memory mode, the default, needs none.
 */
export function natsSituation(input: {
  binary: string | undefined;
  /** What `nats-server --version` printed. */
  versionText: string | undefined;
  running: { pid: number; url: string } | undefined;
  suggest: (command: string) => string;
}): CheckResult {
  if (input.running) return { status: 'ok', detail: `running (pid ${input.running.pid}, ${input.running.url})` };
  if (!input.binary)
    return { status: 'warn', detail: 'not installed: `up --nats` cannot start it (the default memory mode needs none)', fix: INSTALL_HINT };
  const version = /v?(\d+)\.(\d+)\.(\d+)/.exec(input.versionText ?? '');
  if (!version) return { status: 'warn', detail: `${input.binary} --version printed no version`, fix: INSTALL_HINT };
  const parts = [Number(version[1]), Number(version[2]), Number(version[3])];
  const text = parts.join('.');
  if (!versionAtLeast(parts, NATS_MIN)) {
    return { status: 'warn', detail: `${input.binary} is ${text}; NATS mode needs ${NATS_MIN.join('.')} or newer`, fix: INSTALL_HINT };
  }
  return { status: 'ok', detail: `${input.binary} ${text}; \`${input.suggest('up')} --nats\` starts it` };
}

export function natsDoctorCheck({ state, env, suggest }: TargetEnv): DoctorCheck {
  return {
    id: 'nats-server',
    title: 'nats-server (for up --nats)',
    async run() {
      const running = runningNats(state);
      const binary = running ? undefined : which('nats-server', env);
      const answer = binary ? await runCommand(binary, ['--version'], { timeoutMs: 10_000, env: { PATH: env.PATH ?? '' } }) : undefined;
      return natsSituation({ binary, versionText: answer && `${answer.stdout}\n${answer.stderr}`, running, suggest });
    },
  };
}
