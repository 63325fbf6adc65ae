import { createHash } from 'node:crypto';

/** Labels every container of a deployment carries; the control plane's docker backend sets the same on functions. */
export const OWNER_LABEL = 'dev.nanofaas.owner';
export const COMPONENT_LABEL = 'dev.nanofaas.component';
/** On the control plane's container: what it was started with, so a warm `up` can tell whether to keep it. */
export const CONFIG_LABEL = 'dev.nanofaas.config';
export const API_PORT_LABEL = 'dev.nanofaas.api-port';
export const MANAGEMENT_PORT_LABEL = 'dev.nanofaas.management-port';

/**
 * The deployment's owner id: the first 10 hex digits of the state directory's sha256. Stable for
 * a state directory, different for two of them, and valid in container names and label values.
 */
export function ownerId(statePath: string): string {
  return createHash('sha256').update(statePath).digest('hex').slice(0, 10);
}

export function controlPlaneName(owner: string): string {
  return `nanofaas-${owner}-control-plane`;
}

/**
 * The control plane's state (its function registry) lives in this named volume, so a control
 * plane the engine restarts after a crash finds its functions again and provisions them.
 */
export function stateVolumeName(owner: string): string {
  return `nanofaas-${owner}-state`;
}

/** Where the image keeps the control plane's state (control-plane/Dockerfile's NANOFAAS_STATE_DIR). */
export const STATE_IN_CONTAINER = '/var/lib/nanofaas';

/** `--filter` value selecting every container of this owner (control plane and functions). */
export function ownerFilter(owner: string): string {
  return `label=${OWNER_LABEL}=${owner}`;
}
