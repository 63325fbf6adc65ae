import { envValue } from '../../config/env.js';

export interface KubeconfigConfig {
  /** NANOFAAS_KUBE_CONTEXT (the CLI maps --context onto it); undefined = the kubeconfig's current context. */
  context: string | undefined;
  /** NANOFAAS_REGISTRY (--registry): where images are pushed and the cluster pulls from. */
  registry: string | undefined;
  skipBuild: boolean;
  nanofaasUrl: string | undefined;
  promUrl: string | undefined;
  skipGrafana: boolean;
}

/** Values from the CLI's one table of variables (src/config/env.ts), already validated there. */
export function kubeconfigConfig(env: NodeJS.ProcessEnv): KubeconfigConfig {
  return {
    context: envValue(env, 'NANOFAAS_KUBE_CONTEXT'),
    registry: envValue(env, 'NANOFAAS_REGISTRY'),
    skipBuild: envValue(env, 'SKIP_BUILD'),
    nanofaasUrl: envValue(env, 'NANOFAAS_URL'),
    promUrl: envValue(env, 'PROM_URL'),
    skipGrafana: envValue(env, 'SKIP_GRAFANA'),
  };
}
