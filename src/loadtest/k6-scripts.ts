import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCatalog } from '../util/catalog.js';
import type { CatalogEntry } from './catalog.js';

/**
 * The thin per-function k6 entry script (k6/scripts/<function>.js). It must call open() itself:
 * k6 only allows open() in the init context, and a path relative to this file is unambiguous.
 * The committed scripts are checked against this text by test/loadtest/k6-parity.test.ts.
 */
export function renderK6Script(entry: CatalogEntry): string {
  return `// ${entry.name}: k6 load test (generated from functions/catalog.json by src/loadtest/k6-scripts.ts).
// Run: k6 run --summary-export k6/results/${entry.name}.json k6/scripts/${entry.name}.js
// Env: NANOFAAS_URL, STAGES (e.g. 5s:3,10s:8), THINK_TIME, MODE (sync|async), ARRIVAL (open model, JSON).
import { createTest } from '../lib/nanofaas.js';

const profile = JSON.parse(open('../profile.json'));
const test = createTest(profile, ${JSON.stringify({ name: entry.name, workload: entry.workload, runtime: entry.runtime })});

export const options = test.options;
export default test.iteration;
`;
}

/** Regenerate k6/scripts/ from the catalog (after adding a demo function). Returns the paths. */
export function writeK6Scripts(rootDir: string): string[] {
  return loadCatalog(rootDir).functions.map((entry) => {
    const path = join(rootDir, 'k6', 'scripts', `${entry.name}.js`);
    writeFileSync(path, renderK6Script(entry));
    return path;
  });
}
