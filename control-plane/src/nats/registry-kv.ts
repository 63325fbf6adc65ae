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
  ) {}

  static async open(client: NatsClient): Promise<KvFunctionStore> {
    return new KvFunctionStore(await client.kvm.create(REGISTRY_BUCKET, { history: 1 }), client);
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
        // Known before the write, so the watch recognizes its echo whenever it comes.
        this.known.set(spec.name, { text, generation });
        const revision = await this.kv.put(spec.name, encoder.encode(text)).catch((err: unknown) => {
          this.restore(spec.name, before);
          throw err;
        });
        this.seen(spec.name, revision, generation);
      }
      const wanted = new Set(specs.map((s) => s.name));
      for (const [name, before] of [...this.known]) {
        if (wanted.has(name)) continue;
        this.known.delete(name);
        await this.kv.delete(name).catch((err: unknown) => {
          this.restore(name, before);
          throw err;
        });
      }
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  /**
   * Calls `onChange` for every change written after the watch starts by another replica, in the
   * bucket's order. Skipped: what this replica knows already (its own writes coming back), and an
   * entry no newer than what it wrote or saw for the name (a write another one overtook): applying
   * that would bring back an older state, e.g. a deleted registration over the one made after it.
   * Returns `stop`.
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
    if (!NAME.test(name) || (last && entry.revision <= last.revision)) return undefined;
    // Known before the listener runs, so a save() it triggers sees the same state.
    if (entry.operation === 'PUT') {
      const text = entry.string();
      const { spec, generation } = decode(text);
      this.seen(name, entry.revision, generation);
      if (this.known.get(name)?.text === text) return undefined;
      this.known.set(name, { text, generation });
      return { kind: 'put', spec, generation };
    }
    this.seen(name, entry.revision, undefined);
    if (!this.known.delete(name)) return undefined;
    return { kind: 'delete', name, generation: last?.generation };
  }

  /** A failed write: what this replica knew before it. */
  private restore(name: string, before: { text: string; generation: string } | undefined): void {
    if (before) this.known.set(name, before);
    else this.known.delete(name);
  }

  private seen(name: string, revision: number, generation: string | undefined): void {
    const last = this.latest.get(name);
    if (!last || revision > last.revision) this.latest.set(name, { revision, generation });
  }
}
