/**
 * The newest finished executions, kept as columns over a ring of `capacity` slots (slot = finish
 * sequence number modulo capacity), found by id through a direct-mapped index, all in typed arrays.
 *
 * Why columns: a control plane under load keeps every record past the young generation, so each
 * object a record is made of is copied and promoted by the garbage collector, marked by every full
 * collection while it is kept, and looked up through large Maps (cache misses per insert, a rehash
 * as each grows). As objects, a record was seven of them (the execution, its outcome, the id, the
 * output and three boxed timestamps) plus a Map entry; here it is the output string and numbers in
 * arrays the collector never scans, the id included as its 16 bytes (`bench/cp-store.ts`,
 * BENCHMARKS.md).
 *
 * Why direct-mapped: an id starts with its execution's creation number (newExecutionId), and the
 * index bucket is that number modulo a power of two at least twice the capacity. Records are added
 * and evicted in about the order they were created, so both touch memory next to the last ones;
 * a hash of random bits missed the cache twice per call (about 0.35 µs at c=32, bench:cp-profile).
 * Two kept records share a bucket only when one was created a whole index length of executions
 * before the other (it ran that long); the later one then goes to a small Map.
 *
 * A record is read back as a new Execution object (finished records do not change).
 */
import type { Execution, Outcome } from './executions.js';

/** Each character's value as a lowercase hex digit, -1 for any other. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
/** Where an id's 32 hex digits are (the dashes are at 8, 13, 18 and 23). */
const DIGIT_AT = Uint8Array.from({ length: 36 }, (_, i) => i).filter((i) => i !== 8 && i !== 13 && i !== 18 && i !== 23);

/**
 * The 16 bytes of an id as newExecutionId writes it (8-4-4-4-12 lowercase hex digits) into
 * words[at..at+3]; false for any other text, which no record has.
 */
function parseId(id: string, words: Int32Array, at: number): boolean {
  if (id.length !== 36) return false;
  if (id.charCodeAt(8) !== 45 || id.charCodeAt(13) !== 45 || id.charCodeAt(18) !== 45 || id.charCodeAt(23) !== 45) return false;
  let invalid = 0;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let d = w * 8; d < w * 8 + 8; d++) {
      const c = id.charCodeAt(DIGIT_AT[d]!);
      const value = c < 128 ? HEX_VALUE[c]! : -1;
      invalid |= value;
      word = (word << 4) | (value & 15);
    }
    words[at + w] = word;
  }
  return invalid >= 0;
}

