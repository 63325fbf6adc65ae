/**
 * JetStream's acknowledged publish (what `js.publish` does: a publish whose reply subject gets the
 * server's PubAck once the message is stored), without the client's per-request machinery.
 *
 * Why: `js.publish` is a `nc.request` — per call a request object, a promise, its own timer, a
 * mux entry, an options copy and an Error built (with its stack) when the request is closed even
 * after it succeeded: a large part of what an enqueue cost the control plane beyond HTTP.
 * Here every ack comes to one subscription (`<inbox>.<n>`), pending publishes sit in one Map, and
 * one timer sweeps those whose ack did not come in time (a lost connection; the server answers
 * every publish it receives). The stored message is byte for byte what `js.publish` sends.
 *
 * The HPUB frame is written here as one string encoded once (`nc.publish` encodes the protocol
 * line, the headers and the payload apart, checks subject and reply with a regex each, and copies
 * the three into its buffer), straight into the connection's outbound buffer (`sendCommand`, the
 * call `nc.publish` ends in: same buffering while reconnecting, same flush). That reaches into
 * the client's protocol handler (@nats-io/nats-core 3.3), so it is used only when the handler has
 * the expected shape, otherwise `nc.publish`; test/nats/ack-publisher.test.ts checks both store
 * the same bytes. An ack is read from its bytes when it has the server's usual shape
 * (`{"stream":"S","seq":N}` and optional `"duplicate":true`), else parsed as JSON.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';

export interface PubAck {
  /** The stream sequence of the stored message (the first one's, for a duplicate). */
  seq: number;
  /** The server dropped this publish as a repeat of its Nats-Msg-Id within the duplicate window. */
  duplicate: boolean;
}

interface Pending {
  resolve(ack: PubAck): void;
  reject(err: Error): void;
  deadline: number;
}

/** What of @nats-io/nats-core's ProtocolHandler (`nc.protocol`) the direct write uses. */
interface Protocol {
  sendCommand(cmd: string | Uint8Array, ...payloads: Uint8Array[]): void;
  noMorePublishing: boolean;
  info?: { max_payload: number; headers?: boolean };
  outMsgs: number;
  outBytes: number;
}

function protocolOf(nc: NatsConnection): Protocol | undefined {
  const p = (nc as unknown as { protocol?: Partial<Protocol> }).protocol;
  return p && typeof p.sendCommand === 'function' && typeof p.outMsgs === 'number' && typeof p.outBytes === 'number'
    ? (p as Protocol)
    : undefined;
}

const WHITESPACE = /\s/;
const SEQ = '"seq":';

interface AckBody {
  stream?: string;
  seq?: number;
  duplicate?: boolean;
  error?: { code?: number; err_code?: number; description?: string };
}

