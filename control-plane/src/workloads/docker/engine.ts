/**
 * The few Engine API calls the docker backend makes, over the unix socket, through dockerode.
 * dockerode (with its gRPC and SSH dependencies) costs about 300 ms to import, so it is loaded on
 * the first call: a control plane on another backend never pays for it.
 */
import type Dockerode from 'dockerode';
import { engineStatusOf, toEngineError } from './errors.js';

/** How a container ended, from its inspect data. */
export interface ContainerState {
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
}

export interface EventsQuery {
  /** Unix time in seconds (fractions allowed): the Engine replays what happened since then first. */
  since: number;
  filters: Record<string, string[]>;
}

export interface Engine {
  readonly socketPath: string;
  ping(timeoutMs: number): Promise<void>;
  /** Creates (not starts) a container; resolves with its id. A missing image is `imageMissing`. */
  create(options: Dockerode.ContainerCreateOptions): Promise<string>;
  start(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs (rounded up to whole seconds, the Engine's unit). */
  stop(id: string, graceMs: number): Promise<void>;
  /** Force-removes a container by id or name; one that is already gone is no error. */
  remove(idOrName: string): Promise<void>;
  inspect(id: string): Promise<ContainerState | undefined>;
  /** Ids of every container (running or not) whose labels include all of `labels`. */
  list(labels: Record<string, string>): Promise<string[]>;
  /** The container's last `lines` lines of output (stdout and stderr interleaved). */
  logTail(id: string, lines: number): Promise<string[]>;
  hasImage(ref: string): Promise<boolean>;
  pull(ref: string): Promise<void>;
  /** The Engine's event stream (newline-delimited JSON). */
  events(query: EventsQuery): Promise<NodeJS.ReadableStream>;
}

let dockerode: Promise<typeof Dockerode> | undefined;
const loadDockerode = () => {
  dockerode ??= import('dockerode').then((m) => m.default);
  return dockerode;
};

/** Thrown by `create` when the image is not on the Engine, so the caller can pull it. */
export class ImageMissingError extends Error {
  override readonly name = 'ImageMissingError';
}

export function connectEngine(socketPath: string): Engine {
  let client: Promise<Dockerode> | undefined;
  const docker = () => {
    client ??= loadDockerode().then((Docker) => new Docker({ socketPath }));
    return client;
  };
  /** Runs one call, translating any failure into a DockerBackendError naming the socket. */
  const call = async <T>(what: string, fn: (d: Dockerode) => Promise<T>): Promise<T> => {
    try {
      return await fn(await docker());
    } catch (err) {
      throw toEngineError(err, what, socketPath);
    }
  };

  return {
    socketPath,
    async ping(timeoutMs) {
      await call('ping', async (d) => {
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        });
        try {
          await Promise.race([d.ping(), late]);
        } finally {
          clearTimeout(timer);
        }
      });
    },
    async create(options) {
      const what = `create container ${options.name ?? ''}`.trim();
      try {
        const container = await (await docker()).createContainer(options);
        return container.id;
      } catch (err) {
        if (engineStatusOf(err) === 404) throw new ImageMissingError(`image ${options.Image} is not on the Engine`);
        throw toEngineError(err, what, socketPath);
      }
    },
    async start(id) {
      await call(`start container ${short(id)}`, (d) => d.getContainer(id).start());
    },
    async stop(id, graceMs) {
      try {
        await (await docker()).getContainer(id).stop({ t: Math.ceil(graceMs / 1000) });
      } catch (err) {
        // 304: already stopped; 404: already removed.
        const status = engineStatusOf(err);
        if (status === 304 || status === 404) return;
        throw toEngineError(err, `stop container ${short(id)}`, socketPath);
      }
    },
    async remove(idOrName) {
      try {
        await (await docker()).getContainer(idOrName).remove({ force: true, v: true });
      } catch (err) {
        // 404: gone already; 409: removal already in progress (the Engine finishes it).
        const status = engineStatusOf(err);
        if (status === 404 || status === 409) return;
        throw toEngineError(err, `remove container ${short(idOrName)}`, socketPath);
      }
    },
    async inspect(id) {
      try {
        const info = await (await docker()).getContainer(id).inspect();
        return { running: info.State.Running, exitCode: info.State.ExitCode, oomKilled: info.State.OOMKilled };
      } catch (err) {
        if (engineStatusOf(err) === 404) return undefined;
        throw toEngineError(err, `inspect container ${short(id)}`, socketPath);
      }
    },
    list(labels) {
      const label = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
      return call('list containers', async (d) => (await d.listContainers({ all: true, filters: { label } })).map((c) => c.Id));
    },
    logTail(id, lines) {
      return call(`read the logs of container ${short(id)}`, async (d) => {
        const raw = (await d.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: lines })) as unknown as Buffer;
        return demux(raw)
          .split('\n')
          .map((l) => l.trimEnd())
          .filter((l) => l !== '');
      });
    },
    async hasImage(ref) {
      try {
        await (await docker()).getImage(ref).inspect();
        return true;
      } catch (err) {
        if (engineStatusOf(err) === 404) return false;
        throw toEngineError(err, `inspect image ${ref}`, socketPath);
      }
    },
    pull(ref) {
      return call(`pull image ${ref}`, async (d) => {
        const stream = await d.pull(ref);
        // The pull's outcome is in the stream: an error mid-way arrives as an event, not a status.
        await new Promise<void>((resolve, reject) => {
          d.modem.followProgress(stream, (err: Error | null, output: { error?: string }[]) => {
            const failed = err ?? output.find((o) => o.error);
            if (failed) reject(failed instanceof Error ? failed : new Error(failed.error));
            else resolve();
          });
        });
      });
    },
    events(query) {
      return call('watch events', (d) => d.getEvents({ since: query.since, filters: query.filters }));
    },
  };
}

const short = (id: string) => (/^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id);

/**
 * A non-TTY container's log stream: frames of an 8-byte header (stream, 0, 0, 0, size as 32-bit
 * big-endian) followed by that many bytes.
 */
export function demux(raw: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= raw.length) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}
