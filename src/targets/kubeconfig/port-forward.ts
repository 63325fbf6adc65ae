import { spawn } from 'node:child_process';
import { killGroup } from '../../util/process.js';

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
export function portForward(
  kubectl: readonly string[],
  namespace: string,
  resource: string,
  remotePorts: readonly number[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
): Promise<PortForward> {
  const [file, ...pre] = kubectl;
  const args = [...pre, '-n', namespace, 'port-forward', '--address', '127.0.0.1', resource, ...remotePorts.map((p) => `:${p}`)];
  return new Promise((resolve, reject) => {
    const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const found = new Map<number, number>();
    let stderr = '';
    const close = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        killGroup(child.pid, 'SIGTERM');
      });
    const timer = setTimeout(() => {
      void close();
      reject(new Error(`kubectl port-forward ${resource} did not start within ${timeoutMs} ms: ${stderr.trim()}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        const m = FORWARDING.exec(line);
        if (m) found.set(Number(m[2]), Number(m[1]));
      }
      if (remotePorts.every((p) => found.has(p))) {
        clearTimeout(timer);
        resolve({ localPorts: remotePorts.map((p) => found.get(p)!), close });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward could not start: ${error.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kubectl port-forward ${resource} exited with ${code}: ${stderr.trim()}`));
    });
  });
}
