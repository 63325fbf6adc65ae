// Shared body of every per-function k6 script (k6/scripts/<function>.js). The entry script reads
// k6/profile.json with open() in its init context and hands it here.
// Env: NANOFAAS_URL (default http://127.0.0.1:8080), STAGES ("5s:3,10s:8"), THINK_TIME (seconds),
// MODE (sync | async), NANOFAAS_API_TOKEN (sent as a bearer token; k6 passes the system env).
import http from 'k6/http';
import { check, sleep } from 'k6';
import { buildInput, buildOptions, checkName, checkOutput } from './profile.js';

const TERMINAL = { success: true, error: true, timeout: true };

function parseBody(res) {
  try {
    return res.json();
  } catch (e) {
    return undefined;
  }
}

/** Poll the execution until it reaches a terminal state or the request timeout passes. */
function awaitExecution(baseUrl, id, timeoutSeconds, headers) {
  const deadline = Date.now() + timeoutSeconds * 1000;
  let pause = 0.01;
  for (;;) {
    const res = http.get(baseUrl + '/v1/executions/' + id, { headers: headers, tags: { name: 'execution' } });
    const body = parseBody(res);
    if (res.status !== 200 || (body && TERMINAL[body.status]) || Date.now() > deadline) return { res: res, body: body };
    sleep(pause);
    pause = Math.min(pause * 2, 0.1);
  }
}

export function createTest(profile, fn) {
  const env = typeof __ENV === 'undefined' ? {} : __ENV;
  const baseUrl = (env.NANOFAAS_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const thinkTime = env.THINK_TIME !== undefined && env.THINK_TIME !== '' ? Number(env.THINK_TIME) : profile.thinkTimeSeconds;
  const mode = env.MODE || 'sync';
  const timeout = profile.requestTimeoutSeconds + 's';
  const outputCheck = checkName(profile, fn.workload);
  const auth = env.NANOFAAS_API_TOKEN ? { Authorization: 'Bearer ' + env.NANOFAAS_API_TOKEN } : {};
  const params = { headers: Object.assign({ 'Content-Type': 'application/json' }, auth), timeout: timeout };

  function iteration() {
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
    const checks = { 'status is 200': function () { return ok; } };
    checks[outputCheck] = function () { return body !== undefined && checkOutput(profile, fn.workload, body); };
    check(res, checks);
    sleep(thinkTime);
  }

  return { options: buildOptions(profile, fn.runtime, env), iteration: iteration };
}
