// The environment variables are parsed in src/config/env.ts (one table for the whole CLI).

export const NAMESPACE = 'nanofaas';
export const RELEASE = 'nanofaas';
/** NodePorts of the end-to-end values: API, management (metrics), Prometheus. */
export const NODE_PORTS = { api: 30080, management: 30081, prometheus: 30090 } as const;
