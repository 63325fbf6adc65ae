import { findMaxTable } from '../report/find-max-section.js';
import type { Output } from './output.js';

/** The find-max table on the terminal (after the per-function table), when the run was a --find-max run. */
export function printFindMax(out: Output, resultsDir: string): void {
  const found = findMaxTable(resultsDir);
  if (found === undefined) return;
  out.data('Highest sustained rate (find-max):');
  out.table(found.rows);
  out.data(out.c.dim(found.caption));
  out.data('');
}
