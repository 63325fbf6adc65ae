import { describe, expect, it } from 'vitest';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import { containerName, containerSpec, TMPFS_OPTIONS } from '../../control-plane/src/workloads/docker/container-spec.js';
import { cpuShares, memoryBytes, parseQuantity } from '../../control-plane/src/workloads/docker/resources.js';

const base: FunctionSpec = {
  name: 'echo',
  image: 'localhost:5000/nanofaas/echo:1',
  timeoutMs: 5000,
  concurrency: 2,
  queueSize: 10,
  maxRetries: 1,
  runtimeMode: 'HTTP',
  executionMode: 'DEPLOYMENT',
  replicas: 1,
};
const ctx = { owner: 'abc-1', index: 2, port: 41234, user: '10001:10001' };

describe('docker container spec', () => {
  it('labels, names and isolates every replica', () => {
    const opts = containerSpec(base, ctx);
    expect(opts.name).toBe('nanofaas-abc-1-fn-echo-2');
    expect(containerName('abc-1', 'echo', 2)).toBe(opts.name);
    expect(opts.Image).toBe(base.image);
    expect(opts.Labels).toEqual({
      'dev.nanofaas.owner': 'abc-1',
      'dev.nanofaas.component': 'function',
      'dev.nanofaas.function': 'echo',
      'dev.nanofaas.replica': '2',
    });
    expect(opts.User).toBe('10001:10001');
    expect(opts.HostConfig).toMatchObject({
      NetworkMode: 'host',
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': TMPFS_OPTIONS },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
    });
    expect(opts.HostConfig?.Memory).toBeUndefined();
    expect(opts.HostConfig?.CpuShares).toBeUndefined();
    expect(opts.Entrypoint).toBeUndefined();
  });

  it('gives the function env of the kubernetes backend on its own 127.0.0.1 port, which spec.env cannot move', () => {
    const spec: FunctionSpec = { ...base, handler: 'h.js', env: { B: '2', A: '1', PORT: '1', HOST: '0.0.0.0', CALLBACK_URL: 'x' } };
    const env = containerSpec(spec, {
      ...ctx,
      callbackBaseUrl: 'http://127.0.0.1:8080/v1/internal/executions',
      callbackToken: (n) => `tok-${n}`,
    }).Env;
    expect(env).toEqual([
      'FUNCTION_NAME=echo',
      'TIMEOUT_MS=5000',
      'EXECUTION_MODE=HTTP',
      'HANDLER=h.js',
      'CALLBACK_URL=http://127.0.0.1:8080/v1/internal/executions',
      'CALLBACK_TOKEN=tok-echo',
      'A=1',
      'B=2',
      'PORT=41234',
      'HOST=127.0.0.1',
    ]);
    const plain = containerSpec({ ...base, runtimeMode: 'STDIO', command: ['jq', '.'] }, ctx);
    expect(plain.Env).toContain('WATCHDOG_CMD=["jq","."]');
    expect(plain.Env?.some((e) => e.startsWith('CALLBACK_'))).toBe(false);
  });

  it('replaces the entrypoint with an HTTP function command, as a pod command does', () => {
    expect(containerSpec({ ...base, command: ['node', 'srv.js'] }, ctx).Entrypoint).toEqual(['node', 'srv.js']);
  });

  it('maps resources: memory is a limit without swap, cpu a weight', () => {
    const opts = containerSpec({ ...base, resources: { memory: '128Mi', cpu: '500m' } }, ctx);
    expect(opts.HostConfig).toMatchObject({ Memory: 134_217_728, MemorySwap: 134_217_728, CpuShares: 512 });
    expect(opts.HostConfig?.NanoCpus).toBeUndefined();
  });

  it('refuses a spec no container can be made of with VALIDATION_ERROR', () => {
    const { image: _image, ...noImage } = base;
    expect(() => containerSpec(noImage, ctx)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR', message: expect.stringMatching(/has no image/) }),
    );
    expect(() => containerSpec({ ...base, resources: { memory: '1Mi' } }, ctx)).toThrow(/at least 6Mi/);
    expect(() => containerSpec({ ...base, resources: { memory: 'lots' } }, ctx)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_ERROR' }),
    );
    expect(() => containerSpec({ ...base, resources: { cpu: '0' } }, ctx)).toThrow(/resources.cpu/);
  });
});

describe('Kubernetes quantities', () => {
  it('parses binary and decimal suffixes, fractions and exponents', () => {
    expect(parseQuantity('1Gi')).toBe(2 ** 30);
    expect(parseQuantity('1.5Mi')).toBe(1.5 * 2 ** 20);
    expect(parseQuantity('500M')).toBe(5e8);
    expect(parseQuantity('250m')).toBeCloseTo(0.25);
    expect(parseQuantity('2')).toBe(2);
    expect(parseQuantity('.5')).toBe(0.5);
    expect(parseQuantity('1e9')).toBe(1e9);
    for (const bad of ['', 'Mi', '1 Mi', '1MB', '-1', '1e3Mi', '0x10']) expect(parseQuantity(bad), bad).toBeUndefined();
  });

  it('rounds to what the Engine takes', () => {
    expect(memoryBytes('f', '6Mi')).toBe(6 * 2 ** 20);
    expect(cpuShares('f', '1')).toBe(1024);
    expect(cpuShares('f', '1m')).toBe(2);
  });
});
