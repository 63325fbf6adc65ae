// json-transform-java: k6 load test (generated from functions/catalog.json by src/loadtest/k6-scripts.ts).
// Run: k6 run --summary-export k6/results/json-transform-java.json k6/scripts/json-transform-java.js
// Env: NANOFAAS_URL, STAGES (e.g. 5s:3,10s:8), THINK_TIME, MODE (sync|async), ARRIVAL (open model, JSON).
import { createTest } from '../lib/nanofaas.js';

const profile = JSON.parse(open('../profile.json'));
const test = createTest(profile, {"name":"json-transform-java","workload":"json-transform","runtime":"java"});

export const options = test.options;
export default test.iteration;
