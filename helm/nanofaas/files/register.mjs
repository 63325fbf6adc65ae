// Registration hook of the nanofaas chart: runs in the control-plane image (`node`, no other
// image needed), waits for the control plane to be ready, then POSTs every function spec.
// 201 = registered, 409 = already registered: both count as success, so re-runs on upgrade pass.
// Env: NANOFAAS_URL (API base), NANOFAAS_READY_URL (readiness probe), FUNCTIONS_FILE (JSON list),
// WAIT_SECONDS (deadline for the whole run), NANOFAAS_API_TOKEN_FILE (the chart mounts the API
// token's Secret there) or NANOFAAS_API_TOKEN: the bearer token, when the API has one.
import { readFileSync } from 'node:fs';

const apiUrl = (process.env.NANOFAAS_URL ?? '').replace(/\/+$/, '');
const readyUrl = process.env.NANOFAAS_READY_URL ?? `${apiUrl}/readyz`;
const deadline = Date.now() + Number(process.env.WAIT_SECONDS ?? 300) * 1000;

function apiToken() {
  const file = process.env.NANOFAAS_API_TOKEN_FILE;
  if (!file) return process.env.NANOFAAS_API_TOKEN || undefined;
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch (err) {
    console.error(`[register] cannot read the API token from NANOFAAS_API_TOKEN_FILE=${file}: ${err.code ?? err.message}`);
    process.exit(2);
  }
}

const token = apiToken();
const headers = { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
const log = (msg) => console.log(`[register] ${msg}`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (!apiUrl) {
  console.error('[register] NANOFAAS_URL is not set');
  process.exit(2);
}
const specs = JSON.parse(readFileSync(process.env.FUNCTIONS_FILE ?? '/hook/functions.json', 'utf8'));

/** Waits for the control plane: the hook may start before its pod is ready (install without --wait). */
async function waitReady() {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(5000) });
      if (res.ok) return;
      log(`control plane not ready yet (${res.status})`);
    } catch (err) {
      log(`control plane not reachable yet (${err.cause?.code ?? err.message})`);
    }
    if (Date.now() > deadline) throw new Error(`control plane not ready at ${readyUrl} before the deadline`);
    await pause(Math.min(1000 * attempt, 5000));
  }
}

/** One function; retries what may pass later (connection errors, 429, 5xx) until the deadline. */
async function register(spec) {
  for (let attempt = 1; ; attempt++) {
    let outcome;
    try {
      const res = await fetch(`${apiUrl}/v1/functions`, {
        method: 'POST',
        headers,
        body: JSON.stringify(spec),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      if (res.status === 201) return 'registered';
      if (res.status === 409) return 'already registered';
      if (res.status < 500 && res.status !== 429) throw Object.assign(new Error(`${res.status} ${text}`), { fatal: true });
      outcome = `${res.status} ${text}`;
    } catch (err) {
      if (err.fatal) throw err;
      outcome = err.cause?.code ?? err.message;
    }
    if (Date.now() > deadline) throw new Error(`gave up after ${attempt} attempts: ${outcome}`);
    log(`${spec.name}: ${outcome}; retrying`);
    await pause(Math.min(1000 * attempt, 5000));
  }
}

try {
  await waitReady();
} catch (err) {
  console.error(`[register] ${err.message}`);
  process.exit(1);
}
let failed = 0;
for (const spec of specs) {
  try {
    log(`${spec.name}: ${await register(spec)}`);
  } catch (err) {
    failed++;
    console.error(`[register] ${spec.name}: FAILED ${err.message}`);
  }
}
log(`${specs.length - failed}/${specs.length} functions registered`);
process.exit(failed === 0 ? 0 : 1);
