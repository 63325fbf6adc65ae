/** Turning a runtime's answer into an execution outcome (docs/design.md §3.9 status mapping). */
import type { AttemptResult } from '../dispatch/dispatcher.js';
import type { ExecutionErrorInfo, Outcome } from './executions.js';
import { scanJson } from './json-scan.js';
import type { FailureKind } from './retry.js';

const CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

function runtimeError(body: string, fallbackCode: string, fallbackMessage: string): ExecutionErrorInfo {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown; details?: unknown } | null;
    if (parsed && typeof parsed === 'object') {
      const code = typeof parsed.error === 'string' && CODE_PATTERN.test(parsed.error) ? parsed.error : fallbackCode;
      const message = typeof parsed.message === 'string' ? parsed.message.slice(0, 4096) : fallbackMessage;
      return parsed.details === undefined ? { error: code, message } : { error: code, message, details: parsed.details };
    }
  } catch {
    // Not JSON: keep the fallback, with a bounded excerpt of what the runtime said.
  }
  const excerpt = body.slice(0, 512);
  return { error: fallbackCode, message: excerpt ? `${fallbackMessage}: ${excerpt}` : fallbackMessage };
}

/**
 * The outcome of a 2xx answer. A JSON body becomes the output as it is, so it must be JSON: the
 * sync answer is assembled around it and GET /v1/executions parses it. The check is a scan that
 * builds nothing (json-scan.ts); JSON.parse only reads what the scan does not pass, for its error.
 */
export function answerOutcome(body: string, json: boolean, runtimeStatus = 200): Outcome {
  if (!json) return { status: 'success', httpStatus: 200, outputJson: JSON.stringify(body) };
  if (body === '') return { status: 'success', httpStatus: 200, outputJson: 'null' };
  if (scanJson(body)) return { status: 'success', httpStatus: 200, outputJson: body };
  try {
    JSON.parse(body);
  } catch (err) {
    const excerpt = body.slice(0, 256);
    return {
      status: 'error',
      httpStatus: 502,
      error: {
        error: 'FUNCTION_ERROR',
        message: `runtime returned invalid JSON (${(err as Error).message}): ${excerpt}`,
        details: { cause: 'invalid-json', runtimeStatus },
      },
    };
  }
  return { status: 'success', httpStatus: 200, outputJson: body };
}

export function failureKind(result: Exclude<AttemptResult, { kind: 'ok' }>): FailureKind {
  return result.kind;
}

export function failureOutcome(result: Exclude<AttemptResult, { kind: 'ok' }>): Outcome {
  switch (result.kind) {
    case 'rejected':
      return {
        status: 'error',
        httpStatus: result.status,
        error: runtimeError(result.body, 'INVALID_INPUT', `function rejected its input (${result.status})`),
      };
    case 'failed': {
      const info = runtimeError(result.body, 'FUNCTION_ERROR', `function failed (runtime answered ${result.status})`);
      return {
        status: 'error',
        httpStatus: 502,
        error: { error: 'FUNCTION_ERROR', message: info.message, details: { runtimeStatus: result.status, runtimeError: info.error } },
      };
    }
    case 'refused':
    case 'connection':
      return {
        status: 'error',
        httpStatus: 502,
        error: { error: 'FUNCTION_ERROR', message: `runtime unreachable: ${result.message}`, details: { cause: 'connection' } },
      };
    case 'timeout':
      return timeoutOutcome('the function did not answer within its timeout');
  }
}

export function timeoutOutcome(message: string): Outcome {
  return { status: 'timeout', httpStatus: 504, error: { error: 'TIMEOUT', message } };
}

export function errorOutcome(code: string, httpStatus: number, message: string, headers?: Record<string, string>): Outcome {
  return { status: 'error', httpStatus, error: { error: code, message }, headers };
}
