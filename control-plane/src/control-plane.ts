/**
 * Wires the control plane together: metrics, dispatcher, workload backend, invoker, registry,
 * the API app and the management server; starts them and shuts them down in order.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { buildApiApp } from './app.js';
import { callbackCredentials } from './api/callback-credential.js';
import type { Api } from './api/types.js';
import type { Config } from './config.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { Invoker } from './invocation/invoker.js';
import { DEFAULT_LOAD_REPORT_INTERVAL_MS, startLoadReporter } from './invocation/load-reporter.js';
import { createManagementServer } from './management.js';
import { Metrics } from './metrics.js';
import { FunctionRegistry } from './registry/function-registry.js';
import { FileFunctionStore } from './registry/store.js';
import type { NatsMode } from './nats/nats-mode.js';
import type { WorkloadBackend } from './workloads/backend.js';
import { createBackend, type RoutedBackend } from './workloads/index.js';

export interface Listening {
  apiPort: number;
  managementPort: number;
  apiUrl: string;
  managementUrl: string;
}

export interface ControlPlane {
  readonly api: Api;
  readonly invoker: Invoker;
  /** Runtime connection pools (one per endpoint URL in use). */
  readonly dispatcher: Dispatcher;
  readonly registry: FunctionRegistry;
  readonly backend: RoutedBackend;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** NATS mode: whether this replica acts on a shared workload backend (the workload lease), and its changes. */
  readonly workloadOwner?: { isOwner(): boolean; onChange(listener: (owner: boolean) => void): () => void };
  start(): Promise<Listening>;
  close(): Promise<void>;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

const urlHost = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** For tests and embedders: replace parts the configuration would otherwise build. */
export interface ControlPlaneOverrides {
  /** Use this backend instead of the one NANOFAAS_WORKLOAD_BACKEND selects. */
  backend?: RoutedBackend;
  /** How often queue depth / in-flight go to backend.observeLoad (default 1000 ms). */
  loadReportIntervalMs?: number;
  /** NATS mode: TTL of the workload-owner lease (default 10000 ms). */
  workloadLeaseTtlMs?: number;
}

