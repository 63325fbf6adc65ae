import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CatalogError, catalogFunctionsToRemove, loadCatalog } from '../../src/util/catalog.js';

const REPO = join(import.meta.dirname, '..', '..');
const roots: string[] = [];

/** A repo root whose functions/catalog.json holds `text`. */
function rootWith(text: string): string {
  const root = mkdtempSync(join(tmpdir(), 'nf-catalog-'));
  roots.push(root);
  mkdirSync(join(root, 'functions'));
  writeFileSync(join(root, 'functions', 'catalog.json'), text);
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('loadCatalog', () => {
  it('reads the repository catalog: 8 functions, each with a workload the catalog describes', () => {
    const catalog = loadCatalog(REPO);
    expect(catalog.functions).toHaveLength(8);
    for (const fn of catalog.functions) expect(Object.keys(catalog.workloads)).toContain(fn.workload);
  });

  it('names the file and the first bad field of an invalid catalog', () => {
    const raw = JSON.parse(readFileSync(join(REPO, 'functions', 'catalog.json'), 'utf8')) as { functions: Array<Record<string, unknown>> };
    raw.functions[2]!.runtime = 'cobol';
    const root = rootWith(JSON.stringify(raw));
    expect(() => loadCatalog(root)).toThrow(CatalogError);
    expect(() => loadCatalog(root)).toThrow(`${join(root, 'functions', 'catalog.json')}: invalid catalog at /functions/2/runtime`);
  });

  it('names the file when it is not JSON or missing', () => {
    const root = rootWith('{ "functions": [');
    expect(() => loadCatalog(root)).toThrow(new RegExp(`^${join(root, 'functions', 'catalog.json')}: not valid JSON`));
    rmSync(join(root, 'functions', 'catalog.json'));
    expect(() => loadCatalog(root)).toThrow(`${join(root, 'functions', 'catalog.json')}: cannot read (ENOENT)`);
  });
});

describe('catalogFunctionsToRemove (what `up` deletes to converge)', () => {
  const catalog = loadCatalog(REPO);
  const node = catalog.functions.filter((f) => f.runtime === 'node').map((f) => f.name);
  const all = catalog.functions.map((f) => f.name);

  it('removes registered catalog functions this run does not deploy, never a name outside the catalog', () => {
    expect(catalogFunctionsToRemove(catalog, [...all, 'my-function'], node).sort()).toEqual(all.filter((n) => !node.includes(n)).sort());
  });

  it('removes nothing that is not registered, and nothing when everything registered is deployed', () => {
    expect(catalogFunctionsToRemove(catalog, ['my-function', ...node], node)).toEqual([]);
    expect(catalogFunctionsToRemove(catalog, [], [])).toEqual([]);
  });
});
