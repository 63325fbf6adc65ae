import { StepFailure } from '../../pipeline/step.js';
import { formatArgv, type Host } from '../host/host.js';
import type { Runner } from '../host/run-local.js';
import type { ClusterAccess } from '../cluster/access.js';
import type { ClusterUpInput } from '../cluster/up-input.js';
import type { MultipassConfig } from './config.js';
import { vmKubeconfigPath } from './logs.js';
import { MultipassHost } from './multipass-host.js';
import type { ProjectArchive } from './project-sync.js';
import { type ProvisionProfile, UBUNTU_VM } from './provision/profile.js';
import { infoArgv, vmInfo, type VmInfo } from './vm.js';
import { K3S_KUBECONFIG } from './vm-scripts.js';

/** `workDir` is <state>/multipass (kubeconfig, values, project tarball); `run` runs multipass itself, git, tar, ps. */
export interface MultipassUpInput extends ClusterUpInput {
  cfg: MultipassConfig;
  /** NANOFAAS_API_TOKEN(_FILE), when the environment gives the token instead of the chart's Secret. */
  apiToken?: () => string | undefined;
}

/** kubectl/helm inside the VM: root, against k3s's own kubeconfig. */
export const VM_KUBECTL = ['sudo', 'k3s', 'kubectl'] as const;
export const VM_HELM = ['sudo', 'env', `KUBECONFIG=${K3S_KUBECONFIG}`, 'helm'] as const;

/** The cluster inside the VM, as the shared cluster layer reaches it. */
export function vmAccess(vm: Host): ClusterAccess {
  return { host: vm, kubectl: VM_KUBECTL, helm: VM_HELM };
}

/** What the multipass up steps share: config, the VM host, argv helpers, state learned on the way. */
export interface UpKit {
  input: MultipassUpInput;
  cfg: MultipassConfig;
  run: Runner;
  /** The VM (a MultipassHost), or what stands in for it (a DockerExecHost in the container test). */
  vm: Host;
  /** What the in-VM provisioning installs and how (the Ubuntu VM's, unless a stand-in profile). */
  profile: ProvisionProfile;
  /** Learned while the pipeline runs: the VM's address, the project archive. */
  live: { ip?: string; archive?: ProjectArchive };
  kubeconfigPath: string;
  /** Display form of an in-VM command (what `--dry-run` prints). */
  show(argv: readonly string[], env?: Record<string, string>): string;
  vmIp(): string;
  refreshIp(): Promise<VmInfo>;
}

/** `machine`: another Host and profile for the in-VM steps (default: the Multipass VM, Ubuntu). */
export function createKit(input: MultipassUpInput, machine: { host?: Host; profile?: ProvisionProfile } = {}): UpKit {
  const { cfg, run } = input;
  const vm = machine.host ?? new MultipassHost(cfg.vmName, run);
  const live: UpKit['live'] = {};
  return {
    input,
    cfg,
    run,
    vm,
    profile: machine.profile ?? UBUNTU_VM,
    live,
    kubeconfigPath: vmKubeconfigPath(input.workDir, cfg.vmName),
    show: (argv, env) => formatArgv(vm.commandFor(argv, env ? { env } : {})),
    vmIp: () => {
      if (!live.ip) throw new StepFailure(`the IP of VM ${cfg.vmName} is not known`, { command: formatArgv(infoArgv(cfg.vmName)) });
      return live.ip;
    },
    refreshIp: async () => {
      const info = await vmInfo(run, cfg.vmName);
      live.ip = info.ipv4[0] ?? live.ip;
      return info;
    },
  };
}
