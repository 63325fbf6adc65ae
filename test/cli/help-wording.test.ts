/**
 * Every --help speaks of the product: no "seed" or "original" (wording of the project this one
 * grew from). Walks the command tree through the help output itself, so a new command is covered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './run-in-process.js';

const stateDir = mkdtempSync(join(tmpdir(), 'nanofaas-help-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

async function help(words: string[]): Promise<string> {
  const { code, stdout, stderr } = await runInProcess(['--state-dir', stateDir, ...words, '--help'], { env: { PATH: process.env.PATH } });
  expect(code, `${words.join(' ')} --help: ${stderr}`).toBe(0);
  return stdout;
}

/** The subcommand names listed under "Commands:" (aliases and `help` left out). */
function subcommands(text: string): string[] {
  const section = text.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return section
    .split('\n')
    .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && name !== 'help');
}

async function everyHelp(): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  const queue: string[][] = [[]];
  while (queue.length > 0) {
    const words = queue.shift()!;
    const text = await help(words);
    texts.set(['nanofaas', ...words].join(' '), text);
    for (const sub of subcommands(text)) queue.push([...words, sub]);
  }
  return texts;
}

describe('--help wording', () => {
  it('walks every command and subcommand', async () => {
    const names = [...(await everyHelp()).keys()];
    for (const expected of [
      'nanofaas',
      'nanofaas up',
      'nanofaas doctor',
      'nanofaas functions register',
      'nanofaas executions get',
      'nanofaas loadtest',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('no help text says "seed" or "original"', async () => {
    const offending = [...(await everyHelp())].flatMap(([command, text]) =>
      text
        .split('\n')
        .filter((line) => /\b(seed|original)\b/i.test(line))
        .map((line) => `${command} --help: ${line.trim()}`),
    );
    expect(offending).toEqual([]);
  });
});
