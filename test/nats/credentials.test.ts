/**
 * NANOFAAS_NATS_URL with credentials (nats://user:pass@host, nats://token@host) against a real
 * nats-server that requires them: the client gets them as options, and they never show in errors.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../control-plane/src/config.js';
import { connectNats, serverAndCredentials } from '../../control-plane/src/nats/client.js';
import { type RunningNats, startNats } from './nats-server.js';

describe('NATS URL credentials', () => {
  const servers: RunningNats[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('splits user:password and token out of the URL', () => {
    expect(serverAndCredentials('nats://127.0.0.1:4222')).toEqual({ servers: 'nats://127.0.0.1:4222' });
    expect(serverAndCredentials('nats://nanofaas:s%40cret@nats.example:4222')).toEqual({
      servers: 'nats://nats.example:4222',
      user: 'nanofaas',
      pass: 's@cret',
    });
    expect(serverAndCredentials('tls://t0ken@nats.example:4222')).toEqual({ servers: 'tls://nats.example:4222', token: 't0ken' });
  });

  it('connects with user:password from the URL, and is refused without them or with wrong ones', async () => {
    const nats = await startNats(['--user', 'nanofaas', '--pass', 'secret']);
    servers.push(nats);
    const host = `127.0.0.1:${nats.port}`;
    const client = await connectNats({ url: loadConfig({ NANOFAAS_NATS_URL: `nats://nanofaas:secret@${host}` }).nats!.url });
    try {
      const kv = await client.kvm.create('credentials_check');
      await kv.put('k', 'v');
      expect((await kv.get('k'))?.string()).toBe('v');
    } finally {
      await client.close();
    }
    await expect(connectNats({ url: `nats://${host}`, connectTimeoutMs: 2_000 })).rejects.toThrow(/Authorization Violation/);
    await expect(connectNats({ url: `nats://nanofaas:wrong@${host}`, connectTimeoutMs: 2_000 })).rejects.toThrow(/Authorization Violation/);
  });

  it('connects with a token from the URL', async () => {
    const nats = await startNats(['--auth', 'tok3n']);
    servers.push(nats);
    const client = await connectNats({ url: `nats://tok3n@127.0.0.1:${nats.port}` });
    try {
      expect((await client.jsm.getAccountInfo()).streams).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a malformed URL is refused without echoing its password', () => {
    const attempt = () => loadConfig({ NANOFAAS_NATS_URL: 'nats://nanofaas:hunter2@host:4222/path' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/got "nats:\/\/\*\*\*@host:4222\/path"/);
    expect(attempt).not.toThrow(/hunter2/);
    // An unencoded '/' in the password makes it a malformed URL; it is still not echoed.
    expect(() => loadConfig({ NANOFAAS_NATS_URL: 'nats://u:hun/ter2@host:4222' })).toThrow(/got "nats:\/\/\*\*\*@host:4222"/);
  });
});
