import { envValue } from '../../config/env.js';

/** The environment variables of the multipass flow, validated once. */
export interface MultipassConfig {
  vmName: string;
  cpus: number;
  memory: string;
  disk: string;
  /** `down` keeps the VM (uninstalls nanofaas only). `up` never deletes the VM. */
  keepVm: boolean;
  skipBuild: boolean;
  /** host:port of the in-VM registry k3s pulls from. */
  localRegistry: string;
  /** Overrides of the VM-IP-derived URLs (e.g. when the VM is behind a port forward). */
  nanofaasUrl: string | undefined;
  promUrl: string | undefined;
  skipGrafana: boolean;
  /** Ubuntu image for `multipass launch`. */
  image: string;
}

/** Values from the CLI's one table of variables (src/config/env.ts), already validated there. */
export function multipassConfig(env: NodeJS.ProcessEnv): MultipassConfig {
  return {
    vmName: envValue(env, 'VM_NAME'),
    cpus: envValue(env, 'CPUS'),
    memory: envValue(env, 'MEMORY'),
    disk: envValue(env, 'DISK'),
    keepVm: envValue(env, 'KEEP_VM'),
    skipBuild: envValue(env, 'SKIP_BUILD'),
    localRegistry: envValue(env, 'LOCAL_REGISTRY'),
    nanofaasUrl: envValue(env, 'NANOFAAS_URL'),
    promUrl: envValue(env, 'PROM_URL'),
    skipGrafana: envValue(env, 'SKIP_GRAFANA'),
    image: envValue(env, 'VM_IMAGE'),
  };
}

export function registryPort(registry: string): string {
  return registry.slice(registry.lastIndexOf(':') + 1);
}