export async function createControlPlane(
  config: Config,
  logger: Logger = pino({ level: config.logLevel }),
  overrides: ControlPlaneOverrides = {},
): Promise<ControlPlane> {
  const metrics = new Metrics();
  const dispatcher = new Dispatcher();
  const callbackBaseUrl = config.publicUrl ?? (config.port !== 0 ? `http://${urlHost(config.host)}:${config.port}` : undefined);
  // NATS mode: only the replica holding the workload lease writes to a shared backend (§3.12).
  const owner = config.nats ? await import('./nats/workload-owner.js') : undefined;
  const role = owner?.switchableRole();
  const backend =
    overrides.backend ??
    createBackend({
      kind: config.backend,
      namespace: config.kubernetesNamespace,
      rootDir: config.rootDir,
      stateDir: config.stateDir,
      logger,
      ...(callbackBaseUrl ? { callbackBaseUrl: `${callbackBaseUrl}/v1/internal/executions` } : {}),
      callbackToken: callbackCredentials(config.apiToken).token,
      process: config.process,
      docker: config.docker,
      ...(owner && role ? { wrapDefault: (b: WorkloadBackend) => owner.gateWorkloads(b, role, logger) } : {}),
    });
  if (role) owner?.registerOwnerGauge(metrics.registry, role);
  let lease: { stop(): Promise<void> } | undefined;
  const invoker = new Invoker({
    dispatcher,
    metrics,
    endpoints: (name) => backend.endpoints(name),
    replicas: (name) => backend.status(name).readyReplicas,
    status: (name) => backend.status(name),
    admission: config.admission,
    retry: config.retry,
    executionTtlMs: config.executionTtlMs,
    executionMaxRecords: config.executionMaxRecords,
    idempotencyTtlMs: config.idempotencyTtlMs,
    maxLiveExecutions: config.limits.maxLiveExecutions,
  });
  // NATS mode (NANOFAAS_NATS_URL, docs/design.md §3.12): its modules and the client packages load only then.
  let registryRef: FunctionRegistry | undefined;
  const nats: NatsMode | undefined = config.nats
    ? await (await import('./nats/nats-mode.js')).openNatsMode({
        config: config.nats,
        executionTtlMs: config.executionTtlMs,
        idempotencyTtlMs: config.idempotencyTtlMs,
        dispatcher,
        metrics,
        endpoints: (name) => backend.endpoints(name),
        spec: (name) => registryRef?.get(name),
        status: (name) => backend.status(name),
        retryAfterSeconds: config.admission.retryAfterSeconds,
        retry: config.retry,
        logger,
      })
    : undefined;
  if (nats) {
    // Queue depth and in flight add the async queue's: pending from the consumer, in flight here.
    metrics.setGaugeSource({
      forEachFunction: (visit) =>
        invoker.forEachLoad((name, depth, inFlight) =>
          visit(name, depth + nats.depth(name).pending, inFlight + nats.runner.inFlight(name), backend.status(name).readyReplicas),
        ),
    });
  }
  const unsubscribe = backend.onChange((name) => {
    invoker.endpointsChanged(name);
    nats?.runner.endpointsChanged(name);
  });
  // Only a backend that scales on load gets reports; otherwise no timer exists at all.
  const observeLoad = backend.observeLoad?.bind(backend);
  const loadReporter = observeLoad
    ? startLoadReporter({
        // NATS mode: only the workload owner's reports reach a shared backend's scaler, so they
        // carry the shared async backlog (the consumer's pending count) besides this replica's load.
        source: nats
          ? (visit) =>
              invoker.forEachLoad((name, depth, inFlight) =>
                visit(name, depth + nats.depth(name).pending, inFlight + nats.runner.inFlight(name)),
              )
          : (visit) => invoker.forEachLoad(visit),
        observe: observeLoad,
        intervalMs: overrides.loadReportIntervalMs ?? DEFAULT_LOAD_REPORT_INTERVAL_MS,
        onError: (name, err) => logger.warn({ err: String(err), function: name }, 'backend rejected a load report'),
      })
    : undefined;
  const registry = new FunctionRegistry(
    nats ? nats.functionStore : new FileFunctionStore(config.stateDir),
    backend,
    nats ? nats.queues(invoker) : invoker,
    config.defaults,
    logger,
    config.limits,
  );
  registryRef = registry;
  const api = await buildApiApp({
    logger,
    bodyLimitBytes: config.bodyLimitBytes,
    http: config.http,
    apiToken: config.apiToken,
    registry,
    invoker,
    ...(nats ? { asyncInvocations: nats } : {}),
    version: packageVersion(),
  });

  let closing = false;
  let management: Server | undefined;
  const management_ = createManagementServer({
    metrics,
    ready: async () => !closing && management !== undefined && (await backend.healthy()) && (nats ? await nats.ready() : true),
    ...(role ? { readyDetails: () => ({ workloadOwner: role.isOwner() }) } : {}),
    http: config.http,
    closing: () => closing,
  });

  return {
    api,
    invoker,
    dispatcher,
    registry,
    backend,
    metrics,
    logger,
    ...(role ? { workloadOwner: role } : {}),
    async start() {
      const restored = await registry.restore();
      if (restored > 0) logger.info({ functions: restored }, 'restored registered functions');
      await nats?.watchRegistry((change) => registry.applyRemote(change));
      const resumed = (await nats?.resumeDrains()) ?? 0;
      if (resumed > 0) logger.info({ functions: resumed }, 'draining the queues of deleted functions left from before');
      if (nats && owner && role) {
        lease = await owner.startWorkloadOwner(nats.client, role, {
          ttlMs: overrides.workloadLeaseTtlMs ?? owner.DEFAULT_LEASE_TTL_MS,
          logger,
        });
      }
      await api.listen({ host: config.host, port: config.port });
      const apiPort = (api.server.address() as AddressInfo).port;
      await new Promise<void>((resolve, reject) => {
        management_.once('error', reject);
        management_.listen(config.managementPort, config.host, () => resolve());
      });
      management = management_;
      const managementPort = (management_.address() as AddressInfo).port;
      const host = urlHost(config.host);
      return { apiPort, managementPort, apiUrl: `http://${host}:${apiPort}`, managementUrl: `http://${host}:${managementPort}` };
    },
    async close() {
      if (closing) return;
      closing = true;
      loadReporter?.stop();
      // Hand the workload lease over first, so another replica takes it at its next attempt.
      await lease?.stop();
      // Stop accepting first; fastify's close waits for in-flight requests, so drain the queues
      // (bounded by the grace period) alongside it.
      const apiClosed = api.close();
      await Promise.all([invoker.shutdown(config.shutdownGraceMs), nats?.shutdown(config.shutdownGraceMs)]);
      // Every caller has its answer now. Keep-alive sockets that were busy when close() began
      // are idle only from here on, so close them now, and cut any straggler shortly after.
      await new Promise((resolve) => setImmediate(resolve));
      api.server.closeIdleConnections();
      const straggler = setTimeout(() => api.server.closeAllConnections(), 1_000);
      await apiClosed;
      clearTimeout(straggler);
      unsubscribe();
      await backend.close();
      await dispatcher.close();
      const managementClosed = new Promise<void>((resolve) => (management ? management_.close(() => resolve()) : resolve()));
      management_.closeAllConnections();
      await managementClosed;
    },
  };
}
