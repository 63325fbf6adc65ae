/**
 * The few in-VM actions that need a shell. Each is fixed text run as `bash -c <script>`; the values
 * it needs arrive as environment variables (`sudo env NAME=value bash -c …`), never spliced in.
 */

export const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';
export const REGISTRIES_YAML = '/etc/rancher/k3s/registries.yaml';
export const VM_PROJECT_DIR = '/home/ubuntu/nanofaas';
export const VM_SYNC_MARKER = `${VM_PROJECT_DIR}/.nanofaas-sync`;
export const VM_TARBALL = '/home/ubuntu/nanofaas-src.tar';
export const VM_VALUES = '/home/ubuntu/nanofaas-values.yaml';
export const REGISTRY_CONTAINER = 'nanofaas-registry';
export const DEPENDENCIES = ['docker', 'java', 'helm', 'node'] as const;

/** Prints the missing dependencies, space-separated (nothing when all are there). JDK must be 21+. */
export const CHECK_DEPS = `
missing=""
command -v docker >/dev/null 2>&1 || missing="$missing docker"
v=$(java -version 2>&1 | sed -n 's/.*version "\\([0-9]*\\).*/\\1/p' | head -n1)
[ -n "$v" ] && [ "$v" -ge 21 ] || missing="$missing java"
command -v helm >/dev/null 2>&1 || missing="$missing helm"
command -v node >/dev/null 2>&1 || missing="$missing node"
echo $missing
`;

/** Installs each name in $MISSING (a subset of DEPENDENCIES). */
export const INSTALL_DEPS = `
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
for dep in $MISSING; do
  echo "installing $dep"
  case "$dep" in
    docker) apt-get install -y -qq docker.io curl && systemctl enable --now docker && usermod -aG docker "\${SUDO_USER:-ubuntu}" ;;
    java)   apt-get install -y -qq openjdk-21-jdk-headless ;;
    helm)   curl -fsSL https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3 | bash ;;
    node)   curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && apt-get install -y -qq nodejs ;;
    *)      echo "unknown dependency: $dep" >&2; exit 2 ;;
  esac
done
`;

/** k3s without Traefik (nanofaas uses NodePorts); INSTALL_K3S_EXEC is read by the installer. */
export const INSTALL_K3S = `
set -euo pipefail
curl -sfL https://get.k3s.io | sh -
`;

/** The node object appears a few seconds after k3s starts; then wait on its Ready condition. */
export const WAIT_NODE_READY = `
set -euo pipefail
timeout 120 bash -c 'until k3s kubectl get nodes -o name 2>/dev/null | grep -q node/; do sleep 2; done'
k3s kubectl wait --for=condition=Ready node --all --timeout=180s
`;

/** k3s pulls LOCAL_REGISTRY images over plain HTTP through this mirror entry. */
export function registriesYaml(registry: string): string {
  return `mirrors:\n  "${registry}":\n    endpoint:\n      - "http://${registry}"\n`;
}
