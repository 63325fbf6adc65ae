/**
 * The function registry in JetStream KV (`nanofaas_functions`, key = function name, value = the
 * resolved spec as JSON), shared by every replica. It implements the file store's interface, so
 * FunctionRegistry persists through it unchanged, and adds a watch that tells a replica about
 * registrations, changes and deletions made through any other one.
 *
 * FunctionRegistry saves its whole list after each change; `save` turns that into per-function
 * puts and deletes against what this replica last knew to be in the bucket (its own writes and
 * what the watch delivered). So a replica never deletes a function it has not seen, and a list
 * saved before a remote deletion arrived does not write the deleted function back.
 *
 * Registration generation: a function created (saved while absent) gets a new random token,
 * stored in its value beside the spec (`generation`) and kept by every later save of it; the API
 * never sees it (it is taken off before the spec reaches the registry). It names what JetStream
 * holds for that one registration (work-queue.ts, execution-kv.ts), so the removal of a deleted
 * registration, however late a replica runs it, cannot touch the next one. A random token rather
 * than the creating KV revision: it is known before the one write that stores it (a revision is
 * known only after), and a registry bucket made again (revisions from 1) cannot repeat an old one
 * whose consumer or messages are still in the stream. A value stored before generations has none
 * (generation ''). The watch passes a change's generation on (a deletion: the generation of the
 * put it ends) and skips entries older than what this replica already wrote or saw for the name:
 * a late echo of an old registration is never applied over a newer one.
 */
import { randomBytes } from 'node:crypto';
import type { KV, KvEntry } from '@nats-io/kv';
import { FUNCTION_NAME_PATTERN, type FunctionSpec } from '../contracts/index.js';
import { ApiError } from '../errors.js';
import type { FunctionStore } from '../registry/store.js';
import type { NatsClient } from './client.js';

export const REGISTRY_BUCKET = 'nanofaas_functions';
const NAME = new RegExp(FUNCTION_NAME_PATTERN);
const encoder = new TextEncoder();

/** A deletion's generation is undefined when this replica never saw the function stored. */
export type RegistryChange =
  | { kind: 'put'; spec: FunctionSpec; generation: string }
  | { kind: 'delete'; name: string; generation: string | undefined };

/** 48 random bits as lowercase hex: a subject token and a durable name part on any filesystem. */
export const newGeneration = (): string => randomBytes(6).toString('hex');
const GENERATION = /^[a-z0-9]{1,32}$/;

/** The stored value: the spec, plus its generation. */
function decode(text: string): { spec: FunctionSpec; generation: string } {
  const { generation, ...spec } = JSON.parse(text) as FunctionSpec & { generation?: unknown };
  return { spec, generation: typeof generation === 'string' && GENERATION.test(generation) ? generation : '' };
}

