import type { FunctionSpec, FunctionStatus } from '../contracts/index.js';

/** One reachable instance of a function's runtime. */
export interface Endpoint {
  /** Base URL of the runtime, e.g. http://127.0.0.1:41234 — the dispatcher POSTs `${url}/invoke`. */
  url: string;
  ready: boolean;
}

/**
 * The seam between the control plane and whatever runs function code (docs/design.md §4.2):
 * `process` (local child processes), `kubernetes` (Deployment + Service), `pool` (spec.endpointUrl),
 * `docker` (containers on the local Docker Engine).
 * Every method is idempotent: provisioning a function that exists updates it in place.
 * Methods fail with an ApiError (errors.ts) or a subclass of it, so callers read the code, never guess it.
 */
export interface WorkloadBackend {
  readonly name: 'process' | 'kubernetes' | 'pool' | 'docker';
  /** Create or update the workload; resolves once it is accepted (not necessarily ready). */
  provision(spec: FunctionSpec): Promise<void>;
  /** Remove the workload; resolves when nothing of it is left running. Unknown name: no-op. */
  deprovision(name: string): Promise<void>;
  /** Set the desired replica count. */
  scale(name: string, replicas: number): Promise<void>;
  /** Current endpoints of a function (ready or not). Hot path: must not do I/O per call. */
  endpoints(name: string): Endpoint[];
  /** Live status for GET /v1/functions/{name}. */
  status(name: string): FunctionStatus;
  /** Resolves when the function has ≥ 1 ready endpoint, rejects after timeoutMs. */
  waitReady(name: string, timeoutMs: number): Promise<void>;
  /** Subscribe to endpoint-set changes (a replica became ready, crashed, was removed). */
  onChange(listener: (name: string) => void): () => void;
  /** Is the backend itself usable (e.g. API server reachable)? false → 503 BACKEND_UNAVAILABLE. */
  healthy(): Promise<boolean>;
  /** Optional: why the last healthy() answered false, in one line (e.g. the Engine socket's error). */
  unavailableReason?(): string | undefined;
  /** Stop everything this backend started (control-plane shutdown). */
  close(): Promise<void>;
  /**
   * Optional: the latest queue depth / in-flight count of a function, for a backend that scales
   * on load (kubernetes, INTERNAL strategy). The control plane reports every ~1 s, never per
   * request; a backend without this method gets no reports at all.
   */
  observeLoad?(name: string, load: { queueDepth: number; inFlight: number }): void;
}

/** The subset of pino's logger a backend uses, so tests can pass a silent one. */
export interface BackendLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface BackendOptions {
  /** Repository root: relative handler paths and runtimes/<name>/launch.json resolve against it. */
  rootDir: string;
  /** NANOFAAS_STATE_DIR: logs of child processes go under it. */
  stateDir: string;
  logger: BackendLogger;
  /** Base URL runtimes use for CALLBACK_URL (…/v1/internal/executions), when callbacks are wanted. */
  callbackBaseUrl?: string;
  /**
   * The credential a function's runtimes send as `Authorization: Bearer <token>` on their
   * `:complete` callbacks (CALLBACK_TOKEN in the runtime's environment). Valid only for that
   * function's executions; undefined when the API needs no token.
   */
  callbackToken?: (functionName: string) => string | undefined;
  /** Process backend knobs from the configuration (config.ts `process`); tests may pass their own. */
  process?: {
    startupTimeoutMs: number;
    stopGraceMs: number;
    functionUser: string | undefined;
    /** NANOFAAS_PYTHON / NANOFAAS_JAVA (those set): ${operator:NAME} in launch descriptors. */
    operatorSettings?: Record<string, string>;
  };
  /** Docker backend settings from the configuration (config.ts `docker`); required by that backend only. */
  docker?: {
    socketPath: string;
    owner: string | undefined;
    user: string;
    startupTimeoutMs: number;
    stopGraceMs: number;
  };
}
