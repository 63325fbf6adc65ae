#!/usr/bin/env node
import { parseArgs } from 'node:util';
import getPort from 'get-port';
import { $ } from 'zx';
import { assertEngine, loadBuiltModules, ROOT } from './docker.mjs';

const root = ROOT;
const { imageBuilds, loadCatalog, loadVectors, jsonEqual } = await loadBuiltModules();

// Not the uid any image declares: the images must not depend on who they run as.
const UID = '10001:10001';
const READY_WITHIN_MS = 60_000;
const STOP_GRACE_S = 10;

/** Polls `url` until it answers 200 (a readiness probe does the same), or gives up. */
async function waitHealthy(url, name) {
  const deadline = Date.now() + READY_WITHIN_MS;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    const running = await $`docker inspect --format {{.State.Running}} ${name}`.nothrow();
    if (running.stdout.trim() !== 'true') throw new Error('the container exited before it answered');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no 200 from ${url} within ${READY_WITHIN_MS / 1000} s`);
}

async function checkOne(build, fn, vectors) {
  const name = `nanofaas-image-check-${process.pid}-${build.image.replace(/[^a-z0-9]+/g, '-')}`;
  const user = (await $`docker image inspect --format {{.Config.User}} ${build.image}`).stdout.trim();
  if (!user || user === 'root' || user.startsWith('0')) throw new Error(`the image runs as root (USER "${user}")`);
  const port = await getPort({ host: '127.0.0.1' });
  const env = fn
    ? ['-e', `PORT=${port}`, '-e', 'HOST=127.0.0.1']
    : [
        '-e',
        `NANOFAAS_PORT=${port}`,
        '-e',
        `NANOFAAS_MANAGEMENT_PORT=${await getPort({ host: '127.0.0.1' })}`,
        '-e',
        'NANOFAAS_HOST=127.0.0.1',
        // Only the image is under test here, not a cluster: the process backend needs none.
        '-e',
        'NANOFAAS_WORKLOAD_BACKEND=process',
        '-e',
        'NANOFAAS_STATE_DIR=/tmp/state',
      ];
  const started = performance.now();
  await $`docker run -d --name ${name} --network host --read-only --tmpfs /tmp --user ${UID} ${env} ${build.image}`;
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitHealthy(fn ? `${base}/health` : `${base}/v1/functions`, name);
    const readyMs = performance.now() - started;
    let invoked = '';
    for (const vector of fn ? vectors : []) {
      const res = await fetch(`${base}/invoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: vector.input }),
      });
      const body = await res.json();
      if (res.status !== 200 || !jsonEqual(body, vector.output)) {
        throw new Error(`vector "${vector.name}": ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      }
      invoked = `, ${vectors.length} vectors ok`;
    }
    const stopStart = performance.now();
    await $`docker stop -t ${STOP_GRACE_S} ${name}`;
    const stopS = (performance.now() - stopStart) / 1000;
    const exit = (await $`docker inspect --format {{.State.ExitCode}} ${name}`).stdout.trim();
    // 137 = SIGKILL after the grace period: SIGTERM did not stop it.
    if (exit === '137') throw new Error(`SIGTERM did not stop it within ${STOP_GRACE_S} s`);
    return `ready in ${(readyMs / 1000).toFixed(1)} s${invoked}, stopped by SIGTERM in ${stopS.toFixed(1)} s (exit ${exit})`;
  } catch (err) {
    const logs = await $`docker logs --tail 20 ${name}`.nothrow();
    throw new Error(`${err.message}\n${logs.stdout}${logs.stderr}`);
  } finally {
    await $`docker rm -f ${name}`.nothrow();
  }
}

async function main() {
  const { values: opts } = parseArgs({ options: { only: { type: 'string' } } });
  await assertEngine();
  const catalog = loadCatalog(root);
  const builds = imageBuilds(root, catalog.functions).filter((b) => !opts.only || b.image.includes(opts.only));
  let failed = 0;
  for (const build of builds) {
    const fn = catalog.functions.find((f) => f.image === build.image);
    const vectors = fn ? loadVectors(root, catalog, fn.workload).filter((v) => v.output !== undefined) : [];
    try {
      console.log(`${build.image}: ${await checkOne(build, fn, vectors)}`);
    } catch (err) {
      failed++;
      console.error(`${build.image}: FAILED: ${err.message}`);
    }
  }
  if (failed > 0) {
    console.error(`error: ${failed} of ${builds.length} image(s) failed; see above`);
    process.exit(1);
  }
  console.log(`${builds.length} image(s) run read-only as uid ${UID} and answer`);
}

await main();
