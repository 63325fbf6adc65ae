import { type HostScript, script, sh } from './script.js';

/** The Java runtime image is built with JDK 21 features. */
const JDK_MIN = 21;
/** `openjdk version "21.0.2" …` → 21 (also `"1.8.0_402"` → 1, too old). */
const JAVA_MAJOR = 's/.*version "\\([0-9]*\\).*/\\1/p';
const HELM_INSTALLER = 'https://raw.githubusercontent.com/helm/helm/main/scripts/get-helm-3';
const NODESOURCE_SETUP = 'https://deb.nodesource.com/setup_20.x';

export interface Dependency {
  name: string;
  /** A shell function body that succeeds when the dependency is usable. */
  present: string;
  /** Root commands that install it (apt lists already updated). */
  install: string[];
}

/** What the VM (Ubuntu 24.04) needs, installed from apt and the upstream installers. */
export const UBUNTU_DEPENDENCIES: readonly Dependency[] = [
  {
    name: 'docker',
    present: sh`command -v docker >/dev/null 2>&1`,
    install: [
      sh`apt-get install -y -qq ${['docker.io', 'curl']}`,
      sh`systemctl enable --now docker`,
      // The login user runs docker without sudo afterwards.
      sh`usermod -aG docker "\${SUDO_USER:-ubuntu}"`,
    ],
  },
  {
    name: 'java',
    // The substitution's status is not the test's: a missing java prints nothing, and "" -ge fails.
    present: sh`[ "$(java -version 2>&1 | sed -n ${JAVA_MAJOR} | head -n1)" -ge ${JDK_MIN} ] 2>/dev/null`,
    install: [sh`apt-get install -y -qq ${`openjdk-${JDK_MIN}-jdk-headless`}`],
  },
  {
    name: 'helm',
    present: sh`command -v helm >/dev/null 2>&1`,
    install: [sh`curl -fsSL ${HELM_INSTALLER} | bash`],
  },
  {
    name: 'node',
    present: sh`command -v node >/dev/null 2>&1`,
    install: [sh`curl -fsSL ${NODESOURCE_SETUP} | bash -`, sh`apt-get install -y -qq nodejs`],
  },
];

export const DEPENDENCY_NAMES = UBUNTU_DEPENDENCIES.map((d) => d.name);

/** A shell function name (names are lower-case words); code fragments join as code, values go through `sh`. */
const has = (d: Dependency) => `has_${d.name}`;

/** One `has_<name>` function per dependency, then `$missing`: the names that are not there. */
const findMissing = (deps: readonly Dependency[]) => [
  ...deps.map((d) => `${has(d)}() { ${d.present}; }`),
  sh`missing=""`,
  ...deps.map((d) => sh`${has(d)} || missing+=${` ${d.name}`}`),
];

/** Prints the missing dependencies, space-separated (nothing when all are there). */
export function checkDependencies(deps: readonly Dependency[] = UBUNTU_DEPENDENCIES): HostScript {
  return script('the dependency check', false, [...findMissing(deps), 'echo $missing']);
}

/**
 * Installs each missing dependency, checking each again in the VM, so this one script is the
 * whole step (a plan shows exactly it) and a second run installs nothing.
 */
export function installDependencies(deps: readonly Dependency[] = UBUNTU_DEPENDENCIES): HostScript {
  return script('the dependency install', true, [
    sh`export DEBIAN_FRONTEND=noninteractive`,
    ...findMissing(deps),
    sh`if [ -z "$missing" ]; then echo all installed; exit 0; fi`,
    sh`apt-get update -qq`,
    ...deps.flatMap((d) => [`if ! ${has(d)}; then`, sh`  echo installing ${d.name}`, ...d.install.map((c) => `  ${c}`), 'fi']),
  ]);
}
