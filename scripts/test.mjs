#!/usr/bin/env node
// The project's one test command (README, .ci/run): build everything (the TypeScript, the Java jars
// and the container images, each incremental), run the vitest suites, and end with the plain
// `N passed, N failed` line CI counts. The images need a running Docker engine (docs/images.md).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { $ } from 'zx';

// Output goes straight to the terminal; a failing command is an exit code to report, not an exception.
const sh = $({ stdio: 'inherit', nothrow: true });
const status = async (command) => (await command).exitCode ?? 1;

const scripts = JSON.parse(readFileSync('package.json', 'utf8')).scripts;
const builds = ['build', 'build:java', 'images:build'].filter((script) => scripts[script]);
for (const script of builds) {
  if ((await status(sh`npm run --silent ${script}`)) !== 0) {
    console.error(`npm run ${script} failed: fix what the output above names, then run \`npm test\` again`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const results = '.vitest-results.json';
rmSync(results, { force: true });
const vitest = await status(
  sh`npx vitest run --reporter=default --reporter=json ${`--outputFile.json=${results}`} ${process.argv.slice(2)}`,
);

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
process.exit(vitest !== 0 || failed > 0 ? 1 : 0);
