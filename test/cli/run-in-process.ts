/** Run the CLI in-process (`run()` from src/cli/program.ts) with captured, non-TTY output. */
import { run } from '../../src/cli/program.js';
import { ROOT_DIR } from '../../src/util/paths.js';

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InProcessOptions {
  env: NodeJS.ProcessEnv;
  /** The interrupt signal `main.ts` would abort on Ctrl-C. */
  signal?: AbortSignal;
  /** Called with all of stderr so far each time the CLI writes to it: the event a test acts on. */
  onStderr?: (stderr: string) => void;
  /** Called with all of stdout so far each time the CLI writes to it. */
  onStdout?: (stdout: string) => void;
}

export async function runInProcess(args: readonly string[], options: InProcessOptions): Promise<InProcessRun> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    env: options.env,
    rootDir: ROOT_DIR,
    signal: options.signal,
    stdout: {
      write: (s: string) => {
        stdout += s;
        options.onStdout?.(stdout);
        return true;
      },
    } as never,
    stderr: {
      write: (s: string) => {
        stderr += s;
        options.onStderr?.(stderr);
        return true;
      },
    } as never,
  });
  return { code, stdout, stderr };
}
