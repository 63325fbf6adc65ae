import { UsageError } from '../../cli/errors.js';
import { envBool, envString, envUrl } from '../kubeconfig/env.js';

/** The seed's environment variables for the multipass flow, validated once. */
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

const SIZE = /^\d+(\.\d+)?[KMG]?$/i;

export function multipassConfig(env: NodeJS.ProcessEnv): MultipassConfig {
  const cpusRaw = envString(env, 'CPUS', '4', /^\d+$/, 'a whole number of CPUs');
  const cpus = Number(cpusRaw);
  if (cpus < 1 || cpus > 64) throw new UsageError(`CPUS=${cpusRaw} is out of range (1–64)`);
  const localRegistry = envString(env, 'LOCAL_REGISTRY', 'localhost:5000', /^[a-z0-9.-]+:\d{1,5}$/i, 'host:port');
  return {
    vmName: envString(env, 'VM_NAME', 'nanofaas-e2e', /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/, 'a valid Multipass instance name (letters, digits, -)'),
    cpus,
    memory: envString(env, 'MEMORY', '8G', SIZE, 'a size such as 8G'),
    disk: envString(env, 'DISK', '30G', SIZE, 'a size such as 30G'),
    keepVm: envBool(env, 'KEEP_VM', false),
    skipBuild: envBool(env, 'SKIP_BUILD', false),
    localRegistry,
    nanofaasUrl: envUrl(env, 'NANOFAAS_URL'),
    promUrl: envUrl(env, 'PROM_URL'),
    skipGrafana: envBool(env, 'SKIP_GRAFANA', false),
    image: envString(env, 'VM_IMAGE', '24.04', /^[\w.:-]+$/, 'a Multipass image name'),
  };
}

export function registryPort(registry: string): string {
  return registry.slice(registry.lastIndexOf(':') + 1);
}
