import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { StepFailure, type Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import { hostExec } from '../host/step-exec.js';
import type { UpContext } from '../target.js';
import type { UpKit } from './kit.js';
import { infoArgv, launchArgv, vmInfo } from './vm.js';
import { K3S_KUBECONFIG } from './vm-scripts.js';
import { checkDependencies, installDependencies } from './provision/dependencies.js';
import { installK3s, k3sActive, nodeReadyNow, waitNodeReady } from './provision/k3s.js';
import { probeScript, runScript, showScript } from './provision/script.js';

/** The VM and its Kubernetes: VM created/started, dependencies, k3s, node Ready + kubeconfig. */
export function vmSteps(kit: UpKit): Step<UpContext>[] {
  return [vmLaunchStep(kit), ...provisionSteps(kit)];
}

/** The VM itself, through multipass on this machine. */
export function vmLaunchStep(kit: UpKit): Step<UpContext> {
  const { cfg, run, live, refreshIp } = kit;
  return {
    title: `VM ${cfg.vmName} (${cfg.cpus} CPU, ${cfg.memory} memory, ${cfg.disk} disk)`,
    skip: async (_ctx, { dryRun }) => {
      if (dryRun) return false;
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
  };
}

/** Inside the VM (any Host): dependencies, k3s, node Ready + kubeconfig, as the kit's profile installs them. */
export function provisionSteps(kit: UpKit): Step<UpContext>[] {
  const { input, vm, kubeconfigPath, show, vmIp, profile } = kit;
  const k3sLogs = formatArgv(vm.commandFor(['sudo', 'journalctl', '-u', 'k3s', '--no-pager', '-n', '50']));
  const standIns = profile.standIns.map((s) => `stand-in ${s.name}: ${s.replaces}`);
  /** k3s's kubeconfig as this machine uses it: the server at the VM's address. */
  const exported = (raw: string) => raw.replace(/server: https:\/\/(127\.0\.0\.1|localhost):6443/g, `server: https://${vmIp()}:6443`);
  return [
    {
      title: 'Dependencies in the VM (Docker, JDK 21, Helm, Node)',
      skip: async (_ctx, { dryRun }) => {
        if (dryRun) return false;
        const check = await probeScript(vm, checkDependencies(profile.dependencies), 60_000);
        return check.exitCode === 0 && check.stdout.trim() === '' ? 'all installed' : false;
      },
      plan: () => [
        ...standIns,
        `${showScript(vm, checkDependencies(profile.dependencies))}   (prints the missing ones; the step is skipped when none)`,
        `${showScript(vm, installDependencies(profile.dependencies))}   (installs each one still missing)`,
      ],
      run: async (_ctx, io) => {
        await runScript(vm, io, installDependencies(profile.dependencies), {
          hint: 'the VM needs internet access for apt and the installers',
        });
      },
    },
    {
      title: 'k3s (Traefik disabled)',
      skip: async (_ctx, { dryRun }) => {
        if (dryRun) return false;
        const installed = await probeScript(vm, k3sActive(), 30_000);
        return installed.exitCode === 0 ? 'installed and active' : false;
      },
      plan: () => [showScript(vm, installK3s(profile.k3sInstall))],
      run: async (_ctx, io) => {
        await runScript(vm, io, installK3s(profile.k3sInstall), { hint: `see \`${k3sLogs}\`` });
      },
    },
    {
      title: 'k3s node Ready; kubeconfig exported',
      hint: `k3s may still be starting or failing: ${k3sLogs}`,
      // Skipped only when a short wait finds the node Ready and the exported kubeconfig is what the VM's would become.
      skip: async (_ctx, { dryRun }) => {
        if (dryRun || !existsSync(kubeconfigPath)) return false;
        const ready = await probeScript(vm, nodeReadyNow(), 30_000);
        if (ready.exitCode !== 0) return false;
        const raw = await vm.exec(['sudo', 'cat', K3S_KUBECONFIG], { timeoutMs: 30_000 });
        return raw.exitCode === 0 && readFileSync(kubeconfigPath, 'utf8') === exported(raw.stdout)
          ? 'node Ready; kubeconfig unchanged'
          : false;
      },
      plan: () => [
        showScript(vm, waitNodeReady()),
        `${show(['sudo', 'cat', K3S_KUBECONFIG])}  → ${kubeconfigPath} (server: https://<vm-ip>:6443)`,
      ],
      run: async (_ctx, io) => {
        await runScript(vm, io, waitNodeReady(), { timeoutMs: 330_000 });
        const raw = (await hostExec(vm, io)(['sudo', 'cat', K3S_KUBECONFIG], { quiet: true, timeoutMs: 30_000 })).stdout;
        mkdirSync(input.workDir, { recursive: true });
        writeFileSync(kubeconfigPath, exported(raw), {
          mode: 0o600,
        });
        chmodSync(kubeconfigPath, 0o600);
        io.log(`kubeconfig → ${kubeconfigPath}`);
      },
    },
  ];
}
