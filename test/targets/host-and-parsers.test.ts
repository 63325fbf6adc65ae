import { describe, expect, it } from 'vitest';
import { CommandFailedError, formatArgv, mustExec } from '../../src/targets/host/host.js';
import { LocalHost } from '../../src/targets/host/local-host.js';
import { runLocal } from '../../src/targets/host/run-local.js';
import { helmValues } from '../../src/targets/cluster/helm-values.js';
import { loadCatalog } from '../../src/util/catalog.js';
import { imagePullFailures } from '../../src/targets/cluster/doctor.js';
import { MultipassHost } from '../../src/targets/multipass/multipass-host.js';
import { orphanedExecs, parsePs } from '../../src/targets/multipass/reap.js';
import { parseInfo } from '../../src/targets/multipass/vm.js';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('host: running commands', () => {
  it('runLocal emits heartbeats while a command runs and reports its exit code and output', async () => {
    // The command runs until the test, having seen two heartbeats, tells it to finish over a socket.
    let command: Socket | undefined;
    const beats: number[] = [];
    let released = false;
    const release = () => {
      if (released || !command || beats.length < 2) return;
      released = true;
      command.end('go');
    };
    const server = createServer((socket) => {
      command = socket;
      release();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const script = `require('net').connect(${port}, '127.0.0.1').on('data', () => { console.log("done"); process.exit(3) })`;
      const result = await runLocal([process.execPath, '-e', script], {
        heartbeat: (ms) => {
          beats.push(ms);
          release();
        },
        heartbeatIntervalMs: 100,
      });
      expect(result).toMatchObject({ exitCode: 3, stdout: 'done\n', timedOut: false });
      expect(beats.length).toBeGreaterThanOrEqual(2);
      expect(beats[1]!).toBeGreaterThan(beats[0]!);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('runLocal kills a command at its timeout', async () => {
    const started = Date.now();
    const result = await runLocal([process.execPath, '-e', 'setTimeout(() => {}, 20000)'], { timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).not.toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('runLocal passes input on stdin and values as argv, never through a shell', async () => {
    const result = await runLocal(
      [process.execPath, '-e', 'process.stdin.pipe(process.stdout); console.error(process.argv[1])', '$(rm -rf /); `x`'],
      { input: 'from stdin' },
    );
    expect(result.stdout).toBe('from stdin');
    expect(result.stderr.trim()).toBe('$(rm -rf /); `x`');
  });

  it('a missing program is exit 127, and mustExec turns failures into CommandFailedError with the tail and hint', async () => {
    const host = new LocalHost();
    expect((await host.exec(['definitely-not-a-program-xyz'])).exitCode).toBe(127);
    const failing = mustExec(host, [process.execPath, '-e', 'console.error("boom line"); process.exit(4)'], { hint: 'try again' });
    await expect(failing).rejects.toBeInstanceOf(CommandFailedError);
    await expect(failing).rejects.toThrow(/exited with 4\n--- last output ---\nboom line\nhint: try again/);
  });

  it('MultipassHost wraps argv in `multipass exec <vm> --` with env as `env K=V`, and copies with transfer', async () => {
    const seen: string[][] = [];
    const vm = new MultipassHost('vm1', async (argv) => {
      seen.push([...argv]);
      return { stdout: '', stderr: '', exitCode: 0, timedOut: false };
    });
    await vm.exec(['helm', 'version'], { env: { KUBECONFIG: '/etc/k.yaml' } });
    await vm.copy('/tmp/a.tar', '/home/ubuntu/a.tar');
    expect(seen).toEqual([
      ['multipass', 'exec', 'vm1', '--', 'env', 'KUBECONFIG=/etc/k.yaml', 'helm', 'version'],
      ['multipass', 'transfer', '/tmp/a.tar', 'vm1:/home/ubuntu/a.tar'],
    ]);
    expect(vm.describe()).toBe('multipass VM vm1');
    expect(formatArgv(['sudo', 'bash', '-c', "echo 'hi' $X"])).toBe(`sudo bash -c 'echo '\\''hi'\\'' $X'`);
  });
});

describe('parsers', () => {
  it('parseInfo reads state and addresses of the named VM only', () => {
    const json = JSON.stringify({
      errors: [],
      info: { a: { state: 'Running', ipv4: ['10.1.2.3', '10.42.0.1'] }, b: { state: 'Stopped', ipv4: [] } },
    });
    expect(parseInfo(json, 'a')).toEqual({ state: 'Running', ipv4: ['10.1.2.3', '10.42.0.1'] });
    expect(parseInfo(json, 'b')).toEqual({ state: 'Stopped', ipv4: [] });
    expect(parseInfo(json, 'c')).toEqual({ state: 'absent', ipv4: [] });
    expect(parseInfo(JSON.stringify({ info: { a: { state: 'Weird' } } }), 'a').state).toBe('Unknown');
    expect(() => parseInfo('not json', 'a')).toThrow(/not JSON/);
  });

  it('orphanedExecs picks only re-parented `multipass exec <this vm>` clients', () => {
    const rows = parsePs(
      [
        '  101     1 multipass exec nanofaas-e2e -- sudo docker build .',
        '  102   555 multipass exec nanofaas-e2e -- sudo k3s kubectl get pods',
        '  103     1 /snap/bin/multipass exec nanofaas-e2e -- bash',
        '  104     1 multipass exec nanofaas-e2e2 -- bash',
        '  105     1 multipass shell nanofaas-e2e',
      ].join('\n'),
    );
    expect(orphanedExecs(rows, 'nanofaas-e2e').map((r) => r.pid)).toEqual([101, 103]);
  });

  it('imagePullFailures lists waiting containers with ErrImagePull / ImagePullBackOff', () => {
    const doc = {
      items: [
        {
          metadata: { name: 'p1' },
          status: { containerStatuses: [{ name: 'c', image: 'i:1', state: { waiting: { reason: 'ErrImagePull' } } }] },
        },
        {
          metadata: { name: 'p2' },
          status: { containerStatuses: [{ name: 'c', image: 'i:2', state: { waiting: { reason: 'ContainerCreating' } } }] },
        },
      ],
    };
    expect(imagePullFailures(JSON.stringify(doc))).toEqual(['p1/c (i:1: ErrImagePull)']);
  });
});

describe('helm values', () => {
  const functions = loadCatalog(ROOT).functions;
  const values = helmValues({
    registry: 'localhost:5000',
    controlPlaneImage: 'nanofaas/control-plane:0.1.0',
    functions,
    admissionEnabled: true,
    pullPolicy: 'Always',
  }) as {
    image: { registry: string; tag: string; pullPolicy: string };
    controlPlane: {
      image: { repository: string };
      service: { nodePorts: Record<string, number> };
      extraEnv: { name: string; value: string }[];
    };
    prometheus: { service: { nodePort: number } };
    functions: {
      name: string;
      repository: string;
      tag: string;
      runtimeMode: string;
      timeoutMs: number;
      concurrency: number;
      queueSize: number;
    }[];
  };

  it('carries the e2e settings: fixed NodePorts 30080/30081/30090, admission env, images from the local registry', () => {
    expect(values.controlPlane.service.nodePorts).toEqual({ api: 30080, management: 30081 });
    expect(values.prometheus.service.nodePort).toBe(30090);
    expect(values.image).toEqual({ registry: 'localhost:5000', tag: '0.1.0', pullPolicy: 'Always' });
    expect(values.controlPlane.image.repository).toBe('nanofaas/control-plane');
    expect(values.controlPlane.extraEnv).toEqual([{ name: 'SYNC_QUEUE_ADMISSION_ENABLED', value: 'true' }]);
  });

  it('lists every catalog function with timeout 30000, concurrency 4, queue 100, and STDIO for exec functions', () => {
    expect(values.functions.map((f) => f.name)).toEqual(functions.map((f) => f.name));
    for (const fn of values.functions) {
      expect(fn).toMatchObject({ timeoutMs: 30000, concurrency: 4, queueSize: 100, tag: '0.1.0', repository: `nanofaas/${fn.name}` });
      expect(fn.runtimeMode).toBe(fn.name.endsWith('-exec') ? 'STDIO' : 'HTTP');
    }
  });

  it('the real chart accepts them (helm template with the schema) and renders NodePorts, registry images and the env', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nanofaas-values-'));
    try {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, stringify(values));
      const rendered = execFileSync(
        join(ROOT, 'node_modules/.bin/helm'),
        ['template', 'nanofaas', join(ROOT, 'helm/nanofaas'), '--namespace', 'nanofaas', '-f', file],
        { encoding: 'utf8' },
      );
      for (const port of [30080, 30081, 30090]) expect(rendered).toContain(`nodePort: ${port}`);
      expect(rendered).toContain('image: "localhost:5000/nanofaas/control-plane:0.1.0"');
      expect(rendered).toContain('localhost:5000/nanofaas/word-stats-exec:0.1.0');
      expect(rendered).toMatch(/name: SYNC_QUEUE_ADMISSION_ENABLED\s+value: "true"/);
      expect(rendered).toContain('name: nanofaas-control-plane');
      expect(rendered).toContain('name: nanofaas-prometheus');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
