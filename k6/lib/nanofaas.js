// Shared body of every per-function k6 script (k6/scripts/<function>.js). The entry script reads
// k6/profile.json with open() in its init context and hands it here.
// Env: NANOFAAS_URL (default http://127.0.0.1:8080), NANOFAAS_URLS (one API per control-plane
// replica, comma-separated: each VU sends to one, in turn by VU number), STAGES ("5s:3,10s:8"), THINK_TIME (seconds),
// MODE (sync | async), ARRIVAL (the profile's arrival block as JSON: open model, set by
// `nanofaas loadtest --rate`), NANOFAAS_API_TOKEN (sent as a bearer token; k6 passes the system env).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { arrivalOf, baseUrlOf, buildInput, buildOptions, checkName, checkOutput } from './profile.js';

const TERMINAL = { success: true, error: true, timeout: true };
// The API's cap on one long-poll (MAX_EXECUTION_WAIT_MS in control-plane/src/contracts/invocation.ts).
const MAX_WAIT_MS = 30000;

function parseBody(res) {
  try {
    return res.json();
  } catch (_e) {
    return undefined;
  }
}

/**
 * Wait for the execution with the API's long-poll (GET …?waitMs=N answers as soon as it ends), the
 * same way the built-in engine does, so both engines time an async invocation end to end.
 */
function awaitExecution(baseUrl, id, timeoutSeconds, headers) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const waitMs = Math.max(0, Math.min(MAX_WAIT_MS, deadline - Date.now()));
    const res = http.get(baseUrl + '/v1/executions/' + id + '?waitMs=' + waitMs, {
      headers: headers,
      timeout: waitMs + 5000 + 'ms',
      tags: { name: 'execution' },
    });
    const body = parseBody(res);
    if (res.status !== 200 || (body && TERMINAL[body.status]) || Date.now() >= deadline) return { res: res, body: body };
  }
}

export function createTest(profile, fn) {
  const env = typeof __ENV === 'undefined' ? {} : __ENV;
  // The open model sets the pace with its arrival rate: a pause would only hold a VU.
  const openModel = arrivalOf(profile, env) !== undefined;
  const thinkTime = openModel
    ? 0
    : env.THINK_TIME !== undefined && env.THINK_TIME !== ''
      ? Number(env.THINK_TIME)
      : profile.thinkTimeSeconds;
  const mode = env.MODE || 'sync';
  const timeout = profile.requestTimeoutSeconds + 's';
  const outputCheck = checkName(profile, fn.workload);
  const auth = env.NANOFAAS_API_TOKEN ? { Authorization: 'Bearer ' + env.NANOFAAS_API_TOKEN } : {};
  const params = { headers: Object.assign({ 'Content-Type': 'application/json' }, auth), timeout: timeout };

  function iteration() {
    // __VU is the VU's number (1, 2, …) while iterating: a VU keeps to one replica.
    const baseUrl = baseUrlOf(env, typeof __VU === 'undefined' ? 1 : __VU);
    const payload = JSON.stringify({ input: buildInput(profile, fn.workload, Math.random) });
    const url = baseUrl + '/v1/functions/' + fn.name + (mode === 'async' ? ':enqueue' : ':invoke');
    let res = http.post(url, payload, params);
    let body = parseBody(res);
    let ok = res.status === 200;
    if (mode === 'async') {
      ok = res.status === 202 && body !== undefined;
      if (ok) {
        const done = awaitExecution(baseUrl, body.executionId, profile.requestTimeoutSeconds, auth);
        res = done.res;
        body = done.body;
        ok = res.status === 200 && body !== undefined && body.status === 'success';
      }
    }
    const checks = {
      'status is 200': () => ok,
    };
    checks[outputCheck] = () => body !== undefined && checkOutput(profile, fn.workload, body);
    check(res, checks);
    if (thinkTime > 0) sleep(thinkTime);
  }

  return { options: buildOptions(profile, fn.runtime, env), iteration: iteration };
}
