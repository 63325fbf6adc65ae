import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPipeline, type PipelineResult } from '../../src/pipeline/run.js';
import { StateDir } from '../../src/state/state-dir.js';
import { createTarget as createKubeconfig } from '../../src/targets/kubeconfig/index.js';
import { createTarget as createMultipass } from '../../src/targets/multipass/index.js';
import type { DownContext, Target, UpContext } from '../../src/targets/target.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export interface Scenario {
  vm: string;
  ip: string;
  state: 'absent' | 'Running' | 'Stopped';
  missingDeps?: string;
  k3sInstalled?: boolean;
  registryHealthy?: boolean;
  registriesYaml?: string | null;
  syncMarker?: string | null;
  answers?: { match: string; stdout?: string; stderr?: string; exitCode?: number }[];
  fail?: { match: string; exitCode?: number; stderr?: string; stdout?: string }[];
  /** The token in the chart's Secret nanofaas-api-token (default "fake-api-token"); null: no Secret. */
  apiToken?: string | null;
}

/** A throw-away world: a tiny git repo as the project, a state dir, and a bin dir with the fakes. */
export class World {
  readonly dir = mkdtempSync(join(tmpdir(), 'nanofaas-targets-'));
  readonly repo = join(this.dir, 'repo');
  readonly bin = join(this.dir, 'bin');
  readonly log = join(this.dir, 'calls.jsonl');
  readonly scenarioFile = join(this.dir, 'scenario.json');
  readonly state = new StateDir(join(this.dir, 'state'));

