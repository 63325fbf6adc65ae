import { join } from 'node:path';
import type { Step } from '../../pipeline/step.js';
import { apiTokenSource } from '../cluster/api-token.js';
import { deploySteps } from '../cluster/deploy-steps.js';
import { NAMESPACE, NODE_PORTS } from '../cluster/release.js';
import type { Endpoints, UpContext } from '../target.js';
import { checkMultipassStep } from './check-step.js';
import type { MultipassConfig } from './config.js';
import { imageSteps } from './image-steps.js';
import { VM_HELM, VM_KUBECTL, createKit, type MultipassUpInput, vmAccess } from './kit.js';
import { vmSteps } from './vm-steps.js';
import { VM_PROJECT_DIR, VM_VALUES } from './vm-scripts.js';

export { VM_HELM, VM_KUBECTL, type MultipassUpInput };

/** The end-to-end setup, in order: check → VM → k3s → project + images → Helm → verify → banner. */
export function multipassUpSteps(input: MultipassUpInput): Step<UpContext>[] {
  const kit = createKit(input);
  const { cfg, run, vm, live, kubeconfigPath, vmIp, refreshIp } = kit;
  return [
    checkMultipassStep(run, cfg.vmName),
    ...vmSteps(kit),
    ...imageSteps(kit),
    ...deploySteps({
      input,
      access: vmAccess(vm),
      chartDir: `${VM_PROJECT_DIR}/helm/nanofaas`,
      valuesFile: { local: join(input.workDir, 'values-e2e.yaml'), remote: VM_VALUES },
      images: { registry: cfg.localRegistry, pullPolicy: 'Always' },
      connectPlan: [
        `API http://<vm-ip>:${NODE_PORTS.api}, Prometheus http://<vm-ip>:${NODE_PORTS.prometheus} (NANOFAAS_URL / PROM_URL override)`,
      ],
      connect: async () => {
        if (!live.ip) await refreshIp();
        return { endpoints: vmEndpoints(cfg, vmIp()), close: async () => {} };
      },
      apiToken: apiTokenSource(vm, VM_KUBECTL, input.apiToken ?? (() => undefined)),
    }),
    {
      title: 'Endpoints',
      plan: () => ['print the endpoints banner with the VM IP'],
      run: (ctx) => {
        const ip = vmIp();
        ctx.endpoints ??= vmEndpoints(cfg, ip);
        ctx.notes.push(
          `VM: ${cfg.vmName} (${ip})`,
          `kubeconfig: ${kubeconfigPath}  (kubectl --kubeconfig ${kubeconfigPath} -n ${NAMESPACE} get pods)`,
          `Shell: multipass shell ${cfg.vmName}`,
        );
      },
    },
  ];
}

/** The NodePorts at the VM's address, unless NANOFAAS_URL / PROM_URL say otherwise. */
export function vmEndpoints(cfg: Pick<MultipassConfig, 'nanofaasUrl' | 'promUrl'>, ip: string): Endpoints {
  return {
    apiUrl: cfg.nanofaasUrl ?? `http://${ip}:${NODE_PORTS.api}`,
    managementUrl: `http://${ip}:${NODE_PORTS.management}`,
    prometheusUrl: cfg.promUrl ?? `http://${ip}:${NODE_PORTS.prometheus}`,
  };
}
