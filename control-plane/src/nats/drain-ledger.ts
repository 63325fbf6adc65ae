/**
 * Deleted registrations whose backlog may still be in the stream (docs/design.md §3.12), kept in
 * the KV bucket `nanofaas_drains`, key `<name>.<generation>`. The replica that deletes a function
 * notes its registration here before the registry deletion is written; any replica's finished
 * drain of it takes the note off; a starting replica drains what is still noted. So a drain cut
 * short (every replica stopped or killed while a deleted function's queued invocations were being
 * ended) is finished at the next start, and an accepted invocation of a deleted function still
 * ends with a recorded outcome (FUNCTION_DELETED) instead of staying queued with no consumer.
 */
import type { KV } from '@nats-io/kv';
import { FUNCTION_NAME_PATTERN } from '../contracts/index.js';
import type { NatsClient } from './client.js';
import type { Registration } from './work-queue.js';

export const DRAINS_BUCKET = 'nanofaas_drains';
const STREAM = `KV_${DRAINS_BUCKET}`;
const SUBJECT_PREFIX = `$KV.${DRAINS_BUCKET}.`;
const NAME = new RegExp(FUNCTION_NAME_PATTERN);
/** A registration stored before generations has none (''); a KV key token cannot be empty. */
const NO_GENERATION = '_';
const encoder = new TextEncoder();

const keyOf = (r: Registration): string => `${r.name}.${r.generation || NO_GENERATION}`;

function registrationOf(key: string): Registration | undefined {
  const dot = key.lastIndexOf('.');
  const name = key.slice(0, dot);
  const generation = key.slice(dot + 1);
  if (dot < 1 || !NAME.test(name)) return undefined;
  return { name, generation: generation === NO_GENERATION ? '' : generation };
}

/**
 * Notes are put through KV, but read and taken off on the bucket's stream by subject, as
 * execution-kv.ts forgets idempotency keys: listing keys through the KV client (an ordered
 * consumer) waited out a 30 s timeout on nats-server 2.9 now and then, and a start waits for this
 * read. Nothing watches this bucket, so a note taken off needs no purge marker.
 */
export class DrainLedger {
  private constructor(
    private readonly kv: KV,
    private readonly client: NatsClient,
  ) {}

  static async open(client: NatsClient): Promise<DrainLedger> {
    return new DrainLedger(await client.kvm.create(DRAINS_BUCKET, { history: 1 }), client);
  }

  /** Before the registration's deletion is written: its backlog is to be drained. */
  async note(registration: Registration): Promise<void> {
    await this.kv.put(keyOf(registration), encoder.encode(new Date().toISOString()));
  }

  /** A drain of the registration finished: nothing of it is left queued. */
  async done(registration: Registration): Promise<void> {
    await this.client.jsm.streams.purge(STREAM, { filter: SUBJECT_PREFIX + keyOf(registration) });
  }

  /** The registrations still noted. */
  async pending(): Promise<Registration[]> {
    const info = await this.client.jsm.streams.info(STREAM, { subjects_filter: `${SUBJECT_PREFIX}>` });
    const found: Registration[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const registration = registrationOf(subject.slice(SUBJECT_PREFIX.length));
      if (registration) found.push(registration);
    }
    return found;
  }
}
