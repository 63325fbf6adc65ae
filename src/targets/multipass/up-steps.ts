import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StepFailure, type Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import type { Runner } from '../host/run-local.js';
import { hostExec } from '../host/step-exec.js';
import type { CatalogFunction } from '../kubeconfig/catalog.js';
import { deploySteps, type RunMode } from '../kubeconfig/cluster.js';
import { NAMESPACE, NODE_PORTS } from '../kubeconfig/env.js';
import { helmValues } from '../kubeconfig/helm-values.js';
import { assertDockerfiles, controlPlaneImage, dockerBuildArgv, imageBuilds, inRegistry } from '../kubeconfig/images.js';
import type { UpContext } from '../target.js';
import type { MultipassConfig } from './config.js';
import { registryPort } from './config.js';
import { MultipassHost } from './multipass-host.js';
import { archiveProject, type ProjectArchive } from './project-sync.js';
import { checkMultipassStep } from './check-step.js';
import { infoArgv, launchArgv, vmInfo } from './vm.js';
import {
  CHECK_DEPS, DEPENDENCIES, INSTALL_DEPS, INSTALL_K3S, K3S_KUBECONFIG, REGISTRIES_YAML, REGISTRY_CONTAINER,
  VM_PROJECT_DIR, VM_SYNC_MARKER, VM_TARBALL, VM_VALUES, WAIT_NODE_READY, registriesYaml,
} from './vm-scripts.js';

export interface MultipassUpInput {
  cfg: MultipassConfig;
  rootDir: string;
  /** <state>/multipass: kubeconfig, values, project tarball. */
  workDir: string;
  functions: readonly CatalogFunction[];
  skipBuild: boolean;
  /** Local commands (multipass itself, git, tar, ps). */
  run: Runner;
}

/** kubectl/helm inside the VM: root, against k3s's own kubeconfig. */
export const VM_KUBECTL = ['sudo', 'k3s', 'kubectl'] as const;
export const VM_HELM = ['sudo', 'env', `KUBECONFIG=${K3S_KUBECONFIG}`, 'helm'] as const;

/** State learned while the pipeline runs (the VM's address), shared by later steps. */
interface Live {
  ip?: string;
  archive?: ProjectArchive;
}

