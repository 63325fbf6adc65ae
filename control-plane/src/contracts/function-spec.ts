import { Type, type Static } from '@sinclair/typebox';

/** DNS-1123 label, ≤ 63 chars: workloads are named `fn-<name>`, so the name must fit in one. */
export const FUNCTION_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]{0,58}[a-z0-9])?$';

export const RuntimeMode = Type.Union([Type.Literal('HTTP'), Type.Literal('STDIO'), Type.Literal('FILE')]);
export type RuntimeMode = Static<typeof RuntimeMode>;

export const ExecutionMode = Type.Union([Type.Literal('DEPLOYMENT'), Type.Literal('POOL'), Type.Literal('LOCAL')]);
export type ExecutionMode = Static<typeof ExecutionMode>;

/** Runtimes the process backend can launch without an image (see runtimes/<name>/launch.json). */
export const RuntimeName = Type.Union([Type.Literal('node'), Type.Literal('python'), Type.Literal('java'), Type.Literal('exec')]);
export type RuntimeName = Static<typeof RuntimeName>;

export const Resources = Type.Object(
  {
    cpu: Type.Optional(Type.String({ maxLength: 32 })),
    memory: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const ScalingConfig = Type.Object(
  {
    strategy: Type.Optional(Type.Union([Type.Literal('NONE'), Type.Literal('INTERNAL'), Type.Literal('HPA')])),
    minReplicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    maxReplicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    metrics: Type.Optional(
      Type.Array(
        Type.Object({
          type: Type.String({ maxLength: 64 }),
          target: Type.Optional(Type.Number()),
        }),
        { maxItems: 8 },
      ),
    ),
  },
  { additionalProperties: false },
);

const specFields = {
  name: Type.String({ pattern: FUNCTION_NAME_PATTERN, minLength: 1, maxLength: 60 }),
  image: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
  command: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 64 })),
  // additionalProperties: false, or keys that miss the pattern would pass unchecked.
  env: Type.Optional(
    Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 8192 }), {
      additionalProperties: false,
      maxProperties: 256,
    }),
  ),
  resources: Type.Optional(Resources),
  timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 900_000 })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  queueSize: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  runtimeMode: Type.Optional(RuntimeMode),
  runtimeCommand: Type.Optional(Type.String({ maxLength: 4096 })),
  executionMode: Type.Optional(ExecutionMode),
  endpointUrl: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
  scalingConfig: Type.Optional(ScalingConfig),
  runtime: Type.Optional(RuntimeName),
  handler: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
};

/** What a client POSTs to /v1/functions. Optional fields get the control plane's defaults. */
export const FunctionSpecInput = Type.Object(specFields, {
  $id: 'FunctionSpecInput',
  additionalProperties: false,
});
export type FunctionSpecInput = Static<typeof FunctionSpecInput>;

/** A registered function: every default resolved. */
export const FunctionSpec = Type.Object(
  {
    ...specFields,
    timeoutMs: Type.Integer(),
    concurrency: Type.Integer(),
    queueSize: Type.Integer(),
    maxRetries: Type.Integer(),
    runtimeMode: RuntimeMode,
    executionMode: ExecutionMode,
    replicas: Type.Integer(),
  },
  { $id: 'FunctionSpec', additionalProperties: false },
);
export type FunctionSpec = Static<typeof FunctionSpec>;

/** One replica as the process and docker backends run it (a pod on Kubernetes is the cluster's to show). */
export const ReplicaStatus = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  ready: Type.Boolean(),
  /** Base URL of the replica's runtime while a run is up (what the dispatcher calls); absent between runs. */
  url: Type.Optional(Type.String()),
  /** Runs started after the first one: crashes and failed starts alike. */
  restarts: Type.Integer({ minimum: 0 }),
  /** The last run that ended badly (a crash, a failed start), kept after the replica recovered. */
  lastError: Type.Optional(Type.Object({ message: Type.String(), at: Type.String({ format: 'date-time' }) })),
});
export type ReplicaStatus = Static<typeof ReplicaStatus>;

export const FunctionStatus = Type.Object({
  state: Type.Union([Type.Literal('PENDING'), Type.Literal('READY'), Type.Literal('DEGRADED'), Type.Literal('FAILED')]),
  replicas: Type.Integer(),
  readyReplicas: Type.Integer(),
  /** One line. FAILED: why the workload cannot start (process backend: the runtime's last words). */
  message: Type.Optional(Type.String()),
  /** FAILED (process backend): the last lines the failed start attempt wrote. */
  logTail: Type.Optional(Type.Array(Type.String())),
  /** Process backend: the function's log file on the control plane's host. */
  logPath: Type.Optional(Type.String()),
  /** Process and docker backends: each replica, by index (added in 0.1; older control planes omit it). */
  instances: Type.Optional(Type.Array(ReplicaStatus)),
});
export type FunctionStatus = Static<typeof FunctionStatus>;

/** Longest long-poll of GET /v1/functions/{name}?waitMs=N; clients loop for longer waits. */
export const MAX_FUNCTION_WAIT_MS = 30_000;

/** GET /v1/functions/{name}: the spec plus live status. */
export const FunctionView = Type.Intersect([FunctionSpec, Type.Object({ status: FunctionStatus })], {
  $id: 'FunctionView',
});
export type FunctionView = Static<typeof FunctionView>;

export const ReplicasRequest = Type.Object({ replicas: Type.Integer({ minimum: 0, maximum: 100 }) }, { additionalProperties: false });
export const ReplicasResponse = Type.Object({ name: Type.String(), replicas: Type.Integer() });
