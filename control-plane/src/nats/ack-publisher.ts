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
  private next = 0;

  /** `inbox`: a unique subject (createInbox()); `timeoutMs`: how long an ack may take (js.publish's default is 5 s). */
  constructor(
    private readonly nc: NatsConnection,
    inbox: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.prefix = `${inbox}.`;
    this.sub = nc.subscribe(`${inbox}.*`, { callback: (err, msg) => (err ? this.failAll(err) : this.onAck(msg)) });
    this.sweeper = setInterval(() => this.sweep(), Math.min(1_000, timeoutMs));
    this.sweeper.unref();
  }

  /** Resolves once the server has stored the message; rejects when it refused it or did not answer in time. */
  publish(subject: string, payload: string, headers: MsgHdrs): Promise<PubAck> {
    const id = ++this.next;
    return new Promise<PubAck>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, deadline: Date.now() + this.timeoutMs });
      try {
        this.nc.publish(subject, payload, { reply: this.prefix + id, headers });
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
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
    let ack: AckBody;
    try {
      ack = JSON.parse(msg.string()) as AckBody;
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