export class KvFunctionStore implements FunctionStore {
  /** Name → the stored value and its generation, as this replica last knew them to be in the bucket. */
  private readonly known = new Map<string, { text: string; generation: string }>();
  /** Name → the newest bucket revision this replica wrote or saw, and the generation stored then. */
  private readonly latest = new Map<string, { revision: number; generation: string | undefined }>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    private readonly client: NatsClient,
    private readonly beforeDelete: (registration: { name: string; generation: string }) => Promise<void>,
  ) {}

  /**
   * `beforeDelete`: awaited before a function's deletion is written (drain-ledger.ts notes its
   * registration there); when it fails, nothing is deleted.
   */
  static async open(
    client: NatsClient,
    beforeDelete: (registration: { name: string; generation: string }) => Promise<void> = async () => undefined,
  ): Promise<KvFunctionStore> {
    return new KvFunctionStore(await client.kvm.create(REGISTRY_BUCKET, { history: 1 }), client, beforeDelete);
  }

  /** The generation of the function as stored (its registration), once this replica knows it. */
  generationOf(name: string): string | undefined {
    return this.known.get(name)?.generation;
  }

  async load(): Promise<FunctionSpec[]> {
    const specs: FunctionSpec[] = [];
    const names: string[] = [];
    for await (const name of await this.kv.keys()) names.push(name);
    for (const name of names) {
      const entry = await this.kv.get(name);
      if (entry?.operation !== 'PUT' || !NAME.test(name)) continue;
      const text = entry.string();
      const { spec, generation } = decode(text);
      this.known.set(name, { text, generation });
      this.seen(name, entry.revision, generation);
      specs.push(spec);
    }
    return specs;
  }

  save(specs: FunctionSpec[]): Promise<void> {
    const next = this.writes.then(async () => {
      for (const spec of specs) {
        const before = this.known.get(spec.name);
        // Created while absent: a new registration. A change keeps its generation.
        const generation = before?.generation ?? newGeneration();
        const text = JSON.stringify({ ...spec, generation });
        if (before?.text === text) continue;
        const revision = before ? await this.kv.put(spec.name, encoder.encode(text)) : await this.create(spec.name, text);
        this.known.set(spec.name, { text, generation });
        this.seen(spec.name, revision, generation);
      }
      const wanted = new Set(specs.map((s) => s.name));
      for (const name of [...this.known.keys()]) {
        if (wanted.has(name)) continue;
        await this.beforeDelete({ name, generation: this.known.get(name)!.generation });
        await this.kv.delete(name);
        this.known.delete(name);
        // The client answers a delete with no revision, but it lies above the last put this
        // replica knows: half a step up orders that put's late echo before it, and keeps the
        // generation the coming deletion entry ends.
        const last = this.latest.get(name);
        if (last) this.latest.set(name, { revision: Math.floor(last.revision) + 0.5, generation: last.generation });
      }
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  /**
   * A new registration is a KV create: one made at the same moment through another replica (not
   * seen here yet) is refused, not overwritten, so two generations of a name never both exist
   * (a put of another generation always follows a deletion).
   */
  private async create(name: string, text: string): Promise<number> {
    try {
      return await this.kv.create(name, encoder.encode(text));
    } catch (err) {
      const entry = await this.kv.get(name).catch(() => null);
      if (entry?.operation === 'PUT')
        throw new ApiError('FUNCTION_EXISTS', `function "${name}" already exists (registered through another replica)`);
      throw err;
    }
  }

  /**
   * Calls `onChange` for every change written after the watch starts, by any replica, in the
   * bucket's order (this one's own writes included: applying them again must be harmless).
   * Skipped: an entry older than what this replica wrote or saw for the name (a write overtaken by
   * a newer one, e.g. the echo of a registration it has deleted since): applying it would bring
   * back an older state, a deleted registration over the one made after it. Returns `stop`.
   */
  async watch(onChange: (change: RegistryChange) => void): Promise<() => void> {
    const { KvWatchInclude } = this.client.kvModule;
    const watch = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const entry of watch) {
        const change = this.changeOf(entry);
        if (change) onChange(change);
      }
    })();
    return () => watch.stop();
  }

  private changeOf(entry: KvEntry): RegistryChange | undefined {
    const name = entry.key;
    const last = this.latest.get(name);
    if (!NAME.test(name) || (last && entry.revision < last.revision)) return undefined;
    // Known before the listener runs, so a save() it triggers sees the same state.
    if (entry.operation === 'PUT') {
      const text = entry.string();
      const { spec, generation } = decode(text);
      this.known.set(name, { text, generation });
      this.seen(name, entry.revision, generation);
      return { kind: 'put', spec, generation };
    }
    this.known.delete(name);
    this.seen(name, entry.revision, undefined);
    return { kind: 'delete', name, generation: last?.generation };
  }

  private seen(name: string, revision: number, generation: string | undefined): void {
    const last = this.latest.get(name);
    if (!last || revision > last.revision) this.latest.set(name, { revision, generation });
  }
}
