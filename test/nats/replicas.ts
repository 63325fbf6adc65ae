/**
 * Control-plane replicas in this process, in NATS mode against one nats-server: each on
 * 127.0.0.1:0 with a state dir of its own. `closeAll()` stops every one and removes the dirs.
 */
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../control-plane/src/config.js';
import { type ControlPlane, createControlPlane, type Listening } from '../../control-plane/src/control-plane.js';
import { removeDir, tempStateDir } from '../control-plane/helpers.js';
import { type FixtureRuntime, startFixtureRuntime } from '../fixtures/fixture-runtime.js';
import { NatsWorkQueue } from '../../control-plane/src/nats/work-queue.js';
import { type RunningNats, startNats } from './nats-server.js';

type Options = Parameters<typeof createControlPlane>[2];

export function natsReplicas() {
  const planes: ControlPlane[] = [];
  const dirs: string[] = [];
  return {
    /** A started replica connected to `natsUrl`; `env` adds to or overrides the NANOFAAS_* settings. */
    async start(natsUrl: string, env: Record<string, string> = {}, options?: Options): Promise<{ cp: ControlPlane; urls: Listening }> {
      const stateDir = tempStateDir();
      dirs.push(stateDir);
      const config = loadConfig({
        NANOFAAS_PORT: '0',
        NANOFAAS_HOST: '127.0.0.1',
        NANOFAAS_STATE_DIR: stateDir,
        NANOFAAS_NATS_URL: natsUrl,
        NANOFAAS_LOG_LEVEL: 'silent',
        ...env,
      });
      const cp = await createControlPlane(config, pino({ level: 'silent' }), options);
      planes.push(cp);
      return { cp, urls: await cp.start() };
    },
    /** Stops every replica started so far (closing one twice is harmless). */
    async closePlanes(): Promise<void> {
      await Promise.all(planes.map((cp) => cp.close()));
    },
    async closeAll(): Promise<void> {
      await Promise.all(planes.splice(0).map((cp) => cp.close()));
      for (const dir of dirs.splice(0)) removeDir(dir);
    },
  };
}

/**
 * A test file's nats-server, fixture runtime and one replica (its API at `api`), started before
 * the file's tests and stopped after them: the hooks are registered by this call.
 */
export function oneReplicaBed(): { nats: RunningNats; runtime: FixtureRuntime; api: string } {
  const replicas = natsReplicas();
  const bed = {} as { nats: RunningNats; runtime: FixtureRuntime; api: string };
  beforeAll(async () => {
    [bed.nats, bed.runtime] = await Promise.all([startNats(), startFixtureRuntime()]);
    bed.api = (await replicas.start(bed.nats.url)).urls.apiUrl;
  });
  afterAll(async () => {
    await replicas.closeAll();
    await bed.runtime?.close();
    await bed.nats?.close();
  });
  return bed;
}

/**
 * Holds every drain of a deleted registration (NatsWorkQueue.removeFunction, in this process) at
 * its start until `release()`: `reached` resolves when the first one gets there. `restore()` puts
 * the real method back for drains that start later; held ones go on only at `release()`.
 */
export function holdDrains(): { reached: Promise<void>; release(): void; restore(): void } {
  const removeFunction = NatsWorkQueue.prototype.removeFunction;
  let reachedDrain!: () => void;
  const reached = new Promise<void>((resolve) => (reachedDrain = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  NatsWorkQueue.prototype.removeFunction = async function (this: NatsWorkQueue, ...args: Parameters<typeof removeFunction>) {
    reachedDrain();
    await gate;
    return removeFunction.apply(this, args);
  };
  return {
    reached,
    release,
    restore: () => {
      NatsWorkQueue.prototype.removeFunction = removeFunction;
    },
  };
}
