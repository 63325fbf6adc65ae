/**
 * File-backed function store: `functions.json` in NANOFAAS_STATE_DIR. Every write goes to a
 * temporary file in the same directory and is renamed over the old one, so a crash leaves
 * either the old or the new list, never half of one. Writes are serialized.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FUNCTION_NAME_PATTERN, type FunctionSpec } from '../contracts/index.js';

const NAME = new RegExp(FUNCTION_NAME_PATTERN);

export interface FunctionStore {
  load(): Promise<FunctionSpec[]>;
  save(specs: FunctionSpec[]): Promise<void>;
}

interface StoreFile {
  version: 1;
  functions: FunctionSpec[];
}

export class FileFunctionStore implements FunctionStore {
  private readonly file: string;
  private writes: Promise<void> = Promise.resolve();
  private counter = 0;

  constructor(private readonly dir: string) {
    this.file = join(dir, 'functions.json');
  }

  async load(): Promise<FunctionSpec[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<StoreFile>;
    const functions = Array.isArray(parsed.functions) ? parsed.functions : [];
    // A hand-edited or older file may hold entries we can no longer serve: skip them, keep the rest.
    return functions.filter((spec) => typeof spec === 'object' && spec !== null && typeof spec.name === 'string' && NAME.test(spec.name));
  }

  save(specs: FunctionSpec[]): Promise<void> {
    const body: StoreFile = { version: 1, functions: specs };
    const text = `${JSON.stringify(body, null, 2)}\n`;
    const next = this.writes.then(async () => {
      await mkdir(this.dir, { recursive: true });
      const tmp = `${this.file}.${process.pid}.${++this.counter}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await rename(tmp, this.file);
    });
    // Keep the chain alive after a failed write; the caller still sees this write's error.
    this.writes = next.catch(() => undefined);
    return next;
  }
}
