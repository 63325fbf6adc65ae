/** NANOFAAS_NATS_URL turns NATS mode on; without it the config has no `nats` at all. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../control-plane/src/config.js';

describe('NATS mode configuration', () => {
  it('is absent without NANOFAAS_NATS_URL', () => {
    expect('nats' in loadConfig({})).toBe(false);
  });

  it('reads the URL and its two knobs, with defaults', () => {
    expect(loadConfig({ NANOFAAS_NATS_URL: 'nats://127.0.0.1:4222' }).nats).toEqual({
      url: 'nats://127.0.0.1:4222',
      duplicateWindowMs: 120_000,
      ackWaitSlackMs: 5_000,
    });
    expect(
      loadConfig({
        NANOFAAS_NATS_URL: 'tls://nats.example:4222',
        NANOFAAS_NATS_DUPLICATE_WINDOW_MS: '60000',
        NANOFAAS_NATS_ACK_WAIT_SLACK_MS: '250',
      }).nats,
    ).toEqual({ url: 'tls://nats.example:4222', duplicateWindowMs: 60_000, ackWaitSlackMs: 250 });
  });

  it('refuses a URL that is not nats:// or tls://, naming the variable', () => {
    expect(() => loadConfig({ NANOFAAS_NATS_URL: 'http://127.0.0.1:4222' })).toThrow(ConfigError);
    expect(() => loadConfig({ NANOFAAS_NATS_URL: 'http://127.0.0.1:4222' })).toThrow(/NANOFAAS_NATS_URL/);
    expect(() => loadConfig({ NANOFAAS_NATS_URL: 'nats://a:1', NANOFAAS_NATS_ACK_WAIT_SLACK_MS: '5' })).toThrow(
      /NANOFAAS_NATS_ACK_WAIT_SLACK_MS/,
    );
  });
});