  constructor() {
    mkdirSync(join(this.repo, 'functions'), { recursive: true });
    mkdirSync(join(this.repo, 'control-plane'), { recursive: true });
    copyFileSync(join(REPO, 'functions/catalog.json'), join(this.repo, 'functions/catalog.json'));
    copyFileSync(join(REPO, 'control-plane/package.json'), join(this.repo, 'control-plane/package.json'));
    writeFileSync(join(this.repo, 'README.md'), 'test project\n');
    // Placeholder Dockerfiles where the real project keeps them (the fake never builds anything).
    for (const dir of ['control-plane', 'runtimes/java', 'runtimes/python', 'runtimes/node', 'runtimes/watchdog']) {
      mkdirSync(join(this.repo, dir), { recursive: true });
      writeFileSync(join(this.repo, dir, 'Dockerfile'), 'FROM scratch\n');
    }
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', this.repo, '-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'fixture');
    mkdirSync(this.bin);
    symlinkSync(join(FIXTURES, 'fake-multipass.mjs'), join(this.bin, 'multipass'));
    writeFileSync(this.log, '');
  }

  /** Also shadow these tools with the recording fake (kubectl, helm, docker). */
  shadow(...tools: string[]): this {
    for (const t of tools) if (!existsSync(join(this.bin, t))) symlinkSync(join(FIXTURES, 'fake-recorder.mjs'), join(this.bin, t));
    return this;
  }

  scenario(s: Partial<Scenario>): this {
    const full: Scenario = { vm: 'nanofaas-e2e', ip: '127.0.0.1', state: 'absent', ...s };
    writeFileSync(this.scenarioFile, JSON.stringify(full, null, 2));
    return this;
  }

  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      PATH: `${this.bin}:${process.env.PATH}`,
      FAKE_MULTIPASS_LOG: this.log,
      FAKE_MULTIPASS_SCENARIO: this.scenarioFile,
      SKIP_GRAFANA: 'true',
      NANOFAAS_URL: '',
      PROM_URL: '',
      // The token comes from the fake cluster's Secret unless a test gives one.
      NANOFAAS_API_TOKEN: '',
      NANOFAAS_API_TOKEN_FILE: '',
      ...extra,
    };
  }

  /** Every recorded call, as argv arrays. */
  calls(): string[][] {
    return readFileSync(this.log, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as string[]);
  }

  /** Calls as single strings, e.g. "exec nanofaas-e2e -- sudo docker build …". */
  lines(): string[] {
    return this.calls().map((c) => c.join(' '));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function load(name: 'multipass' | 'kubeconfig', world: World, env: NodeJS.ProcessEnv): Target {
  const create = name === 'multipass' ? createMultipass : createKubeconfig;
  return create({ rootDir: world.repo, state: world.state, env, suggest: (command) => `nanofaas ${command}` });
}

export async function up(target: Target, opts: { dryRun?: boolean; skipBuild?: boolean; runtimes?: string[] } = {}) {
  const ctx: UpContext = { functions: [], notes: [] };
  const written: string[] = [];
  const options = { skipBuild: opts.skipBuild ?? false, prometheus: true, ...(opts.runtimes ? { runtimes: opts.runtimes } : {}) };
  const result: PipelineResult = await runPipeline(target.upSteps(options), ctx, {
    renderer: 'silent',
    dryRun: opts.dryRun ?? false,
    write: (line) => written.push(line),
  });
  return { result, ctx, written };
}

export async function down(target: Target, opts: { dryRun?: boolean; keep?: boolean } = {}) {
  const ctx: DownContext = { stopped: [], notes: [] };
  const written: string[] = [];
  const result = await runPipeline(target.downSteps(opts.keep === undefined ? {} : { keepInfrastructure: opts.keep }), ctx, {
    renderer: 'silent',
    dryRun: opts.dryRun ?? false,
    write: (line) => written.push(line),
  });
  return { result, ctx, written };
}

/**
 * FAKE control plane + Prometheus API for the smoke step (the real ones run in k3s, which cannot
 * run here): answers GET /v1/functions with `names`, DELETE /v1/functions/{name} (removing it from
 * `names`), :invoke with a valid output, and /api/v1/query.
 */
export async function fakeApi(
  names: string[],
  opts: { failInvoke?: string; token?: string } = {},
): Promise<{ url: string; server: Server; invoked: string[]; unauthorized: string[]; deleted: string[] }> {
  const invoked: string[] = [];
  const deleted: string[] = [];
  const unauthorized: string[] = [];
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      // Like the real control plane with a token: every /v1 call needs it.
      if (opts.token !== undefined && url.startsWith('/v1') && req.headers.authorization !== `Bearer ${opts.token}`) {
        unauthorized.push(`${req.method} ${url} ${req.headers.authorization ?? '(no authorization)'}`);
        return send(401, { error: 'UNAUTHORIZED', message: 'missing or wrong bearer token' });
      }
      if (req.method === 'GET' && url === '/v1/functions')
        return send(
          200,
          names.map((name) => ({ name })),
        );
      const del = /^\/v1\/functions\/([^/:]+)$/.exec(url);
      if (req.method === 'DELETE' && del) {
        const name = decodeURIComponent(del[1]!);
        if (!names.includes(name)) return send(404, { error: 'FUNCTION_NOT_FOUND', message: name });
        names.splice(names.indexOf(name), 1);
        deleted.push(name);
        return res.writeHead(204).end();
      }
      const m = /^\/v1\/functions\/([^/:]+):invoke$/.exec(url);
      if (req.method === 'POST' && m) {
        const name = decodeURIComponent(m[1]!);
        invoked.push(name);
        if (name === opts.failInvoke) return send(400, { error: 'INVALID_INPUT', message: 'fake says no' });
        return send(200, {
          executionId: 'x',
          status: 'success',
          output: name.startsWith('word-stats') ? { wordCount: 3 } : { groups: { eng: 1, sales: 1 } },
        });
      }
      if (url.startsWith('/api/v1/query')) return send(200, { status: 'success', data: { resultType: 'vector', result: [] } });
      send(404, { error: 'NOT_FOUND', message: url });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, server, invoked, unauthorized, deleted };
}

export function catalogNames(): string[] {
  return (JSON.parse(readFileSync(join(REPO, 'functions/catalog.json'), 'utf8')) as { functions: { name: string }[] }).functions.map(
    (f) => f.name,
  );
}
