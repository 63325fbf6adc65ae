#!/usr/bin/env node
// Writes the `functions:` list of helm/nanofaas/values.yaml from functions/catalog.json, the one
// list of demo functions. The rest of values.yaml (and its comments) is left as it is.
// `--check` changes nothing and exits 1 when values.yaml is out of date (used by the tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const catalogPath = `${root}functions/catalog.json`;
const valuesPath = `${root}helm/nanofaas/values.yaml`;

/** Catalog entry → chart function entry: the image is split so the chart can prefix the registry. */
export function functionValues(catalog, defaultTag) {
  return catalog.functions.map((fn) => {
    const at = fn.image.lastIndexOf(':');
    const repository = at > fn.image.lastIndexOf('/') ? fn.image.slice(0, at) : fn.image;
    const tag = at > fn.image.lastIndexOf('/') ? fn.image.slice(at + 1) : defaultTag;
    return {
      name: fn.name,
      repository,
      ...(tag !== defaultTag ? { tag } : {}),
      ...fn.spec,
    };
  });
}

const catalog = JSON.parse(readFileSync(catalogPath, 'utf8'));
const text = readFileSync(valuesPath, 'utf8');
const doc = parseDocument(text);
const defaultTag = String(doc.getIn(['image', 'tag']));
doc.set('functions', doc.createNode(functionValues(catalog, defaultTag)));
const next = doc.toString({ lineWidth: 0 });

if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error('helm/nanofaas/values.yaml is out of date with functions/catalog.json: run `node scripts/gen-helm-values.mjs`');
    process.exit(1);
  }
  console.log('helm/nanofaas/values.yaml functions match functions/catalog.json');
} else {
  writeFileSync(valuesPath, next);
  console.log(`wrote ${catalog.functions.length} functions to helm/nanofaas/values.yaml`);
}
