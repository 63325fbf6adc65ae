import { displayCommand } from '../util/process.js';

/** The global flags the user typed on this command line; a hint repeats exactly these. */
export interface GivenFlags {
  target?: string;
  stateDir?: string;
}

/**
 * The command a hint tells the user to run next, keeping the global flags they gave (a hint that
 * drops `--target multipass` points at a different deployment). `npx` is kept when the CLI was
 * started through it.
 */
export function suggestCommand(command: string, given: GivenFlags, env: NodeJS.ProcessEnv = {}): string {
  const words = command.trim().split(/\s+/);
  const globals = [...(given.target ? ['--target', given.target] : []), ...(given.stateDir ? ['--state-dir', given.stateDir] : [])];
  const [sub, ...rest] = words;
  const prefix = env.npm_command === 'exec' ? 'npx nanofaas' : 'nanofaas';
  return `${prefix} ${displayCommand(sub ?? '', [...rest, ...globals])}`;
}