/** Header that makes the server deduplicate a publish within the stream's window. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

export class AckPublisher {
  private readonly prefix: string;
  private readonly pending = new Map<number, Pending>();
  private readonly sub: Subscription;
  private readonly sweeper: NodeJS.Timeout;
  /** Undefined: write through nc.publish (the handler is not the shape this module knows). */
  private readonly protocol: Protocol | undefined;
  private next = 0;

  /** `inbox`: a unique subject (createInbox()); `timeoutMs`: how long an ack may take (js.publish's default is 5 s). */
  constructor(
    private readonly nc: NatsConnection,
    inbox: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.prefix = `${inbox}.`;
    this.protocol = protocolOf(nc);
    this.sub = nc.subscribe(`${inbox}.*`, { callback: (err, msg) => (err ? this.failAll(err) : this.onAck(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.min(1_000, timeoutMs));
    this.sweeper.unref();
  }

  /** Resolves once the server has stored the message; rejects when it refused it or did not answer in time. */
  publish(subject: string, payload: string, headers?: MsgHdrs): Promise<PubAck> {
    const id = ++this.next;
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.send(subject, this.prefix + id, payload, headers);
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * `HPUB <subject> <reply> <header bytes> <total bytes>\r\n<headers><payload>\r\n` (`PUB <subject>
   * <reply> <bytes>\r\n<payload>\r\n` without headers), what nc.publish writes. Anything unusual (a closed or draining connection, an odd subject, a
   * payload over the server's limit, a server without headers) goes through nc.publish, which
   * throws the client's own error for it.
   */
  private send(subject: string, reply: string, payload: string, headers: MsgHdrs | undefined): void {
    const p = this.protocol;
    if (
      p === undefined ||
      p.noMorePublishing ||
      p.info?.headers === false ||
      this.nc.isClosed() ||
      subject === '' ||
      WHITESPACE.test(subject)
    ) {
      this.nc.publish(subject, payload, { reply, headers });
      return;
    }
    const head = headers === undefined ? '' : headers.toString();
    const hlen = Buffer.byteLength(head);
    const len = hlen + Buffer.byteLength(payload);
    if (p.info !== undefined && len > p.info.max_payload) {
      this.nc.publish(subject, payload, { reply, headers });
      return;
    }
    p.outBytes += len;
    p.outMsgs++;
    // A message without headers is a plain PUB, as nc.publish would send it.
    p.sendCommand(
      Buffer.from(
        headers === undefined
          ? `PUB ${subject} ${reply} ${len}\r\n${payload}\r\n`
          : `HPUB ${subject} ${reply} ${hlen} ${len}\r\n${head}${payload}\r\n`,
      ),
    );
  }

  /** Stops the sweeper and rejects what is still waiting (the connection is closing). */
  close(): void {
    clearInterval(this.sweeper);
    this.sub.unsubscribe();
    this.failAll(new Error('the NATS connection is closing'));
  }

  private onAck(msg: Msg): void {
    const id = Number(msg.subject.slice(this.prefix.length));
    const p = this.pending.get(id);
    if (p === undefined) return; // already timed out
    this.pending.delete(id);
    if (msg.data.length === 0) {
      // A status message: 503 = no stream listens on the subject (JetStream off or stream gone).
      const code = msg.headers?.code;
      p.reject(
        new Error(code === 503 ? 'no JetStream stream answered the publish (no responders)' : `publish answered with status ${code}`),
      );
      return;
    }
    const text = msg.string();
    const quick = quickAck(text);
    if (quick !== undefined) {
      p.resolve(quick);
      return;
    }
    let ack: AckBody;
    try {
      ack = JSON.parse(text) as AckBody;
    } catch {
      p.reject(new Error('the publish acknowledgement is not JSON'));
      return;
    }
    if (ack.error) p.reject(new Error(`${ack.error.description ?? 'publish refused'} (${ack.error.err_code ?? ack.error.code})`));
    else if (typeof ack.seq !== 'number' || !ack.stream) p.reject(new Error('invalid publish acknowledgement'));
    else p.resolve({ seq: ack.seq, duplicate: ack.duplicate === true });
  }

  /** Pending entries are in publish order with one timeout, so the expired ones come first. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(id);
      p.reject(new Error(`no publish acknowledgement within ${this.timeoutMs} ms`));
    }
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * The server's PubAck, `{"stream":"<name>","seq":<n>}` with `,"duplicate":true` after a repeat
 * (nats-server writes it with Go's encoding/json, fields in this order, no spaces), read without
 * JSON.parse. Undefined for anything else (an error, a domain, another layout): JSON.parse then.
 */
export function quickAck(text: string): PubAck | undefined {
  if (!text.startsWith('{"stream":"')) return undefined;
  const at = text.indexOf(SEQ, 11);
  // A stream name holds no quote, so the first `","seq":` ends it (or a domain, not read here either).
  if (at < 14 || text.charCodeAt(at - 1) !== 44 || text.charCodeAt(at - 2) !== 34) return undefined;
  let i = at + SEQ.length;
  let seq = 0;
  const first = i;
  for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) seq = seq * 10 + (c - 48);
  if (i === first || i - first > 15) return undefined;
  const rest = text.slice(i);
  if (rest === '}') return { seq, duplicate: false };
  if (rest === ',"duplicate":true}') return { seq, duplicate: true };
  return undefined;
}
