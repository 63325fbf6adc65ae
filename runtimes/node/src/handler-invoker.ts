import { JsonText, type FunctionHandler } from './define.js';
import { isInvalidInputError } from './errors.js';
import { errorMessage, type Invocation, type InvocationResult, type Invoke } from './server.js';

/** Adapts an author's handler to the server's Invoke: errors → codes, output → JSON text. */
export function handlerInvoker(handler: FunctionHandler, functionName: string): Invoke {
  return async (inv: Invocation): Promise<InvocationResult> => {
    let output: unknown;
    try {
      output = await handler(inv.input, {
        functionName,
        executionId: inv.executionId,
        traceId: inv.traceId,
        attempt: inv.attempt,
        metadata: inv.metadata,
        deadline: inv.deadline,
        signal: inv.signal,
      });
    } catch (err) {
      if (isInvalidInputError(err)) return { ok: false, code: 'INVALID_INPUT', message: err.message };
      return { ok: false, code: 'FUNCTION_ERROR', message: errorMessage(err) };
    }
    if (output instanceof JsonText) return { ok: true, body: output.text };
    try {
      // undefined (a handler that returns nothing) is sent as JSON null.
      return { ok: true, body: JSON.stringify(output) ?? 'null' };
    } catch (err) {
      return { ok: false, code: 'FUNCTION_ERROR', message: `the output is not JSON-serialisable: ${errorMessage(err)}` };
    }
  };
}
