// word-stats-java: k6 load test (generated from functions/catalog.json by src/loadtest/k6-scripts.ts).
// Run: k6 run --summary-export k6/results/word-stats-java.json k6/scripts/word-stats-java.js
// Env: NANOFAAS_URL, STAGES (e.g. 5s:3,10s:8), THINK_TIME, MODE (sync|async), ARRIVAL (open model, JSON).
import { createTest } from '../lib/nanofaas.js';

const profile = JSON.parse(open('../profile.json'));
const test = createTest(profile, {"name":"word-stats-java","workload":"word-stats","runtime":"java"});

export const options = test.options;
export default test.iteration;
