/**
 * Every attempt's deadline on one timer. A setTimeout per attempt cost about 0.2 µs of a sync call
 * at c=32 (a Timeout object, a timer-list insert that reads libuv's clock, the unenroll) for a
 * timer that almost never fires (bench:cp-profile). Pending attempts are kept in deadline order in
 * a doubly-linked list: a new deadline is almost always the latest, so it is linked at the tail
 * after one comparison. One timer is armed for the earliest; when it fires early (the earliest
 * attempt ended meanwhile) it is armed again for the new earliest. No timer is left armed once
 * no attempt is pending, so an idle control plane holds none.
 */
export interface Pending {
  /** When it times out (performance.now() ms); 0 while it is not in a Deadlines list. */
  deadline: number;
  previous: Pending | undefined;
  next: Pending | undefined;
  expire(): void;
}

export class Deadlines {
  private head: Pending | undefined;
  private tail: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;

  add(handler: Pending, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    handler.deadline = deadline;
    let before = this.tail;
    while (before && before.deadline > deadline) before = before.previous;
    handler.previous = before;
    handler.next = before ? before.next : this.head;
    if (handler.next) handler.next.previous = handler;
    else this.tail = handler;
    if (before) before.next = handler;
    else this.head = handler;
    if (deadline < this.armedFor) this.arm(deadline);
  }

  remove(handler: Pending): void {
    if (handler.deadline === 0) return;
    handler.deadline = 0;
    const { previous, next } = handler;
    if (previous) previous.next = next;
    else this.head = next;
    if (next) next.previous = previous;
    else this.tail = previous;
    handler.previous = handler.next = undefined;
    if (!this.head) this.disarm();
  }

  /** Shutdown: no attempt is left to time out. */
  clear(): void {
    while (this.head) this.remove(this.head);
  }

  private arm(deadline: number): void {
    clearTimeout(this.timer);
    this.armedFor = deadline;
    this.timer = setTimeout(() => this.fire(), Math.max(1, Math.ceil(deadline - performance.now())));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (let first = this.head; first && first.deadline <= now; first = this.head) {
      this.remove(first);
      first.expire();
    }
    if (this.head) this.arm(this.head.deadline);
  }
}
