/**
 * Every runtime validates its whole environment before anything starts. A malformed
 * value exits 2 with exactly one line on stderr naming the variable and the accepted form, and
 * nothing on stdout (no "listening" line: nothing started). Real processes: node, the watchdog,
 * /usr/bin/python3, java -jar.
 */
import { describe, expect, it } from 'vitest';
import { commandEnv } from '@nanofaas/runtime-watchdog';
import { kill, launch, RUNTIME_NAMES, type RuntimeName } from './launch.js';

interface Case {
  env: Record<string, string>;
  /** The one line must match this (variable name, accepted form, the value given). */
  line: RegExp;
}

const COMMON: Case[] = [
  { env: { PORT: 'abc' }, line: /^PORT must be an integer port 0-65535, got "abc"$/ },
  { env: { PORT: '70000' }, line: /^PORT must be an integer port 0-65535, got "70000"$/ },
  { env: { PORT: '80.5' }, line: /^PORT must be an integer port 0-65535, got "80.5"$/ },
  { env: { TIMEOUT_MS: 'abc' }, line: /^TIMEOUT_MS must be an integer 1-2147483647, got "abc"$/ },
  { env: { TIMEOUT_MS: '0' }, line: /^TIMEOUT_MS must be an integer 1-2147483647, got "0"$/ },
  // Past a JS timer's maximum the deadline would fire at once; refused everywhere alike.
  { env: { TIMEOUT_MS: '3000000000' }, line: /^TIMEOUT_MS must be an integer 1-2147483647, got "3000000000"$/ },
  { env: { HOST: 'not a host' }, line: /^HOST must be an IP address or host name, .*got "not a host"$/ },
  { env: { CALLBACK_URL: 'ftp://cp/x' }, line: /^CALLBACK_URL must be an http\(s\) URL.*got "ftp:\/\/cp\/x"$/ },
  { env: { CALLBACK_TOKEN: 'two words' }, line: /^CALLBACK_TOKEN must be visible ASCII characters without spaces/ },
  { env: { NANOFAAS_PARENT_PIPE: 'yes' }, line: /^NANOFAAS_PARENT_PIPE must be "stdin" or unset, got "yes"$/ },
];

const SPECIFIC: Record<RuntimeName, Case[]> = {
  node: [
    { env: { LOG_LEVEL: 'loud' }, line: /^LOG_LEVEL must be one of debug, info, warn, error, got "loud"$/ },
    { env: { MAX_BODY_BYTES: '-1' }, line: /^MAX_BODY_BYTES must be an integer 1-\d+, got "-1"$/ },
    { env: { SHUTDOWN_GRACE_MS: 'soon' }, line: /^SHUTDOWN_GRACE_MS must be an integer 0-2147483647, got "soon"$/ },
    { env: { HANDLER: '' }, line: /^HANDLER must be the path of the handler module/ },
  ],
  watchdog: [
    { env: { LOG_LEVEL: 'loud' }, line: /^LOG_LEVEL must be one of debug, info, warn, error, got "loud"$/ },
    { env: { EXECUTION_MODE: 'BATCH' }, line: /^EXECUTION_MODE must be one of STDIO, FILE, HTTP, STREAM, got "BATCH"$/ },
    { env: { WATCHDOG_CONCURRENCY: '0' }, line: /^WATCHDOG_CONCURRENCY must be an integer 1-4096, got "0"$/ },
    { env: { WATCHDOG_MAX_OUTPUT_BYTES: 'lots' }, line: /^WATCHDOG_MAX_OUTPUT_BYTES must be an integer 1-\d+, got "lots"$/ },
    { env: { WATCHDOG_CMD: '["bash",' }, line: /^WATCHDOG_CMD must be a JSON array of strings or words separated by spaces/ },
  ],
  python: [{ env: { HANDLER: '' }, line: /^HANDLER must be path\/to\/file.py:function/ }],
  java: [{ env: { HANDLER: '' }, line: /^HANDLER must be path\/to\/function.jar#/ }],
};

const PREFIX: Record<RuntimeName, string> = {
  node: 'runtime-node: ',
  watchdog: 'watchdog: ',
  python: 'nanofaas-runtime: ',
  java: 'nanofaas-runtime: ',
};

describe.each(RUNTIME_NAMES)('%s runtime configuration', (runtime) => {
  it.each([...COMMON, ...SPECIFIC[runtime]])('exits 2 with one line for $env', async ({ env, line }) => {
    // PORT 0 unless the case sets one: were validation missing, the runtime would start and listen.
    const l = launch(runtime, { PORT: '0', ...env });
    try {
      const { code } = await l.exited;
      const lines = l
        .stderr()
        .split('\n')
        .filter((s) => s !== '');
      expect({ code, lines: lines.length }, l.stderr()).toEqual({ code: 2, lines: 1 });
      expect(lines[0]!.startsWith(PREFIX[runtime])).toBe(true);
      expect(lines[0]!.slice(PREFIX[runtime].length)).toMatch(line);
      expect(l.stdout()).toBe('');
    } finally {
      await kill(l);
    }
  });
});

describe('secrets in configuration errors', () => {
  it.each(RUNTIME_NAMES)('%s never echoes a malformed CALLBACK_TOKEN', async (runtime) => {
    const l = launch(runtime, { PORT: '0', CALLBACK_TOKEN: 'secret value-123' });
    try {
      expect((await l.exited).code).toBe(2);
      expect(l.stderr()).toContain('CALLBACK_TOKEN');
      expect(l.stderr()).not.toContain('secret value-123');
    } finally {
      await kill(l);
    }
  });
});

describe('watchdog command environment', () => {
  it('keeps CALLBACK_TOKEN and NANOFAAS_PARENT_PIPE for the watchdog alone', () => {
    const env = commandEnv({ PATH: '/bin', CALLBACK_TOKEN: 't', NANOFAAS_PARENT_PIPE: 'stdin', CALLBACK_URL: 'http://x', FOO: 'bar' });
    expect(env).toEqual({ PATH: '/bin', CALLBACK_URL: 'http://x', FOO: 'bar' });
  });
});
