// Pure helpers over k6/profile.json: no k6 modules here, so the test suite can import this file
// in Node and prove that the k6 scripts and the built-in engine read the profile the same way
// (test/loadtest/k6-parity.test.ts).

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** "10s", "1m30s", "500ms" → seconds. */
export function parseDuration(text) {
  const source = String(text).trim();
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  let match;
  while ((match = pattern.exec(source)) !== null) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * UNIT_SECONDS[match[2]];
    consumed = pattern.lastIndex;
  }
  if (consumed === 0 || consumed !== source.length) throw new Error('invalid duration "' + source + '"');
  return total;
}

/** "5s:3,10s:8" → [{duration: "5s", target: 3}, {duration: "10s", target: 8}]. */
export function parseStages(spec) {
  return String(spec)
    .split(',')
    .map((part) => {
      const pieces = part.trim().split(':');
      if (pieces.length !== 2 || !/^\d+$/.test(pieces[1])) {
        throw new Error('invalid stage "' + part.trim() + '" (expected <duration>:<vus>, e.g. 10s:5)');
      }
      parseDuration(pieces[0]);
      return { duration: pieces[0], target: Number(pieces[1]) };
    });
}

/** k6 threshold expressions for one runtime, e.g. {http_req_duration: ['p(95)<3000', 'p(99)<5000'], ...}. */
export function thresholdExpressions(profile, runtime) {
  const limits = profile.thresholds[runtime];
  if (!limits) throw new Error('no thresholds for runtime "' + runtime + '" in the profile');
  return {
    http_req_duration: ['p(95)<' + limits.p95Ms, 'p(99)<' + limits.p99Ms],
    http_req_failed: ['rate<' + limits.failedRate],
  };
}

/**
 * The arrival block that applies: the CLI's (ARRIVAL, the whole block as JSON, set by
 * `loadtest --rate`/`--rate-stages`), else the profile's. Open model only with a rate or stages.
 */
export function arrivalOf(profile, env) {
  const arrival = env?.ARRIVAL ? JSON.parse(env.ARRIVAL) : profile.arrival;
  if (!arrival || (arrival.rate === undefined && arrival.stages === undefined)) return undefined;
  return arrival;
}

/** The k6 scenario for the profile: ramping-vus, or an arrival-rate executor for the open model. */
export function buildScenario(profile, env) {
  const grace = profile.gracefulStopSeconds + 's';
  const arrival = arrivalOf(profile, env);
  if (arrival && arrival.rate !== undefined) {
    return {
      executor: 'constant-arrival-rate',
      rate: arrival.rate,
      timeUnit: arrival.timeUnit,
      duration: arrival.duration,
      preAllocatedVUs: arrival.preAllocatedVUs,
      maxVUs: arrival.maxVUs,
      gracefulStop: grace,
    };
  }
  if (arrival) {
    return {
      executor: 'ramping-arrival-rate',
      startRate: arrival.startRate || 0,
      timeUnit: arrival.timeUnit,
      stages: arrival.stages,
      preAllocatedVUs: arrival.preAllocatedVUs,
      maxVUs: arrival.maxVUs,
      gracefulStop: grace,
    };
  }
  return {
    executor: 'ramping-vus',
    startVUs: 0,
    stages: env?.STAGES ? parseStages(env.STAGES) : profile.stages,
    gracefulRampDown: grace,
    gracefulStop: grace,
  };
}

/** k6 `options` for one function; `env` carries the CLI's overrides (STAGES, ARRIVAL). */
export function buildOptions(profile, runtime, env) {
  return {
    scenarios: {
      load: buildScenario(profile, env),
    },
    thresholds: thresholdExpressions(profile, runtime),
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  };
}

function pick(list, rng) {
  return list[Math.floor(rng() * list.length)];
}

function between(range, rng) {
  return range.min + Math.floor(rng() * (range.max - range.min + 1));
}

/** The invocation input of one iteration; `rng` returns [0, 1) like Math.random. */
export function buildInput(profile, workload, rng) {
  const spec = profile.workloads[workload];
  if (!spec) throw new Error('no payload for workload "' + workload + '" in the profile');
  if (spec.kind === 'texts') return { text: pick(spec.texts, rng), topN: spec.topN };
  const operation = pick(spec.operations, rng);
  const data = [];
  for (let i = 0; i < spec.rows; i++) {
    const row = {};
    row[spec.groupBy] = pick(spec.departments, rng);
    row[spec.valueField] = between(spec.salary, rng);
    row.age = between(spec.age, rng);
    data.push(row);
  }
  const input = { data: data, groupBy: spec.groupBy, operation: operation };
  if (operation !== 'count') input.valueField = spec.valueField;
  return input;
}

/** Value at a dotted path ("output.wordCount"), undefined when any step is missing. */
export function readPath(value, path) {
  return String(path)
    .split('.')
    .reduce((node, key) => (node !== null && typeof node === 'object' ? node[key] : undefined), value);
}

/** Name of the output check, as k6 reports it ("output.wordCount > 0"). */
export function checkName(profile, workload) {
  const check = profile.workloads[workload].check;
  return 'greaterThan' in check ? check.path + ' > ' + check.greaterThan : check.path + ' defined';
}

/** Whether a parsed response body passes the workload's output check. */
export function checkOutput(profile, workload, body) {
  const check = profile.workloads[workload].check;
  const value = readPath(body, check.path);
  if ('greaterThan' in check) return typeof value === 'number' && value > check.greaterThan;
  return value !== undefined;
}

/**
 * The API a VU sends to: NANOFAAS_URLS (comma-separated, one per control-plane replica, set by
 * `nanofaas loadtest` after `up --replicas N`) spreads the VUs over the replicas in turn by VU
 * number (1-based); otherwise NANOFAAS_URL, else the default. Trailing slashes are dropped.
 */
export function baseUrlOf(env, vu) {
  const urls = (env.NANOFAAS_URLS || '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
  const chosen = urls.length > 0 ? urls[(Math.max(1, vu || 1) - 1) % urls.length] : env.NANOFAAS_URL || 'http://127.0.0.1:8080';
  return chosen.replace(/\/+$/, '');
}
