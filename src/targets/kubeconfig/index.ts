import { apiToken } from '../../config/env.js';
import type { Step } from '../../pipeline/step.js';
import { loadCatalog } from '../../util/catalog.js';
import { authHeader } from '../cluster/api.js';
import { apiTokenSource } from '../cluster/api-token.js';
import { clusterDoctorChecks, missingToolChecks } from '../cluster/doctor.js';
import { kubeConfigFromEnv, kubernetesLogs } from '../cluster/logs.js';
import { probe } from '../cluster/probe.js';
import { helmStatusArgv, NAMESPACE, RELEASE } from '../cluster/release.js';
import { clusterUpInput } from '../cluster/up-input.js';
import { envRunner } from '../host/env-runner.js';
import { formatArgv } from '../host/host.js';
import type { DoctorCheck, DownContext, DownOptions, Endpoints, Target, TargetEnv, TargetStatus, UpContext, UpOptions } from '../target.js';
import { clusterAccess } from './access.js';
import { kubeconfigConfig } from './config.js';
import { kubeconfigDownSteps } from './down-steps.js';
import { kubeconfigUpSteps, requireRegistry } from './up-steps.js';

/** `--target kubeconfig`: an existing cluster (KUBECONFIG, NANOFAAS_KUBE_CONTEXT); no VM, no k3s. */
export function createTarget(env: TargetEnv): Target {
  const cfg = kubeconfigConfig(env.env);
  const run = envRunner(env.env);
  const access = clusterAccess(cfg, run);
  const token = apiTokenSource(access.host, access.kubectl, () => apiToken(env.env));
  const workDir = env.state.file('kubeconfig');
  const fixedEndpoints = (): Endpoints | undefined =>
    cfg.nanofaasUrl
      ? { apiUrl: cfg.nanofaasUrl, managementUrl: cfg.nanofaasUrl, ...(cfg.promUrl ? { prometheusUrl: cfg.promUrl } : {}) }
      : undefined;

  return {
    name: 'kubeconfig',
    describe: () => `existing Kubernetes cluster (${cfg.context ? `context ${cfg.context}` : 'current kubeconfig context'})`,

    upSteps(options: UpOptions): Step<UpContext>[] {
      const skipBuild = options.skipBuild || cfg.skipBuild;
      requireRegistry(cfg, skipBuild);
      return kubeconfigUpSteps({ ...clusterUpInput(env, options, { workDir, skipBuild, run }), cfg, env: env.env });
    },

    downSteps(options: DownOptions): Step<DownContext>[] {
      return kubeconfigDownSteps({
        access,
        rootDir: env.rootDir,
        env: env.env,
        state: env.state,
        keepNamespace: options.keepInfrastructure ?? false,
      });
    },

    async statusOf(): Promise<TargetStatus> {
      const release = await access.host.exec(helmStatusArgv(access), { timeoutMs: 30_000 });
      const status = /STATUS:\s*(\S+)/.exec(release.stdout)?.[1];
      const components: TargetStatus['components'] = [
        {
          name: `helm release ${RELEASE}`,
          state: release.exitCode !== 0 ? 'stopped' : status === 'deployed' ? 'running' : 'unhealthy',
          detail: release.exitCode !== 0 ? (release.stderr.trim().split('\n')[0] ?? 'not installed') : `status ${status ?? '?'}`,
        },
      ];
      const endpoints = fixedEndpoints();
      if (endpoints) {
        // Without the token the API answers 401, which would read as unhealthy.
        const headers = authHeader(await token().catch(() => undefined));
        components.push(await probe('control-plane', `${endpoints.apiUrl}/v1/functions`, headers));
      }
      return { components, ...(endpoints ? { endpoints } : {}) };
    },

    endpoints: async () => fixedEndpoints(),

    apiToken: token,

    logs: async (fn, options) => kubernetesLogs(kubeConfigFromEnv(env.env, cfg.context), fn, options),

    doctorChecks(): DoctorCheck[] {
      const noKubectl = missingToolChecks(
        'kubectl',
        env.env,
        `install kubectl (https://kubernetes.io/docs/tasks/tools/) and point KUBECONFIG or --context at the cluster, then ${env.suggest('doctor')}`,
      );
      if (noKubectl) return noKubectl;
      return clusterDoctorChecks({
        suggest: env.suggest,
        // A cluster that does not answer fails every check alike: each says how to reach it instead.
        precondition: async () => {
          const info = await access.host.exec([...access.kubectl, 'cluster-info'], { timeoutMs: 30_000 });
          if (info.exitCode === 0) return undefined;
          return {
            status: 'fail',
            detail: `not checked: the cluster does not answer (${(info.stderr.trim().split('\n').at(-1) ?? '').slice(0, 160) || `kubectl exited ${info.exitCode}`})`,
            fix: `${formatArgv([...access.kubectl, 'config', 'get-contexts'])}: pick the context with --context or NANOFAAS_KUBE_CONTEXT, or fix KUBECONFIG`,
          };
        },
        access,
        functions: loadCatalog(env.rootDir).functions,
        apiUrl: async () => cfg.nanofaasUrl,
        apiToken: token,
        imagePullFix: `${formatArgv([...access.kubectl, '-n', NAMESPACE, 'describe', 'pods'])} — check the image names and that ${cfg.registry ?? 'the registry'} is reachable from the nodes (NANOFAAS_REGISTRY, imagePullSecrets)`,
      });
    },
  };
}
