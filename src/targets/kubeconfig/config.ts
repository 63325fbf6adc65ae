import { UsageError } from '../../cli/errors.js';
import { envBool, envString, envUrl } from './env.js';

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

export function kubeconfigConfig(env: NodeJS.ProcessEnv): KubeconfigConfig {
  const context = env.NANOFAAS_KUBE_CONTEXT?.trim() || undefined;
  if (context && /\s/.test(context)) throw new UsageError(`NANOFAAS_KUBE_CONTEXT=${context} contains whitespace`);
  const registry = env.NANOFAAS_REGISTRY?.trim()
    ? envString(env, 'NANOFAAS_REGISTRY', '', /^[a-z0-9.-]+(:\d{1,5})?(\/[a-z0-9._-]+)*$/i, 'a registry such as registry.example.com:5000/team')
    : undefined;
  return {
    context,
    registry,
    skipBuild: envBool(env, 'SKIP_BUILD', false),
    nanofaasUrl: envUrl(env, 'NANOFAAS_URL'),
    promUrl: envUrl(env, 'PROM_URL'),
    skipGrafana: envBool(env, 'SKIP_GRAFANA', false),
  };
}