export function multipassUpSteps(input: MultipassUpInput, mode: RunMode): Step<UpContext>[] {
  const { cfg, run } = input;
  const vm = new MultipassHost(cfg.vmName, run);
  const live: Live = {};
  const show = (argv: readonly string[], env?: Record<string, string>) => formatArgv(vm.commandFor(argv, env ? { env } : {}));
  const bash = (script: string) => ['bash', '-c', script];
  const sudoBash = (script: string, env: Record<string, string> = {}) => {
    const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return ['sudo', ...(vars.length ? ['env', ...vars] : []), 'bash', '-c', script];
  };
  const registry = cfg.localRegistry;
  const builds = imageBuilds(input.rootDir, input.functions);
  const tags = builds.map((b) => inRegistry(registry, b.image));
  const desiredMirror = registriesYaml(registry);
  const kubeconfigPath = join(input.workDir, `kubeconfig-${cfg.vmName}.yaml`);
  const vmIp = () => {
    if (!live.ip) throw new StepFailure(`the IP of VM ${cfg.vmName} is not known`, { command: formatArgv(infoArgv(cfg.vmName)) });
    return live.ip;
  };
  const refreshIp = async () => {
    const info = await vmInfo(run, cfg.vmName);
    live.ip = info.ipv4[0] ?? live.ip;
    return info;
  };

  const steps: Step<UpContext>[] = [
    checkMultipassStep(run, cfg.vmName, mode),
    {
      title: `VM ${cfg.vmName} (${cfg.cpus} CPU, ${cfg.memory} memory, ${cfg.disk} disk)`,
      skip: async () => {
        if (mode.dryRun) return false;
        const info = await refreshIp();
        return info.state === 'Running' ? `already running at ${info.ipv4[0] ?? '?'} (reused)` : false;
      },
      plan: () => [
        formatArgv(infoArgv(cfg.vmName)),
        `${formatArgv(launchArgv(cfg))}  (if absent)`,
        `multipass start ${cfg.vmName}  (if stopped)`,
      ],
      run: async (_ctx, io) => {
        const info = await vmInfo(run, cfg.vmName);
        const local = hostExec(new LocalHost(run), io);
        if (info.state === 'absent') {
          io.log(`creating VM ${cfg.vmName}`);
          await local(launchArgv(cfg), { timeoutMs: 960_000, hint: 'multipass launch failed: check `multipass list` and free disk space' });
        } else if (info.state === 'Deleted') {
          await local(['multipass', 'recover', cfg.vmName]);
          await local(['multipass', 'start', cfg.vmName], { timeoutMs: 600_000 });
        } else if (info.state !== 'Running') {
          io.log(`VM is ${info.state}: starting it`);
          await local(['multipass', 'start', cfg.vmName], { timeoutMs: 600_000 });
        }
        const after = await refreshIp();
        if (after.state !== 'Running' || !live.ip) {
          throw new StepFailure(`VM ${cfg.vmName} is ${after.state} with no IPv4 address`, { command: formatArgv(infoArgv(cfg.vmName)) });
        }
        io.log(`VM ${cfg.vmName} running at ${live.ip}`);
      },
    },
    {
      title: 'Dependencies in the VM (Docker, JDK 21, Helm, Node)',
      skip: async () => {
        if (mode.dryRun) return false;
        const missing = (await vm.exec(bash(CHECK_DEPS), { timeoutMs: 60_000 })).stdout.trim();
        return missing === '' ? 'all installed' : false;
      },
      plan: () => [show(bash('<check: docker, java ≥ 21, helm, node>')), show(sudoBash('<install the missing ones>', { MISSING: '<missing>' }))],
      run: async (_ctx, io) => {
        const exec = hostExec(vm, io);
        const missing = (await exec(bash(CHECK_DEPS), { timeoutMs: 60_000 })).stdout.trim().split(/\s+/).filter(Boolean);
        const unknown = missing.filter((d) => !(DEPENDENCIES as readonly string[]).includes(d));
        if (unknown.length) throw new StepFailure(`dependency check printed unexpected names: ${unknown.join(' ')}`);
        io.log(`installing: ${missing.join(', ')}`);
        await exec(sudoBash(INSTALL_DEPS, { MISSING: missing.join(' ') }), { hint: 'the VM needs internet access for apt and the installers' });
      },
    },
    {
      title: 'k3s (Traefik disabled)',
      skip: async () => {
        if (mode.dryRun) return false;
        const installed = await vm.exec(['sh', '-c', 'command -v k3s && systemctl is-active --quiet k3s'], { timeoutMs: 30_000 });
        return installed.exitCode === 0 ? 'installed and active' : false;
      },
      plan: () => [show(sudoBash('curl -sfL https://get.k3s.io | sh -', { INSTALL_K3S_EXEC: '--disable traefik' }))],
      run: async (_ctx, io) => {
        await hostExec(vm, io)(sudoBash(INSTALL_K3S, { INSTALL_K3S_EXEC: '--disable traefik' }), { hint: 'see `multipass exec <vm> -- sudo journalctl -u k3s --no-pager -n 50`' });
      },
    },
    {
      title: 'k3s node Ready; kubeconfig exported',
      hint: `k3s may still be starting or failing: multipass exec ${cfg.vmName} -- sudo journalctl -u k3s --no-pager -n 50`,
      plan: () => [show(sudoBash('<wait for node Ready>')), `${show(['sudo', 'cat', K3S_KUBECONFIG])}  → ${kubeconfigPath} (server: https://<vm-ip>:6443)`],
      run: async (_ctx, io) => {
        const exec = hostExec(vm, io);
        await exec(sudoBash(WAIT_NODE_READY), { timeoutMs: 330_000 });
        const raw = (await exec(['sudo', 'cat', K3S_KUBECONFIG], { quiet: true, timeoutMs: 30_000 })).stdout;
        mkdirSync(input.workDir, { recursive: true });
        writeFileSync(kubeconfigPath, raw.replace(/server: https:\/\/(127\.0\.0\.1|localhost):6443/g, `server: https://${vmIp()}:6443`), { mode: 0o600 });
        chmodSync(kubeconfigPath, 0o600);
        io.log(`kubeconfig → ${kubeconfigPath}`);
      },
    },
    {
      title: `Project synced into the VM (${VM_PROJECT_DIR})`,
      skip: async () => {
        if (mode.dryRun) return false;
        live.archive = await archiveProject(run, input.rootDir, input.workDir);
        const marker = await vm.exec(['cat', VM_SYNC_MARKER], { timeoutMs: 30_000 });
        return marker.exitCode === 0 && marker.stdout.trim() === live.archive.sha256 ? `unchanged since the last sync (${live.archive.files} files)` : false;
      },
      plan: () => [
        `git -C ${input.rootDir} ls-files -z --cached --others --exclude-standard | tar -cf ${join(input.workDir, 'project.tar')} -T -`,
        formatArgv(vm.copyCommandFor(join(input.workDir, 'project.tar'), VM_TARBALL)),
        show(['rm', '-rf', VM_PROJECT_DIR]),
        show(['mkdir', '-p', VM_PROJECT_DIR]),
        show(['tar', '-xf', VM_TARBALL, '-C', VM_PROJECT_DIR]),
        show(['tee', VM_SYNC_MARKER]),
      ],
      run: async (_ctx, io) => {
        const archive = live.archive ?? (await archiveProject(run, input.rootDir, input.workDir));
        const exec = hostExec(vm, io);
        io.log(`${archive.files} files, sha256 ${archive.sha256.slice(0, 12)}`);
        io.target(formatArgv(vm.copyCommandFor(archive.path, VM_TARBALL)));
        await vm.copy(archive.path, VM_TARBALL);
        await exec(['rm', '-rf', VM_PROJECT_DIR]);
        await exec(['mkdir', '-p', VM_PROJECT_DIR]);
        await exec(['tar', '-xf', VM_TARBALL, '-C', VM_PROJECT_DIR]);
        await exec(['tee', VM_SYNC_MARKER], { input: archive.sha256 + '\n' });
      },
    },
    {
      title: `Local registry ${registry} (registry:2)`,
      skip: async () => {
        if (mode.dryRun) return false;
        const health = await vm.exec(['curl', '-fsS', `http://${registry}/v2/`], { timeoutMs: 30_000 });
        return health.exitCode === 0 ? 'healthy (kept)' : false;
      },
      plan: () => [
        show(['curl', '-fsS', `http://${registry}/v2/`]),
        show(['sudo', 'docker', 'rm', '-f', REGISTRY_CONTAINER]),
        show(['sudo', 'docker', 'run', '-d', '--restart=always', '--name', REGISTRY_CONTAINER, '-p', `${registryPort(registry)}:5000`, 'registry:2']),
      ],
      run: async (_ctx, io) => {
        const exec = hostExec(vm, io);
        await exec(['sudo', 'docker', 'rm', '-f', REGISTRY_CONTAINER], { allowFailure: true });
        await exec(['sudo', 'docker', 'run', '-d', '--restart=always', '--name', REGISTRY_CONTAINER, '-p', `${registryPort(registry)}:5000`, 'registry:2']);
      },
    },
    {
      title: `k3s registry mirror (${REGISTRIES_YAML})`,
      skip: async () => {
        if (mode.dryRun) return false;
        const current = await vm.exec(['sudo', 'cat', REGISTRIES_YAML], { timeoutMs: 30_000 });
        return current.exitCode === 0 && current.stdout === desiredMirror ? 'unchanged (k3s not restarted)' : false;
      },
      plan: () => [
        show(['sudo', 'cat', REGISTRIES_YAML]),
        `${show(['sudo', 'tee', REGISTRIES_YAML])}  (only when the content changed)`,
        show(['sudo', 'systemctl', 'restart', 'k3s']),
        show(sudoBash('<wait for node Ready>')),
      ],
      run: async (_ctx, io) => {
        const exec = hostExec(vm, io);
        await exec(['sudo', 'mkdir', '-p', '/etc/rancher/k3s']);
        await exec(['sudo', 'tee', REGISTRIES_YAML], { input: desiredMirror });
        await exec(['sudo', 'systemctl', 'restart', 'k3s'], { timeoutMs: 120_000 });
        await exec(sudoBash(WAIT_NODE_READY), { timeoutMs: 330_000 });
      },
    },
    {
      title: `Build ${builds.length} images in the VM`,
      skip: () => (input.skipBuild ? 'SKIP_BUILD=true' : false),
      plan: () => builds.map((b, i) => show(dockerBuildArgv(b, tags[i]!, VM_PROJECT_DIR, ['sudo', 'docker']))),
      run: async (_ctx, io) => {
        assertDockerfiles(input.rootDir, builds);
        const exec = hostExec(vm, io);
        for (const [i, b] of builds.entries()) {
          await exec(dockerBuildArgv(b, tags[i]!, VM_PROJECT_DIR, ['sudo', 'docker']), {
            hint: `the Dockerfile is ${b.dockerfile}; rebuild by hand with \`multipass shell ${cfg.vmName}\``,
          });
        }
      },
    },
    {
      title: `Push images to ${registry}`,
      skip: () => (input.skipBuild ? 'SKIP_BUILD=true (images already in the registry)' : false),
      plan: () => tags.map((tag) => show(['sudo', 'docker', 'push', tag])),
      run: async (_ctx, io) => {
        const exec = hostExec(vm, io);
        for (const tag of tags) await exec(['sudo', 'docker', 'push', tag], { hint: `is the registry up? ${show(['curl', '-s', `http://${registry}/v2/_catalog`])}` });
      },
    },
    ...deploySteps({
      access: { host: vm, kubectl: VM_KUBECTL, helm: VM_HELM },
      mode,
      chartDir: `${VM_PROJECT_DIR}/helm/nanofaas`,
      valuesFile: { local: join(input.workDir, 'values-e2e.yaml'), remote: VM_VALUES },
      values: () =>
        helmValues({
          registry,
          controlPlaneImage: controlPlaneImage(input.rootDir),
          functions: input.functions,
          admissionEnabled: true,
          pullPolicy: 'Always',
        }),
      functions: input.functions,
      connectPlan: [`API http://<vm-ip>:${NODE_PORTS.api}, Prometheus http://<vm-ip>:${NODE_PORTS.prometheus} (NANOFAAS_URL / PROM_URL override)`],
      connect: async () => {
        if (!live.ip) await refreshIp();
        return { endpoints: vmEndpoints(cfg, vmIp()), close: async () => {} };
      },
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
  return steps;
}

export function vmEndpoints(cfg: Pick<MultipassConfig, 'nanofaasUrl' | 'promUrl'>, ip: string) {
  return {
    apiUrl: cfg.nanofaasUrl ?? `http://${ip}:${NODE_PORTS.api}`,
    managementUrl: `http://${ip}:${NODE_PORTS.management}`,
    prometheusUrl: cfg.promUrl ?? `http://${ip}:${NODE_PORTS.prometheus}`,
  };
}
