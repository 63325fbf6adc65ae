import type { Invocation, InvocationResult } from '@nanofaas/runtime-node/kit';

/** How one execution mode runs an invocation. */
export interface Executor {
  invoke(inv: Invocation): Promise<InvocationResult>;
  /** Stop long-lived children (STREAM, HTTP). */
  close(): Promise<void>;
}
