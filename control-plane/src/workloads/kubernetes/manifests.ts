import type { V1Deployment, V1EnvVar, V1Service } from '@kubernetes/client-node';
import type { FunctionSpec } from '../../contracts/index.js';
import { KubernetesBackendError } from './errors.js';

/** Port every runtime listens on (docs/design.md §5.1); the Service exposes the same number. */
export const RUNTIME_PORT = 8080;
export const MANAGED_BY = 'nanofaas';
/** Selects exactly the Deployments this backend owns (watch/list label selector). */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY},app.kubernetes.io/component=function`;
/** Label carrying the function name: Prometheus relabels it into the `function` label. */
export const FUNCTION_LABEL = 'function';

/** Env names the backend owns; spec.env cannot override them (probes and routing depend on them). */
const RESERVED_ENV = new Set([
  'PORT',
  'FUNCTION_NAME',
  'TIMEOUT_MS',
  'HANDLER',
  'EXECUTION_MODE',
  'WATCHDOG_CMD',
  'CALLBACK_URL',
  'CALLBACK_TOKEN',
]);

export interface ManifestContext {
  namespace: string;
  /** Base URL for CALLBACK_URL (…/v1/internal/executions); omitted when callbacks are off. */
  callbackBaseUrl?: string;
  /** The function's callback credential (CALLBACK_TOKEN); undefined when the API needs no token. */
  callbackToken?: (functionName: string) => string | undefined;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export function workloadName(functionName: string): string {
  return `fn-${functionName}`;
}

/** One endpoint per function: the Service's cluster DNS name; kube-proxy spreads calls over pods. */
export function serviceUrl(functionName: string, namespace: string, clusterDomain = 'cluster.local'): string {
  return `http://${workloadName(functionName)}.${namespace}.svc.${clusterDomain}:${RUNTIME_PORT}`;
}

export function functionLabels(functionName: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': functionName,
    'app.kubernetes.io/instance': workloadName(functionName),
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/component': 'function',
    'app.kubernetes.io/part-of': 'nanofaas',
    [FUNCTION_LABEL]: functionName,
  };
}

/** Immutable once created (a Deployment's selector cannot change), so it stays minimal. */
export function selectorLabels(functionName: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': workloadName(functionName), [FUNCTION_LABEL]: functionName };
}

/**
 * The argv the watchdog runs for STDIO/FILE functions: runtimeCommand as written (a string the
 * watchdog splits itself, never through a shell), else spec.command as a JSON array.
 */
function watchdogCommand(spec: FunctionSpec): string | undefined {
  if (spec.runtimeMode === 'HTTP') return undefined;
  if (spec.runtimeCommand) return spec.runtimeCommand;
  if (spec.command && spec.command.length > 0) return JSON.stringify(spec.command);
  return undefined;
}

export function containerEnv(spec: FunctionSpec, ctx: ManifestContext): V1EnvVar[] {
  const env: V1EnvVar[] = [
    { name: 'PORT', value: String(RUNTIME_PORT) },
    { name: 'FUNCTION_NAME', value: spec.name },
    { name: 'TIMEOUT_MS', value: String(spec.timeoutMs) },
    { name: 'EXECUTION_MODE', value: spec.runtimeMode },
  ];
  if (spec.handler) env.push({ name: 'HANDLER', value: spec.handler });
  const cmd = watchdogCommand(spec);
  if (cmd) env.push({ name: 'WATCHDOG_CMD', value: cmd });
  if (ctx.callbackBaseUrl) {
    env.push({ name: 'CALLBACK_URL', value: ctx.callbackBaseUrl });
    // Valid only for completing this function's executions, so a pod that leaks it exposes no more
    // than its own results; the API token never reaches function pods.
    const token = ctx.callbackToken?.(spec.name);
    if (token) env.push({ name: 'CALLBACK_TOKEN', value: token });
  }
  for (const [name, value] of Object.entries(spec.env ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!RESERVED_ENV.has(name)) env.push({ name, value });
  }
  return env;
}

function resourcesFor(spec: FunctionSpec): { requests?: Record<string, string>; limits?: Record<string, string> } | undefined {
  const { cpu, memory } = spec.resources ?? {};
  if (!cpu && !memory) return undefined;
  const requests: Record<string, string> = {};
  if (cpu) requests.cpu = cpu;
  if (memory) requests.memory = memory;
  // Memory is limited (an OOM kill is contained to the pod); CPU is not, because a CPU limit
  // throttles a busy runtime and turns into tail latency rather than protecting anything.
  return memory ? { requests, limits: { memory } } : { requests };
}

export function deploymentFor(spec: FunctionSpec, ctx: ManifestContext): V1Deployment {
  if (!spec.image) {
    throw new KubernetesBackendError(
      'VALIDATION_ERROR',
      `function ${spec.name} has no image: the kubernetes backend runs every function from an image`,
      0,
    );
  }
  const name = workloadName(spec.name);
  const labels = functionLabels(spec.name);
  const httpCommand = spec.runtimeMode === 'HTTP' && spec.command && spec.command.length > 0 ? spec.command : undefined;
  const resources = resourcesFor(spec);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ctx.namespace, labels },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: selectorLabels(spec.name) },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(RUNTIME_PORT),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: {
          // Function code never talks to the Kubernetes API: no token in the pod.
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'function',
              image: spec.image,
              imagePullPolicy: ctx.imagePullPolicy ?? 'IfNotPresent',
              ...(httpCommand ? { command: httpCommand } : {}),
              ports: [{ name: 'http', containerPort: RUNTIME_PORT, protocol: 'TCP' }],
              env: containerEnv(spec, ctx),
              ...(resources ? { resources } : {}),
              readinessProbe: {
                httpGet: { path: '/health', port: RUNTIME_PORT },
                initialDelaySeconds: 1,
                periodSeconds: 2,
                failureThreshold: 3,
              },
              // Generous: a JVM runtime may take a while to load its handler.
              livenessProbe: {
                httpGet: { path: '/health', port: RUNTIME_PORT },
                initialDelaySeconds: 30,
                periodSeconds: 10,
                failureThreshold: 6,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              // The root filesystem is read-only; STDIO/FILE handlers and runtimes still need scratch space.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }],
        },
      },
    },
  };
}

export function serviceFor(spec: FunctionSpec, ctx: ManifestContext): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: workloadName(spec.name), namespace: ctx.namespace, labels: functionLabels(spec.name) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(spec.name),
      ports: [{ name: 'http', port: RUNTIME_PORT, targetPort: RUNTIME_PORT, protocol: 'TCP' }],
    },
  };
}
