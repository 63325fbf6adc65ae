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
 */
import type { KV } from '@nats-io/kv';
import { FUNCTION_NAME_PATTERN, type FunctionSpec } from '../contracts/index.js';
import type { FunctionStore } from '../registry/store.js';
import type { NatsClient } from './client.js';

export const REGISTRY_BUCKET = 'nanofaas_functions';
const NAME = new RegExp(FUNCTION_NAME_PATTERN);
const encoder = new TextEncoder();

export type RegistryChange = { kind: 'put'; spec: FunctionSpec } | { kind: 'delete'; name: string };

export class KvFunctionStore implements FunctionStore {
  /** Name → spec JSON as this replica last knew it to be in the bucket. */
  private readonly known = new Map<string, string>();
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    private readonly kv: KV,
    private readonly client: NatsClient,
  ) {}

  static async open(client: NatsClient): Promise<KvFunctionStore> {
    return new KvFunctionStore(await client.kvm.create(REGISTRY_BUCKET, { history: 1 }), client);
  }

  async load(): Promise<FunctionSpec[]> {
    const specs: FunctionSpec[] = [];
    const names: string[] = [];
    for await (const name of await this.kv.keys()) names.push(name);
    for (const name of names) {
      const entry = await this.kv.get(name);
      if (entry?.operation !== 'PUT' || !NAME.test(name)) continue;
      const text = entry.string();
      this.known.set(name, text);
      specs.push(JSON.parse(text) as FunctionSpec);
    }
    return specs;
  }

  save(specs: FunctionSpec[]): Promise<void> {
    const next = this.writes.then(async () => {
      const wanted = new Map(specs.map((s) => [s.name, JSON.stringify(s)]));
      for (const [name, text] of wanted) {
        if (this.known.get(name) === text) continue;
        await this.kv.put(name, encoder.encode(text));
        this.known.set(name, text);
      }
      for (const name of [...this.known.keys()]) {
        if (wanted.has(name)) continue;
        await this.kv.delete(name);
        this.known.delete(name);
      }
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  /**
   * Calls `onChange` for every change written after the watch starts, by any replica (this one's
   * own writes included: applying them again must be harmless). Returns `stop`.
   */
  async watch(onChange: (change: RegistryChange) => void): Promise<() => void> {
    const { KvWatchInclude } = this.client.kvModule;
    const watch = await this.kv.watch({ include: KvWatchInclude.UpdatesOnly });
    void (async () => {
      for await (const entry of watch) {
        if (!NAME.test(entry.key)) continue;
        if (entry.operation === 'PUT') {
          const text = entry.string();
          // Known before the listener runs, so a save() it triggers sees the same state.
          this.known.set(entry.key, text);
          onChange({ kind: 'put', spec: JSON.parse(text) as FunctionSpec });
        } else {
          this.known.delete(entry.key);
          onChange({ kind: 'delete', name: entry.key });
        }
      }
    })();
    return () => watch.stop();
  }
}
