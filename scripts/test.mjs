#!/usr/bin/env node
// The project's one test command (README, .ci/run): build everything, run the vitest suites,
// and end with the plain `N passed, N failed` line CI counts.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';

const run = (cmd, args) => spawnSync(cmd, args, { stdio: 'inherit' }).status ?? 1;

const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts;
const builds = ['build', ...(scripts['build:java'] ? ['build:java'] : [])];
if (builds.some((script) => run('npm', ['run', '--silent', script]) !== 0)) {
  console.error('build failed: fix the compiler errors above, then run `npm test` again');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const results = '.vitest-results.json';
rmSync(results, { force: true });
const status = run('npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${results}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
if (existsSync(results)) {
  const summary = JSON.parse(readFileSync(results, 'utf8'));
  passed = summary.numPassedTests;
  // A suite that failed to load declares no tests; count it once as a failure.
  const brokenSuites = summary.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  failed = summary.numFailedTests + brokenSuites;
} else {
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
