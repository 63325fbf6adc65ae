import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository (or installed package) root. This file sits at src/util/ in the sources and
 * dist/util/ when built, so the root is two levels up either way.
 */
export const ROOT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