function formatId(words: Int32Array, at: number): string {
  let hex = '';
  for (let i = 0; i < 4; i++) hex += (words[at + i]! >>> 0).toString(16).padStart(8, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class FinishedRecords {
  private readonly capacity: number;
  /** Each slot's id as four words; the first is its creation number, the index's key. */
  private readonly idWords: Int32Array;
  /** Also what marks a slot in use. */
  private readonly functionNames: (string | undefined)[];
  /** The output JSON of a plain success (200, no error, no headers); the Outcome itself otherwise. */
  private readonly results: (string | Outcome | undefined)[];
  private readonly seqs: Float64Array;
  private readonly createdAt: Float64Array;
  private readonly startedAt: Float64Array;
  private readonly finishedAt: Float64Array;
  private readonly attempts: Uint32Array;
  private readonly completedAttempt: Uint32Array;
  /** slot + 1 per bucket (0: empty); the bucket is the id's first word (its creation number) & mask. */
  private readonly index: Int32Array;
  private readonly mask: number;
  /** Slots of records whose bucket was taken when they were added, by id. */
  private readonly overflow = new Map<string, number>();
  /** The words of the id being looked up. */
  private readonly query = new Int32Array(4);

  constructor(capacity: number) {
    this.capacity = capacity;
    this.idWords = new Int32Array(capacity * 4);
    this.functionNames = new Array<string | undefined>(capacity);
    this.results = new Array<string | Outcome | undefined>(capacity);
    this.seqs = new Float64Array(capacity);
    this.createdAt = new Float64Array(capacity);
    this.startedAt = new Float64Array(capacity);
    this.finishedAt = new Float64Array(capacity);
    this.attempts = new Uint32Array(capacity);
    this.completedAttempt = new Uint32Array(capacity);
    let buckets = 2;
    while (buckets < capacity * 2) buckets *= 2;
    this.index = new Int32Array(buckets);
    this.mask = buckets - 1;
  }

  /** Keeps `execution` (already finished, with finishSeq set) in its slot, dropping that slot's older record. */
  add(execution: Execution): void {
    const seq = execution.finishSeq;
    const slot = seq % this.capacity;
    if (this.functionNames[slot] !== undefined) this.remove(slot);
    if (!parseId(execution.id, this.idWords, slot * 4)) throw new Error(`not an execution id: ${execution.id}`);
    const outcome = execution.outcome!;
    const plain = outcome.status === 'success' && outcome.httpStatus === 200 && !outcome.error && !outcome.headers;
    this.functionNames[slot] = execution.functionName;
    this.results[slot] = plain && outcome.outputJson !== undefined ? outcome.outputJson : outcome;
    this.seqs[slot] = seq;
    this.createdAt[slot] = execution.createdAt;
    this.startedAt[slot] = execution.startedAt;
    this.finishedAt[slot] = execution.finishedAt;
    this.attempts[slot] = execution.attempts;
    this.completedAttempt[slot] = execution.completedAttempt;
    const bucket = this.idWords[slot * 4]! & this.mask;
    if (this.index[bucket] === 0) this.index[bucket] = slot + 1;
    else this.overflow.set(execution.id, slot);
  }

  /** The record with this id, if it is still kept. */
  get(id: string): Execution | undefined {
    const query = this.query;
    if (!parseId(id, query, 0)) return undefined;
    const inBucket = this.index[query[0]! & this.mask]! - 1;
    if (inBucket >= 0) {
      const words = this.idWords;
      const at = inBucket * 4;
      if (words[at] === query[0] && words[at + 1] === query[1] && words[at + 2] === query[2] && words[at + 3] === query[3])
        return this.read(inBucket);
    }
    const slot = this.overflow.size === 0 ? undefined : this.overflow.get(id);
    return slot === undefined ? undefined : this.read(slot);
  }

  /** Finish time of the record with this sequence number, if it is still in its slot. */
  finishedAtOf(seq: number): number | undefined {
    const slot = seq % this.capacity;
    return this.functionNames[slot] !== undefined && this.seqs[slot] === seq ? this.finishedAt[slot] : undefined;
  }

  /** Frees the record with this sequence number (expired), if it is still in its slot. */
  drop(seq: number): void {
    const slot = seq % this.capacity;
    if (this.functionNames[slot] !== undefined && this.seqs[slot] === seq) this.remove(slot);
  }

  private read(slot: number): Execution {
    const result = this.results[slot]!;
    const outcome: Outcome = typeof result === 'string' ? { status: 'success', httpStatus: 200, outputJson: result } : result;
    return {
      id: formatId(this.idWords, slot * 4),
      functionName: this.functionNames[slot]!,
      createdAt: this.createdAt[slot]!,
      status: outcome.status,
      attempts: this.attempts[slot]!,
      startedAt: this.startedAt[slot]!,
      finishedAt: this.finishedAt[slot]!,
      outcome,
      completedAttempt: this.completedAttempt[slot]!,
      listeners: undefined,
      finishSeq: this.seqs[slot]!,
    };
  }

  /** Empties a slot and takes it out of the index. */
  private remove(slot: number): void {
    const bucket = this.idWords[slot * 4]! & this.mask;
    if (this.index[bucket] === slot + 1) this.index[bucket] = 0;
    else this.overflow.delete(formatId(this.idWords, slot * 4));
    this.functionNames[slot] = undefined;
    this.results[slot] = undefined;
  }
}
