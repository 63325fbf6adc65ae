/**
 * The Helm release every cluster target installs, and the kubectl/helm commands that act on it.
 * The environment variables are parsed in src/config/env.ts (one table for the whole CLI).
 */
import type { ClusterAccess } from './access.js';

export const NAMESPACE = 'nanofaas';
export const RELEASE = 'nanofaas';
export const CONTROL_PLANE_DEPLOYMENT = `${RELEASE}-control-plane`;
/** NodePorts of the end-to-end values: API, management (metrics), Prometheus. */
export const NODE_PORTS = { api: 30080, management: 30081, prometheus: 30090 } as const;
const HELM_TIMEOUT = '5m';

/** Where the chart is and where its values file lies, both as seen by the access host. */
export interface ChartInstall {
  chartDir: string;
  valuesFile: string;
}

export function helmUpgradeArgv(access: ClusterAccess, install: ChartInstall): string[] {
  return [
    ...access.helm,
    'upgrade',
    '--install',
    RELEASE,
    install.chartDir,
    '--namespace',
    NAMESPACE,
    '--create-namespace',
    '-f',
    install.valuesFile,
    '--wait',
    '--timeout',
    HELM_TIMEOUT,
  ];
}

export function helmUninstallArgv(access: ClusterAccess): string[] {
  return [...access.helm, 'uninstall', RELEASE, '--namespace', NAMESPACE, '--ignore-not-found'];
}

export function helmStatusArgv(access: ClusterAccess): string[] {
  return [...access.helm, 'status', RELEASE, '--namespace', NAMESPACE];
}

export function rolloutArgv(access: ClusterAccess): string[] {
  return [...access.kubectl, '-n', NAMESPACE, 'rollout', 'status', `deployment/${CONTROL_PLANE_DEPLOYMENT}`, '--timeout=180s'];
}

/** Every pod Ready — except finished hook Jobs, which never are (this waits on events, not a poll). */
export function podsReadyArgv(access: ClusterAccess): string[] {
  return [
    ...access.kubectl,
    '-n',
    NAMESPACE,
    'wait',
    '--for=condition=Ready',
    'pod',
    '--all',
    '--field-selector=status.phase!=Succeeded',
    '--timeout=450s',
  ];
}
