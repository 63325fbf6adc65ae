import os from 'node:os';
import { ConfigError, intFromEnv, oneOfFromEnv } from '@nanofaas/runtime-node/kit';

export type ExecutionMode = 'STDIO' | 'FILE' | 'HTTP' | 'STREAM';
const MODES: readonly ExecutionMode[] = ['STDIO', 'FILE', 'HTTP', 'STREAM'];

export interface WatchdogConfig {
  mode: ExecutionMode;
  /** argv of the function's command; never run through a shell. */
  argv: string[];
  concurrency: number;
  /** Largest stdout (or output file) accepted from one invocation. */
  maxOutputBytes: number;
  /** STDIO: processes started ahead of need, each waiting on its stdin (0 = off). */
  prespawn: number;
}

/**
 * WATCHDOG_CMD is either a JSON array of strings (`["jq","-c","."]`, for arguments with spaces) or a
 * plain string split on whitespace (`bash handler.sh`). No quoting, globbing or expansion, ever.
 * HANDLER is the fallback so the catalog's handler string works as-is.
 */
export function parseCommand(raw: string | undefined): string[] {
  const text = raw?.trim() ?? '';
  if (text === '')
    throw new ConfigError(
      'WATCHDOG_CMD (or HANDLER) must be the command to run, a JSON array of strings or words separated by spaces, e.g. WATCHDOG_CMD=\'["bash","handler.sh"]\', got nothing',
    );
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(
        `WATCHDOG_CMD must be a JSON array of strings or words separated by spaces; it starts with [ but does not parse: ${(err as Error).message}`,
      );
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string' && p !== '')) {
      throw new ConfigError('WATCHDOG_CMD as JSON must be a non-empty array of non-empty strings, e.g. ["bash","handler.sh"]');
    }
    return parsed as string[];
  }
  return text.split(/\s+/);
}

/** The watchdog's own variables; the server's (PORT, TIMEOUT_MS, …) are read by the node kit. */
export function watchdogConfigFromEnv(env: NodeJS.ProcessEnv): WatchdogConfig {
  return {
    mode: oneOfFromEnv(env, 'EXECUTION_MODE', MODES, 'STDIO'),
    argv: parseCommand(env.WATCHDOG_CMD || env.HANDLER),
    concurrency: intFromEnv(env, 'WATCHDOG_CONCURRENCY', os.availableParallelism(), 1, 4096),
    maxOutputBytes: intFromEnv(env, 'WATCHDOG_MAX_OUTPUT_BYTES', 10 * 1024 * 1024, 1, 1024 * 1024 * 1024),
    prespawn: intFromEnv(env, 'WATCHDOG_PRESPAWN', 0, 0, 64),
  };
}
