/**
 * Where things live in the VM, and the content of the files nanofaas writes there. The scripts
 * that act on them are built with zx in `./provision/`.
 */

export const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';
export const REGISTRIES_YAML = '/etc/rancher/k3s/registries.yaml';
export const VM_PROJECT_DIR = '/home/ubuntu/nanofaas';
export const VM_SYNC_MARKER = `${VM_PROJECT_DIR}/.nanofaas-sync`;
export const VM_TARBALL = '/home/ubuntu/nanofaas-src.tar';
export const VM_VALUES = '/home/ubuntu/nanofaas-values.yaml';
export const REGISTRY_CONTAINER = 'nanofaas-registry';

/** k3s pulls LOCAL_REGISTRY images over plain HTTP through this mirror entry (a JSON string is a YAML string). */
export function registriesYaml(registry: string): string {
  const name = JSON.stringify(registry);
  const endpoint = JSON.stringify(`http://${registry}`);
  return `mirrors:\n  ${name}:\n    endpoint:\n      - ${endpoint}\n`;
}
