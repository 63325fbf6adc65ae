import { type Dependency, UBUNTU_DEPENDENCIES } from './dependencies.js';
import { UPSTREAM_K3S_INSTALL } from './k3s.js';

/**
 * What the in-VM provisioning installs and how: the real Ubuntu VM's apt packages and upstream
 * installers, or a Debian container's stand-ins for what cannot be fetched or run there
 * (./debian-stand-ins.ts). The steps and every other script are the same for both.
 */
export interface ProvisionProfile {
  /** e.g. "Ubuntu VM"; shown in the dependency step's plan. */
  name: string;
  dependencies: readonly Dependency[];
  /** The k3s installer line, given INSTALL_K3S_EXEC. */
  k3sInstall: (exec: string) => string;
  /** Each stand-in and what it replaces: printed in the plan (none for the real VM). */
  standIns: readonly { name: string; replaces: string }[];
}

export const UBUNTU_VM: ProvisionProfile = {
  name: 'Ubuntu VM',
  dependencies: UBUNTU_DEPENDENCIES,
  k3sInstall: () => UPSTREAM_K3S_INSTALL,
  standIns: [],
};
