import { KubeConfig } from '@kubernetes/client-node';
import type { FunctionSpec } from '../../control-plane/src/contracts/index.js';
import type { BackendLogger } from '../../control-plane/src/workloads/backend.js';
import type { createKubernetesBackend } from '../../control-plane/src/workloads/kubernetes/index.js';

export const NAMESPACE = 'nanofaas-test';
export const TOKEN = 'fake-token-for-tests';

/**
 * A kubeconfig pointing the real client at the fake API server. client-node refuses plain http
 * unless skipTLSVerify is set, so the http fake needs it; the TLS test uses the in-cluster loader.
 */
export function kubeConfigFor(server: string, token = TOKEN): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: server.startsWith('http:') }],
    users: [{ name: 'tester', token }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: NAMESPACE }],
    currentContext: 'fake',
  });
  return kc;
}

export function spec(overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    name: 'word-stats-node',
    image: 'localhost:5000/nanofaas/word-stats-node:0.1.0',
    timeoutMs: 30000,
    concurrency: 4,
    queueSize: 100,
    maxRetries: 3,
    runtimeMode: 'HTTP',
    executionMode: 'DEPLOYMENT',
    replicas: 1,
    ...overrides,
  };
}

/** Collects warnings so a test can assert the backend said why it fell back. */
export function recordingLogger(): BackendLogger & { warnings: string[] } {
  const warnings: string[] = [];
  const msg = (obj: object | string, m?: string): string => m ?? (typeof obj === 'string' ? obj : JSON.stringify(obj));
  return {
    warnings,
    debug() {},
    info() {},
    warn(obj, m) {
      warnings.push(msg(obj, m));
    },
    error(obj, m) {
      warnings.push(msg(obj, m));
    },
  };
}

/** Resolves when `check` passes, re-trying on a short timer (test-side only). */
export async function eventually(check: () => void | Promise<void>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** Options for a backend against the fake API server at `apiUrl`, polling fast so tests stay short. */
export function backendOptions(apiUrl: string): Parameters<typeof createKubernetesBackend>[0] {
  return {
    namespace: NAMESPACE,
    rootDir: '/nonexistent',
    stateDir: '/nonexistent',
    logger: recordingLogger(),
    kubeConfig: kubeConfigFor(apiUrl),
    pollIntervalMs: 50,
    deleteTimeoutMs: 2000,
  };
}
