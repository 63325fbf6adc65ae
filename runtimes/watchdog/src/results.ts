import type { InvocationResult } from '@nanofaas/runtime-node/kit';

/** Exit status that means "the function rejected its input" (sysexits EX_DATAERR). */
export const EXIT_INVALID_INPUT = 65;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderrTail: string;
}

/** The runtime contract's mapping (docs/design.md §5.6) of a finished command: 0 → its JSON output, 65 → INVALID_INPUT, else FUNCTION_ERROR. */
export function resultFromExit({ code, signal, stdout, stderrTail }: ExitInfo): InvocationResult {
  if (code === 0) return resultFromOutput(stdout, 'stdout');
  if (code === EXIT_INVALID_INPUT) {
    return { ok: false, code: 'INVALID_INPUT', message: stderrTail || `the command rejected its input (exit ${EXIT_INVALID_INPUT})` };
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return { ok: false, code: 'FUNCTION_ERROR', message: stderrTail ? `the command ${how}: ${stderrTail}` : `the command ${how}` };
}

/** The output must be exactly one JSON value; it is forwarded as the text the command wrote. */
export function resultFromOutput(text: string, where: string): InvocationResult {
  const body = text.trim();
  if (body === '') return { ok: false, code: 'FUNCTION_ERROR', message: `the command wrote nothing to ${where}` };
  try {
    JSON.parse(body);
  } catch {
    const preview = body.length > 200 ? `${body.slice(0, 200)}…` : body;
    return { ok: false, code: 'FUNCTION_ERROR', message: `the command's ${where} is not JSON: ${preview}` };
  }
  return { ok: true, body };
}

export function spawnFailure(argv: readonly string[], err: NodeJS.ErrnoException): InvocationResult {
  return { ok: false, code: 'FUNCTION_ERROR', message: `cannot start the command "${argv[0]}": ${err.code ?? err.message}` };
}

/**
 * Variables meant for the watchdog alone, never for the commands it runs: the callback credential
 * (function code must not be able to complete other executions with it) and the parent-pipe
 * contract (a command whose stdin is not that pipe would read EOF and kill the whole group).
 */
export const WATCHDOG_ONLY_ENV: readonly string[] = ['CALLBACK_TOKEN', 'NANOFAAS_PARENT_PIPE'];

/** The watchdog's environment minus what is the watchdog's alone: the base of every command's env. */
export function commandEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  for (const name of WATCHDOG_ONLY_ENV) delete out[name];
  return out;
}

export function invocationEnv(
  base: NodeJS.ProcessEnv,
  inv: { executionId: string; traceId: string; attempt: number; metadata: Record<string, string> },
): NodeJS.ProcessEnv {
  return {
    ...commandEnv(base),
    NANOFAAS_EXECUTION_ID: inv.executionId,
    NANOFAAS_TRACE_ID: inv.traceId,
    NANOFAAS_ATTEMPT: String(inv.attempt),
    NANOFAAS_METADATA: JSON.stringify(inv.metadata),
  };
}
