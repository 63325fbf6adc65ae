import { apiToken } from '../../config/env.js';
import type { Step } from '../../pipeline/step.js';
import { loadCatalog } from '../../util/catalog.js';
import { apiTokenSource } from '../cluster/api-token.js';
import { clusterDoctorChecks, missingToolChecks } from '../cluster/doctor.js';
import { multipassLogs } from './logs.js';
import { probe } from '../cluster/probe.js';
import { clusterUpInput } from '../cluster/up-input.js';
import { envRunner } from '../host/env-runner.js';
import { formatArgv } from '../host/host.js';
import type { Runner } from '../host/run-local.js';
import type {
  CheckResult,
  ComponentStatus,
  DoctorCheck,
  DownContext,
  DownOptions,
  Endpoints,
  Target,
  TargetEnv,
  TargetStatus,
  UpContext,
  UpOptions,
} from '../target.js';
import { multipassConfig } from './config.js';
import { multipassDownSteps } from './down-steps.js';
import { MultipassHost } from './multipass-host.js';
import { VM_KUBECTL, vmAccess } from './kit.js';
import { multipassUpSteps, vmEndpoints } from './up-steps.js';
import { vmInfo } from './vm.js';
import { REGISTRIES_YAML } from './vm-scripts.js';

/** `--target multipass`: a Multipass VM with k3s, a local registry and the Helm chart (the end-to-end flow). */
export function createTarget(env: TargetEnv): Target {
  const cfg = multipassConfig(env.env);
  const run = envRunner(env.env);
  const workDir = env.state.file('multipass');
  const vm = new MultipassHost(cfg.vmName, run);
  const tokenFromEnv = () => apiToken(env.env);
  const token = apiTokenSource(vm, VM_KUBECTL, tokenFromEnv);

  const liveEndpoints = async (): Promise<Endpoints | undefined> => {
    const info = await vmInfo(run, cfg.vmName).catch(() => undefined);
    const ip = info?.state === 'Running' ? info.ipv4[0] : undefined;
    return ip ? vmEndpoints(cfg, ip) : undefined;
  };

  return {
    name: 'multipass',
    describe: () => `Multipass VM ${cfg.vmName} with k3s (${cfg.cpus} CPU, ${cfg.memory} memory, ${cfg.disk} disk)`,

    upSteps(options: UpOptions): Step<UpContext>[] {
      return multipassUpSteps({
        ...clusterUpInput(env, options, { workDir, skipBuild: options.skipBuild || cfg.skipBuild, run }),
        cfg,
        apiToken: tokenFromEnv,
      });
    },

    downSteps(options: DownOptions): Step<DownContext>[] {
      return multipassDownSteps({
        cfg,
        rootDir: env.rootDir,
        workDir,
        keepVm: options.keepInfrastructure ?? cfg.keepVm,
        run,
        env: env.env,
        state: env.state,
      });
    },

    async statusOf(): Promise<TargetStatus> {
      const info = await vmInfo(run, cfg.vmName).catch((error: Error) => ({ state: 'Unknown' as const, ipv4: [], error }));
      const components: ComponentStatus[] = [
        {
          name: `vm ${cfg.vmName}`,
          state: info.state === 'Running' ? 'running' : info.state === 'Unknown' ? 'unknown' : 'stopped',
          detail: info.state === 'absent' ? 'not created' : `${info.state}${info.ipv4[0] ? ` at ${info.ipv4[0]}` : ''}`,
        },
      ];
      const endpoints = info.state === 'Running' && info.ipv4[0] ? vmEndpoints(cfg, info.ipv4[0]) : undefined;
      if (endpoints) {
        components.push(await probe('control-plane', `${endpoints.managementUrl}/readyz`));
        if (endpoints.prometheusUrl) components.push(await probe('prometheus', `${endpoints.prometheusUrl}/-/ready`));
      }
      return { components, ...(endpoints ? { endpoints } : {}) };
    },

    endpoints: liveEndpoints,

    apiToken: token,

    logs: (fn, options) => multipassLogs(workDir, cfg.vmName, env.suggest, fn, options),

    doctorChecks(): DoctorCheck[] {
      const show = (argv: string[]) => formatArgv(vm.commandFor(argv));
      const noMultipass = missingToolChecks(
        'multipass',
        env.env,
        `install it (snap install multipass, brew install multipass, or https://multipass.run), then ${env.suggest('up')}`,
      );
      if (noMultipass) return noMultipass;
      let vmCheck: Promise<CheckResult> | undefined;
      const vmRunning = () => (vmCheck ??= vmRunningCheck(run, cfg.vmName, env.suggest));
      return [
        {
          id: 'vm-running',
          title: `VM ${cfg.vmName} is running`,
          run: vmRunning,
        },
        ...clusterDoctorChecks({
          suggest: env.suggest,
          // Inside a VM that is not running, every kubectl check would fail the same way: each says the VM's fix.
          precondition: async () => {
            const vmState = await vmRunning();
            return vmState.status === 'ok'
              ? undefined
              : { status: 'fail', detail: `not checked: ${vmState.detail}`, ...(vmState.fix ? { fix: vmState.fix } : {}) };
          },
          access: vmAccess(vm),
          functions: loadCatalog(env.rootDir).functions,
          apiUrl: async () => (await liveEndpoints())?.apiUrl,
          apiToken: token,
          imagePullFix: `${show(['cat', REGISTRIES_YAML])}; ${show(['curl', '-s', `http://${cfg.localRegistry}/v2/_catalog`])}`,
        }),
      ];
    },
  };
}

/** The VM's state, with the fix for each situation: create it with `up`, start it, or recover it. */
export async function vmRunningCheck(run: Runner, vmName: string, suggest: (command: string) => string): Promise<CheckResult> {
  let info: { state: string; ipv4: string[] };
  try {
    info = await vmInfo(run, vmName);
  } catch (error) {
    return { status: 'fail', detail: (error as Error).message, fix: 'multipass list (is the multipass daemon running?)' };
  }
  if (info.state === 'Running') return { status: 'ok', detail: `running at ${info.ipv4[0] ?? '?'}` };
  if (info.state === 'absent') return { status: 'fail', detail: `VM ${vmName} does not exist`, fix: `${suggest('up')} (creates it)` };
  if (info.state === 'Deleted')
    return {
      status: 'fail',
      detail: `VM ${vmName} is deleted (not purged)`,
      fix: `multipass recover ${vmName} && multipass start ${vmName}, or ${suggest('up')}`,
    };
  return { status: 'fail', detail: `VM ${vmName} is ${info.state}`, fix: `multipass start ${vmName}` };
}
