/** Which listr2 renderer a command uses: spinners only for a person at a terminal. */
export type RendererName = 'default' | 'simple' | 'silent';

export interface RendererInputs {
  json: boolean;
  verbose: boolean;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export function chooseRenderer({ json, verbose, isTTY, env }: RendererInputs): RendererName {
  if (json) return 'silent';
  if (verbose || !isTTY || isSet(env.CI) || env.TERM === 'dumb') return 'simple';
  return 'default';
}

/** Colour only on a TTY, never with NO_COLOR (https://no-color.org: any non-empty value). */
export function colorEnabled(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (isSet(env.NO_COLOR)) return false;
  if (isSet(env.FORCE_COLOR) && env.FORCE_COLOR !== '0') return true;
  return isTTY && env.TERM !== 'dumb';
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== 'false';
}
