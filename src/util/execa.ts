/**
 * execa, loaded on first use. It costs about 110–140 ms to import here, and most commands
 * (status, invoke, functions, executions, report) never start a program: they should not pay it.
 */
let loading: Promise<typeof import('execa')> | undefined;

export function loadExeca(): Promise<typeof import('execa')> {
  loading ??= import('execa');
  return loading;
}
