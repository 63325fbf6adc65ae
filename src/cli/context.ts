import type { ApiClient } from '../api-client/client.js';
import type { PipelineResult } from '../pipeline/run.js';
import type { Step } from '../pipeline/step.js';
import type { StateDir } from '../state/state-dir.js';
import type { Target, TargetName } from '../targets/target.js';
import type { Output } from './output.js';

/** Global flags, as parsed (available inside any command's action). */
export interface GlobalOptions {
  target: TargetName;
  json: boolean;
  verbose: boolean;
  stateDir: string;
}

/**
 * What every command gets. Built before argv is parsed, so each field is read lazily when an
 * action runs; commands never look at process.env or process.argv themselves.
 */
export interface CliContext {
  /** Repository (package) root: catalog, runtimes, control-plane/dist resolve against it. */
  readonly rootDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly options: GlobalOptions;
  readonly state: StateDir;
  readonly out: Output;
  /** The chosen target (loaded lazily; exit 2 when it is not part of this build). */
  target(): Promise<Target>;
  /** API client for NANOFAAS_URL, else the state directory's endpoints, else the target's. */
  api(): Promise<ApiClient>;
  /** Run steps with the renderer the flags and terminal call for. */
  pipeline<C>(steps: readonly Step<C>[], ctx: C, options?: { dryRun?: boolean }): Promise<PipelineResult>;
  /** Print "target: <name>" once (stderr; --json documents carry a `target` field instead). */
  announceTarget(): void;
  /**
   * Aborted on the first Ctrl-C (SIGINT) or SIGTERM: long-running work stops, records what it
   * started and reports itself interrupted.
   */
  readonly signal: AbortSignal;
  /** A `nanofaas …` command line for a hint, keeping the global flags the user gave. */
  suggest(command: string): string;
  /** Exit code to return when the action completes without throwing (e.g. 99 from loadtest). */
  exitCode: number;
}
