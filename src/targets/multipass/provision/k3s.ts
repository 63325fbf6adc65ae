import { type HostScript, script, sh } from './script.js';

const K3S_INSTALLER = 'https://get.k3s.io';
/** nanofaas is reached over NodePorts; Traefik would only hold ports 80 and 443. */
const K3S_EXEC = '--disable traefik';
/** The node object appears a few seconds after k3s starts; its Ready condition comes later. */
const NODE_APPEARS_S = 120;
const NODE_READY_S = 180;

/** Succeeds when k3s is installed and its service active. */
export function k3sActive(): HostScript {
  return script('the k3s check', false, [sh`command -v k3s >/dev/null && systemctl is-active --quiet k3s`]);
}

/** The upstream installer, told to leave Traefik out (INSTALL_K3S_EXEC is read by the installer). */
export const UPSTREAM_K3S_INSTALL = sh`curl -sfL ${K3S_INSTALLER} | INSTALL_K3S_EXEC=${K3S_EXEC} sh -`;

/** `install`: the installer line, given INSTALL_K3S_EXEC the same way (a stand-in replaces the upstream one). */
export function installK3s(install: (exec: string) => string = () => UPSTREAM_K3S_INSTALL): HostScript {
  return script('the k3s installer', true, [install(K3S_EXEC)]);
}

/** Lines that wait for the node object, then for its Ready condition (shared with the mirror restart). */
export function waitNodeReadyLines(): string[] {
  return [
    sh`deadline=$((SECONDS + ${NODE_APPEARS_S}))`,
    // grep reads all of kubectl's output, so pipefail never sees kubectl killed by SIGPIPE.
    sh`until k3s kubectl get nodes -o name 2>/dev/null | grep node/ >/dev/null; do`,
    sh`  if [ "$SECONDS" -ge "$deadline" ]; then echo k3s registered no node within ${NODE_APPEARS_S} s >&2; exit 124; fi`,
    sh`  sleep 2`,
    sh`done`,
    sh`k3s kubectl wait --for=condition=Ready node --all ${`--timeout=${NODE_READY_S}s`}`,
  ];
}

/** Succeeds when the node is Ready now (a short wait): the node step's skip check. */
export function nodeReadyNow(): HostScript {
  return script('the k3s node check', true, [sh`k3s kubectl wait --for=condition=Ready node --all --timeout=10s`]);
}

export function waitNodeReady(): HostScript {
  return script('the k3s node wait', true, waitNodeReadyLines());
}
