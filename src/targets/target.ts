import type { Step } from '../pipeline/step.js';
import type { StateDir } from '../state/state-dir.js';

export const TARGET_NAMES = ['local', 'multipass', 'kubeconfig', 'docker'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** Where a running nanofaas answers. Written to `<state>/endpoints.json` by `up`. */
export interface Endpoints {
  apiUrl: string;
  managementUrl: string;
  prometheusUrl?: string;
  grafanaUrl?: string;
  /** `up --replicas N` (local target, N > 1): every control-plane replica, replica 0 first (its URLs are the two above). */
  replicas?: ReplicaEndpoints[];
}

export interface ReplicaEndpoints {
  replica: number;
  apiUrl: string;
  managementUrl: string;
}

export interface UpOptions {
  /** SKIP_BUILD / --skip-build: use the artifacts that exist. */
  skipBuild: boolean;
  /** Only these catalog functions (names); undefined = every runnable one. */
  functions?: string[];
  /** Only functions of these runtimes. */
  runtimes?: string[];
  /** Requested ports; 0 = any free port; undefined = the target's default. */
  apiPort?: number;
  managementPort?: number;
  /** Start Prometheus when available (default true). */
  prometheus: boolean;
  /** Local target: start nats-server -js and run the control plane in NATS mode (docs/design.md §3.12). */
  nats?: boolean;
  /** Local target: how many control-plane replicas (default 1; more than 1 needs `nats`). */
  replicas?: number;
}

export interface DownOptions {
  /** KEEP_VM and friends: leave the expensive part running, stop only nanofaas. */
  keepInfrastructure?: boolean;
  /** `down --remove-registry`: also stop the local registry `up` started (the docker target keeps it otherwise). */
  removeRegistry?: boolean;
}

/** One function `up` handled, for the banner and the --json document. */
export interface FunctionOutcome {
  name: string;
  runtime: string;
  /** registered = new, updated = re-registered with a changed spec, kept = already equal. */
  registration?: 'registered' | 'updated' | 'kept';
  smoke?: { ok: boolean; ms: number; vector?: string; message?: string };
  /** Set when the function was not deployed (e.g. its toolchain is missing). */
  skipped?: string;
}

/** Shared, typed context of an `up` pipeline; targets keep anything else private. */
export interface UpContext {
  endpoints?: Endpoints;
  functions: FunctionOutcome[];
  /** Lines the command prints after the banner (e.g. how to get Prometheus). */
  notes: string[];
  /** Catalog functions `up` deleted because this run did not deploy them (not selected, or not runnable here). */
  removed?: string[];
}

export interface DownContext {
  stopped: string[];
  notes: string[];
}

export type ComponentState = 'running' | 'stopped' | 'unhealthy' | 'unknown';

export interface ComponentStatus {
  name: string;
  state: ComponentState;
  detail?: string;
  pid?: number;
  url?: string;
}

export interface TargetStatus {
  components: ComponentStatus[];
  endpoints?: Endpoints;
}

export type CheckResult = { status: 'ok' | 'warn' | 'fail'; detail: string; fix?: string };

/** One `doctor` check: a troubleshooting entry that applies to the target, with its fix. */
export interface DoctorCheck {
  id: string;
  title: string;
  run(): Promise<CheckResult>;
}

export interface TargetEnv {
  rootDir: string;
  state: StateDir;
  env: NodeJS.ProcessEnv;
  /** A `nanofaas …` command line for a fix or hint, keeping the global flags the user gave. */
  suggest: (command: string) => string;
}

/** Everything a place to run nanofaas provides. One implementation per folder under src/targets/. */
export interface Target {
  readonly name: TargetName;
  /** One line for the header, e.g. "local processes on this machine". */
  describe(): string;
  upSteps(options: UpOptions): Step<UpContext>[];
  downSteps(options: DownOptions): Step<DownContext>[];
  statusOf(): Promise<TargetStatus>;
  /** Endpoints of a running deployment, or undefined when nothing is up. */
  endpoints(): Promise<Endpoints | undefined>;
  /** Target-specific checks; the API-level ones are common and live in the doctor command. */
  doctorChecks(): DoctorCheck[];
  /**
   * Optional: the API token of the deployment, for a target that knows where it is kept (the
   * chart's Secret); undefined when the deployment has none. NANOFAAS_API_TOKEN(_FILE) wins over it.
   */
  apiToken?(): Promise<string | undefined>;
  /**
   * Optional: a function's runtime logs, line by line; resolves when they are printed (with
   * `follow`, once the signal aborts) with where they came from. Absent: not supported here yet.
   */
  logs?(fn: string, options: LogsOptions): Promise<{ source: string }>;
}

/** What `logs` asks a target for. */
export interface LogsOptions {
  /** Only the last N lines (of each replica); undefined = everything kept. */
  tail?: number;
  /**
   * Only lines written at or after this time (applied before `tail`). Where lines carry no time
   * of their own, the target says in its logs file how it decides.
   */
  since?: Date;
  /** Keep printing what is written until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
  /** One line as the runtime wrote it, without its newline. */
  line(text: string): void;
}

export type TargetFactory = (env: TargetEnv) => Target;
