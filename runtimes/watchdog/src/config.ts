import os from 'node:os';
import { ConfigError, intFromEnv } from '@nanofaas/runtime-node/kit';

export type ExecutionMode = 'STDIO' | 'FILE' | 'HTTP' | 'STREAM';
const MODES: readonly ExecutionMode[] = ['STDIO', 'FILE', 'HTTP', 'STREAM'];

export interface WatchdogConfig {
  mode: ExecutionMode;
  /** argv of the function's command; never run through a shell. */
  argv: string[];
  concurrency: number;
  /** Largest stdout (or output file) accepted from one invocation. */
  maxOutputBytes: number;
}

/**
 * WATCHDOG_CMD is either a JSON array of strings (`["jq","-c","."]`, for arguments with spaces) or a
 * plain string split on whitespace (`bash handler.sh`). No quoting, globbing or expansion, ever.
 * HANDLER is the fallback so the catalog's handler string works as-is.
 */
export function parseCommand(raw: string | undefined): string[] {
  const text = raw?.trim() ?? '';
  if (text === '') throw new ConfigError('WATCHDOG_CMD (or HANDLER) is not set: give the command to run, e.g. WATCHDOG_CMD=\'["bash","handler.sh"]\'');
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`WATCHDOG_CMD looks like a JSON array but does not parse: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string' && p !== '')) {
      throw new ConfigError('WATCHDOG_CMD as JSON must be a non-empty array of non-empty strings');
    }
    return parsed as string[];
  }
  return text.split(/\s+/);
}

export function watchdogConfigFromEnv(env: NodeJS.ProcessEnv): WatchdogConfig {
  const mode = (env.EXECUTION_MODE || 'STDIO').toUpperCase();
  if (!MODES.includes(mode as ExecutionMode)) {
    throw new ConfigError(`EXECUTION_MODE must be one of ${MODES.join(', ')}, got "${env.EXECUTION_MODE}"`);
  }
  return {
    mode: mode as ExecutionMode,
    argv: parseCommand(env.WATCHDOG_CMD || env.HANDLER),
    concurrency: intFromEnv(env, 'WATCHDOG_CONCURRENCY', os.availableParallelism(), 1),
    maxOutputBytes: intFromEnv(env, 'WATCHDOG_MAX_OUTPUT_BYTES', 10 * 1024 * 1024, 1),
  };
}
