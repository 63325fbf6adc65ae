import { loadExeca } from '../../util/execa.js';
import { killGroup } from '../../util/process-group.js';
import { eachLine } from '../../util/process.js';

export interface PortForward {
  /** Local ports in the order the remote ports were given. */
  localPorts: number[];
  close(): Promise<void>;
}

const FORWARDING = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/;

/**
 * `kubectl port-forward <resource> :<remote>…` on loopback with kubectl choosing free local ports;
 * resolves once kubectl has printed one "Forwarding from" line per port (an event, not a poll).
 */
export async function portForward(
  kubectl: readonly string[],
  namespace: string,
  resource: string,
  remotePorts: readonly number[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<PortForward> {
  const [file, ...pre] = kubectl;
  const args = [...pre, '-n', namespace, 'port-forward', '--address', '127.0.0.1', resource, ...remotePorts.map((p) => `:${p}`)];
  const { execa } = await loadExeca();
  return new Promise((resolve, reject) => {
    const found = new Map<number, number>();
    let stderr = '';
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done();
    };
    const close = async () => {
      if (subprocess.exitCode === null && subprocess.signalCode === null) killGroup(subprocess.pid, 'SIGTERM');
      await subprocess;
    };
    // It runs for as long as the forward is used: its lines are read as they come, nothing is kept.
    const subprocess = execa(file!, args, {
      env,
      extendEnv: false,
      stdin: 'ignore',
      stdout: eachLine((line) => {
        const m = FORWARDING.exec(line);
        if (m) found.set(Number(m[2]), Number(m[1]));
        if (remotePorts.every((p) => found.has(p))) settle(() => resolve({ localPorts: remotePorts.map((p) => found.get(p)!), close }));
      }),
      stderr: eachLine((_line, raw) => {
        if (!settled) stderr += raw;
      }),
      buffer: false,
      // Its own process group: the terminal's Ctrl-C reaches the CLI, which closes the forward when done.
      detached: true,
      reject: false,
    });
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`kubectl port-forward ${resource} did not start within ${timeoutMs} ms: ${stderr.trim()}`)));
      void close();
    }, timeoutMs);
    void subprocess.then((result) => {
      if (result.exitCode === undefined && result.signal === undefined) {
        settle(() => reject(new Error(`kubectl port-forward could not start: ${result.originalMessage}`)));
      } else {
        const how = result.exitCode ?? result.signal;
        settle(() => reject(new Error(`kubectl port-forward ${resource} exited with ${how}: ${stderr.trim()}`)));
      }
    });
  });
}
