import { Chalk, type ChalkInstance } from 'chalk';
import { table } from '../util/format.js';

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The only way commands write. Data goes to stdout, status lines to stderr; with --json the
 * command's single JSON document is the only thing on stdout and human lines are dropped.
 */
export interface Output {
  readonly json: boolean;
  readonly verbose: boolean;
  /** Colours (a no-op instance when colour is off). */
  readonly c: ChalkInstance;
  /** Human data on stdout (e.g. a table, a function's output). Dropped with --json. */
  data(text: string): void;
  /** Human status on stderr. Dropped with --json. */
  status(text: string): void;
  /** Extra detail only with --verbose (stderr). */
  debug(text: string): void;
  /** Aligned columns on stdout; the first row is a header and is dimmed. */
  table(rows: string[][]): void;
  /** The --json document; written once, pretty-printed, to stdout. */
  document(doc: unknown): void;
  /** Errors always reach stderr in human mode; in --json mode they belong in the document. */
  error(text: string): void;
}

export function createOutput(streams: OutputStreams, opts: { json: boolean; verbose: boolean; color: boolean }): Output {
  const c = new Chalk({ level: opts.color ? 1 : 0 });
  const write = (stream: NodeJS.WritableStream, text: string) => stream.write(text.endsWith('\n') ? text : text + '\n');
  let documented = false;
  return {
    json: opts.json,
    verbose: opts.verbose,
    c,
    data: (text) => {
      if (!opts.json) write(streams.stdout, text);
    },
    status: (text) => {
      if (!opts.json) write(streams.stderr, text);
    },
    debug: (text) => {
      if (opts.verbose && !opts.json) write(streams.stderr, c.dim(text));
    },
    table: (rows) => {
      if (opts.json || rows.length === 0) return;
      const [header, ...rest] = table(rows);
      write(streams.stdout, [c.dim(header ?? ''), ...rest].join('\n'));
    },
    document: (doc) => {
      if (!opts.json || documented) return;
      documented = true;
      write(streams.stdout, JSON.stringify(doc, null, 2));
    },
    error: (text) => {
      if (!opts.json) write(streams.stderr, text);
    },
  };
}
