// json-transform-exec: k6 load test (generated from functions/catalog.json by src/loadtest/k6-scripts.ts).
// Run: k6 run --summary-export k6/results/json-transform-exec.json k6/scripts/json-transform-exec.js
// Env: NANOFAAS_URL, STAGES (e.g. 5s:3,10s:8), THINK_TIME, MODE (sync|async), ARRIVAL (open model, JSON).
import { createTest } from '../lib/nanofaas.js';

const profile = JSON.parse(open('../profile.json'));
const test = createTest(profile, {"name":"json-transform-exec","workload":"json-transform","runtime":"exec"});

export const options = test.options;
export default test.iteration;
