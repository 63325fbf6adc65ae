import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../control-plane/src/config.js';

const docker = (env: Record<string, string>) =>
  loadConfig({ NANOFAAS_WORKLOAD_BACKEND: 'docker', NANOFAAS_DOCKER_OWNER: 'o-1', ...env }).docker;

describe('docker backend configuration', () => {
  it('needs an owner label value with this backend, and only then', () => {
    expect(() => loadConfig({ NANOFAAS_WORKLOAD_BACKEND: 'docker' })).toThrow(ConfigError);
    expect(() => loadConfig({ NANOFAAS_WORKLOAD_BACKEND: 'docker' })).toThrow(
      /NANOFAAS_WORKLOAD_BACKEND=docker needs NANOFAAS_DOCKER_OWNER/,
    );
    expect(loadConfig({}).docker.owner).toBeUndefined();
    for (const bad of ['Upper', 'has space', 'a'.repeat(41), 'dot.ted']) {
      expect(() => docker({ NANOFAAS_DOCKER_OWNER: bad }), bad).toThrow(/NANOFAAS_DOCKER_OWNER must be 1-40 characters/);
    }
    expect(docker({}).owner).toBe('o-1');
  });

  it('finds the socket in NANOFAAS_DOCKER_SOCKET, else a unix:// DOCKER_HOST, else the default', () => {
    expect(docker({}).socketPath).toBe('/var/run/docker.sock');
    expect(docker({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).socketPath).toBe('/run/user/1000/docker.sock');
    expect(docker({ DOCKER_HOST: 'unix:///a.sock', NANOFAAS_DOCKER_SOCKET: '/b.sock' }).socketPath).toBe('/b.sock');
    expect(() => docker({ DOCKER_HOST: 'tcp://10.0.0.1:2375' })).toThrow(/DOCKER_HOST=tcp:\/\/10.0.0.1:2375 is not a unix socket/);
    // Another backend never talks to the Engine, so a tcp DOCKER_HOST is no reason to refuse it.
    expect(loadConfig({ DOCKER_HOST: 'tcp://10.0.0.1:2375' }).docker.socketPath).toBe('/var/run/docker.sock');
  });

  it('runs functions as 10001:10001 unless told otherwise, never as root', () => {
    expect(docker({}).user).toBe('10001:10001');
    expect(docker({ NANOFAAS_DOCKER_USER: '2000' }).user).toBe('2000');
    expect(() => docker({ NANOFAAS_DOCKER_USER: '0' })).toThrow(/must not be root/);
    expect(() => docker({ NANOFAAS_DOCKER_USER: '1000:0' })).toThrow(/must not be root/);
    expect(() => docker({ NANOFAAS_DOCKER_USER: 'nobody' })).toThrow(/uid\[:gid\]/);
    expect(docker({ NANOFAAS_DOCKER_STOP_GRACE_MS: '0', NANOFAAS_DOCKER_STARTUP_TIMEOUT_MS: '5000' })).toMatchObject({
      stopGraceMs: 0,
      startupTimeoutMs: 5000,
    });
  });
});
