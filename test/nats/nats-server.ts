/**
 * Test helper: a real `nats-server -js` (Debian's 2.9, /usr/bin/nats-server; CI installs it) on
 * 127.0.0.1, its JetStream store in a temp dir. Started on a random port (`-p -1`) and read back
 * from its own "Listening for client connections" line, so no port is guessed; restart() brings it
 * back on the same port with the same store (what a NATS restart under load looks like).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const NATS_SERVER = process.env.NATS_SERVER_BIN ?? 'nats-server';

export interface RunningNats {
  url: string;
  port: number;
  storeDir: string;
  /** The server's log lines so far (failure messages). */
  output: string[];
  /** SIGKILL (default) or SIGTERM the server and wait for it to exit; the store stays. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port with the same store. */
  restart(): Promise<void>;
  /** Stop it and remove the store. */
  close(): Promise<void>;
}

function launch(port: number, storeDir: string, output: string[], args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let listening = 0;
    const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${output.join('\n')}`)), 15_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run ${NATS_SERVER} (install the nats-server package): ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`nats-server exited with ${code}:\n${output.join('\n')}`));
    });
    const onLine = (line: string): void => {
      output.push(line);
      const m = /Listening for client connections on [^:]+:(\d+)/.exec(line);
      if (m) listening = Number(m[1]);
      if (/Server is ready/.test(line) && listening) {
        clearTimeout(timer);
        resolve({ child, port: listening });
      }
    };
    createInterface({ input: child.stderr! }).on('line', onLine);
    createInterface({ input: child.stdout! }).on('line', onLine);
  });
}

/** `args`: more nats-server flags, e.g. `--user u --pass p`. */
export async function startNats(args: string[] = []): Promise<RunningNats> {
  const storeDir = mkdtempSync(join(tmpdir(), 'nanofaas-nats-'));
  const output: string[] = [];
  let { child, port } = await launch(-1, storeDir, output, args);
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  };
  return {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    storeDir,
    output,
    stop,
    async restart() {
      await stop();
      ({ child, port } = await launch(port, storeDir, output, args));
    },
    async close() {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
