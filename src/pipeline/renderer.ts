/** Which listr2 renderer a command uses: spinners only for a person at a terminal. */
export type RendererName = 'default' | 'simple' | 'silent';

export interface RendererInputs {
  json: boolean;
  verbose: boolean;
  isTTY: boolean;
  /** The terminal's width (stdout.columns); 0, as under `script`, is too narrow. Omitted: not checked. */
  columns?: number | undefined;
  env: NodeJS.ProcessEnv;
}

/** Below this width the spinner renderer wraps every line into a column of fragments. */
export const MIN_SPINNER_COLUMNS = 40;

export function chooseRenderer({ json, verbose, isTTY, columns, env }: RendererInputs): RendererName {
  if (json) return 'silent';
  if (verbose || !isTTY || isSet(env.CI) || env.TERM === 'dumb') return 'simple';
  if (columns !== undefined && columns < MIN_SPINNER_COLUMNS) return 'simple';
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
