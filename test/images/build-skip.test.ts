/**
 * Incremental builds with the real docker engine through LocalHost: a tiny image from a temp
 * context is built, then left alone while its inputs are unchanged (no `docker build` at all), and
 * built again once a COPYed file changes. Every docker call is recorded on its way to the real CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, HASH_LABEL } from '../../src/images/build.js';
import type { ImageBuild } from '../../src/targets/cluster/images.js';
import { LocalHost } from '../../src/targets/host/local-host.js';
import { runLocal } from '../../src/targets/host/run-local.js';

const context = mkdtempSync(join(tmpdir(), 'nanofaas-build-skip-'));
const tag = `nanofaas-test/build-skip-${process.pid}:1`;
const build: ImageBuild = { image: tag, dockerfile: 'Dockerfile', context: '.', buildArgs: {} };
const calls: string[][] = [];
const host = new LocalHost((argv, opts) => {
  calls.push([...argv]);
  return runLocal(argv, opts);
});
/** Every image id this file created, removed at the end (a rebuild leaves the previous one untagged). */
const created = new Set<string>();

async function docker(...args: string[]): Promise<string> {
  const r = await runLocal(['docker', ...args], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

async function buildOnce(force = false) {
  calls.length = 0;
  const [result] = await buildImages([build], { host, rootDir: context, force });
  created.add(await docker('image', 'inspect', '--format', '{{.Id}}', tag));
  return result!;
}

beforeAll(async () => {
  await docker('image', 'inspect', '--format', '{{.Id}}', 'debian:bookworm-slim');
  writeFileSync(join(context, 'Dockerfile'), 'FROM debian:bookworm-slim\nCOPY hello.txt /hello.txt\nUSER 10001\n');
  // Unique content: the image is this run's own, never one that exists already.
  writeFileSync(join(context, 'hello.txt'), `hello ${process.pid} ${Date.now()}\n`);
  writeFileSync(join(context, 'unrelated.txt'), 'not copied\n');
});

afterAll(async () => {
  await runLocal(['docker', 'rmi', tag], { timeoutMs: 60_000 });
  for (const id of created) await runLocal(['docker', 'rmi', id], { timeoutMs: 60_000 });
  rmSync(context, { recursive: true, force: true });
});

const builds = () => calls.filter((argv) => argv[1] === 'build');

describe('buildImages through LocalHost with the real docker', () => {
  it('builds, skips an unchanged image without calling docker build, rebuilds when a COPYed file changes', async () => {
    const first = await buildOnce();
    expect(first).toMatchObject({ image: tag, tag, result: 'built' });
    expect(builds()).toHaveLength(1);
    expect(builds()[0]!.slice(0, 7)).toEqual(['docker', 'build', '--network', 'host', '--label', `${HASH_LABEL}=${first.hash}`, '-t']);
    const label = await docker('image', 'inspect', '--format', `{{index .Config.Labels "${HASH_LABEL}"}}`, tag);
    expect(label).toBe(first.hash);

    writeFileSync(join(context, 'unrelated.txt'), 'still not copied\n');
    const second = await buildOnce();
    expect(second).toMatchObject({ result: 'up to date', hash: first.hash });
    expect(builds()).toEqual([]);
    // Only questions were asked: the label and the base image's id.
    expect(calls.every((argv) => argv[1] === 'image' && argv[2] === 'inspect')).toBe(true);

    writeFileSync(join(context, 'hello.txt'), `changed ${process.pid} ${Date.now()}\n`);
    const third = await buildOnce();
    expect(third.result).toBe('built');
    expect(third.hash).not.toBe(first.hash);
    expect(builds()).toHaveLength(1);
    expect(await docker('run', '--rm', '--network', 'host', tag, 'cat', '/hello.txt')).toMatch(/^changed /);
  }, 180_000);

  it('--force builds even when the label matches', async () => {
    const forced = await buildOnce(true);
    expect(forced.result).toBe('built');
    expect(builds()).toHaveLength(1);
  }, 120_000);
});
