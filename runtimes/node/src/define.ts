/** What a handler receives besides its input. */
export interface FunctionContext {
  functionName: string;
  /** X-Execution-Id of the request ('' when called without one). */
  executionId: string;
  /** X-Trace-Id of the request ('' when absent). */
  traceId: string;
  /** X-Dispatch-Attempt (1 for the first attempt). */
  attempt: number;
  metadata: Readonly<Record<string, string>>;
  /** Epoch milliseconds after which the runtime has already answered 504. */
  deadline: number;
  /** Aborted at the deadline (and on shutdown); pass it to fetch, timers, child processes. */
  signal: AbortSignal;
}

export type FunctionHandler<I = unknown, O = unknown> = (input: I, ctx: FunctionContext) => O | Promise<O>;

/**
 * Identity at run time; gives authors types for `input` and the context. The runtime does not
 * validate `I` — check the input and throw InvalidInputError when it does not fit.
 */
export function defineFunction<I = unknown, O = unknown>(handler: FunctionHandler<I, O>): FunctionHandler<I, O> {
  return handler;
}

/**
 * Output that is already serialised JSON. The runtime sends the text unchanged, which keeps object
 * keys in the order the handler wrote them — JavaScript objects move integer-like keys first.
 * The text is trusted: it must be valid JSON.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export function jsonText(text: string): JsonText {
  return new JsonText(text);
}
