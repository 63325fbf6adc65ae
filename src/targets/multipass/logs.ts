/** `logs` on the multipass target: the pods in the VM's k3s, through the kubeconfig `up` exported. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kubeConfigFromFiles, kubernetesLogs } from '../cluster/logs.js';
import type { LogsOptions } from '../target.js';

/** Where the vm steps write k3s's kubeconfig, with the VM's address as its server (kit.ts). */
export function vmKubeconfigPath(workDir: string, vmName: string): string {
  return join(workDir, `kubeconfig-${vmName}.yaml`);
}

export async function multipassLogs(
  workDir: string,
  vmName: string,
  suggest: (command: string) => string,
  fn: string,
  options: LogsOptions,
): Promise<{ source: string }> {
  const file = vmKubeconfigPath(workDir, vmName);
  if (!existsSync(file)) throw new Error(`no kubeconfig for VM ${vmName} at ${file}: \`${suggest('up')}\` writes it`);
  return kubernetesLogs(kubeConfigFromFiles([file]), fn, options);
}
