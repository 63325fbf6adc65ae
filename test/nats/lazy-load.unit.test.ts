/**
 * Memory mode must not load the NATS client: outside control-plane/src/nats/ nothing imports a
 * NATS module except as `import type` (erased) or through a dynamic import(), and inside it the
 * @nats-io packages are imported only as types — client.ts loads them with import().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../control-plane/src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Static import/export-from statements that are not type-only, with their module specifier. */
function valueImports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) found.push(m[1]!);
  for (const m of text.matchAll(/^import\s+'([^']+)'/gm)) found.push(m[1]!);
  return found;
}

describe('the NATS client is loaded only in NATS mode', () => {
  it('no value import of a NATS module outside src/nats/, none of @nats-io inside it', () => {
    const offenders: string[] = [];
    for (const file of files(SRC)) {
      const rel = relative(SRC, file);
      for (const spec of valueImports(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('@nats-io/')) offenders.push(`${rel} → ${spec}`);
        else if (!rel.startsWith('nats/') && /(^|\/)nats\//.test(spec)) offenders.push(`${rel} → ${spec}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('client.ts loads the three packages with import()', () => {
    const text = readFileSync(join(SRC, 'nats/client.ts'), 'utf8');
    for (const pkg of ['@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv']) expect(text).toContain(`import('${pkg}')`);
  });
});
