import { InvalidArgumentError, type Command } from 'commander';

/** Append an "Examples:" block to a command's --help. */
export function withExamples(command: Command, examples: readonly [string, string?][]): Command {
  const width = Math.max(...examples.map(([cmd]) => cmd.length));
  const lines = examples.map(([cmd, what]) => `  $ ${what ? cmd.padEnd(width) + '   ' + what : cmd}`);
  return command.addHelpText('after', `\nExamples:\n${lines.join('\n')}`);
}

/** Commander argParser for integers in a range; a bad value becomes a usage error (exit 2). */
export function intArg(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be an integer between ${min} and ${max}, got '${value}'`);
    }
    return n;
  };
}

/** Comma-separated list argument, e.g. `--functions a,b`. */
export function listArg(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
