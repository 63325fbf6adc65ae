/**
 * Lingering close, the way nginx does it. When we answer before the client has finished sending
 * (413, 503, a malformed request) and then close, the kernel answers the bytes still arriving
 * with a reset, and a reset makes the client's kernel throw away our answer before the client
 * read it: the client sees EPIPE/ECONNRESET instead of a 413. So after such an answer we only
 * half-close (our FIN follows the answer), keep reading and discarding, and close once the client
 * has finished (its body is complete or it closed its side), or when a bound is reached:
 * `maxBytes` more bytes (checked every METER_INTERVAL_MS), `idleMs` without a byte, or
 * `totalMs` in all.
 */
import { Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';

export interface LingerBounds {
  maxBytes: number;
  idleMs: number;
  totalMs: number;
}

const LINGERING = Symbol('nanofaas.lingering');
/** How often the byte bound is checked: it may be overshot by what arrives in this time. */
export const METER_INTERVAL_MS = 50;

type MaybeLingering = Socket & { [LINGERING]?: true };

export function isLingering(socket: Socket): boolean {
  return (socket as MaybeLingering)[LINGERING] === true;
}

/**
 * Call once the answer has been written (or queued) on `socket`. `request`, when given, is the
 * request whose body is still arriving: the connection closes as soon as that body is complete.
 */
export function linger(socket: Socket, bounds: LingerBounds, request?: IncomingMessage): void {
  const s = socket as MaybeLingering;
  if (s[LINGERING] || s.destroyed) return;
  s[LINGERING] = true;
  const startBytes = s.bytesRead;
  const cut = () => s.destroy();
  // The client is done sending: let our answer finish flushing, then close.
  const finish = () => Socket.prototype.destroySoon.call(s);
  // node:http's parser reads the socket natively (no 'data' events; adding a listener would take
  // the socket off that path mid-stream), but every read refreshes the socket timer, and
  // bytesRead counts every byte.
  s.setTimeout(bounds.idleMs, cut);
  const total = setTimeout(cut, bounds.totalMs);
  const meter = setInterval(() => {
    if (s.bytesRead - startBytes > bounds.maxBytes) cut();
  }, METER_INTERVAL_MS);
  s.once('close', () => {
    clearTimeout(total);
    clearInterval(meter);
  });
  s.once('end', finish);
  if (request !== undefined) {
    if (request.complete) {
      finish();
      return;
    }
    request.once('end', finish);
    // Nobody reads it any more; flowing with no listener discards it.
    request.resume();
  }
  if (s.writable) s.end();
}
