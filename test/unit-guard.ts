/**
 * Setup file of the unit lane (vitest.config.ts): starting a process or a server, or opening a
 * connection, throws. A test that needs one belongs to the integration project instead.
 */
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import net from 'node:net';

const refuse = (what: string) => () => {
  throw new Error(`the unit lane starts no processes and opens no sockets (${what}); move this test to the integration project`);
};

for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'] as const) {
  (childProcess as unknown as Record<string, unknown>)[name] = refuse(`child_process.${name}`);
}
net.Server.prototype.listen = refuse('listen') as typeof net.Server.prototype.listen;
net.Socket.prototype.connect = refuse('connect') as typeof net.Socket.prototype.connect;
// ESM importers (execa, `import { spawn } from 'node:child_process'`) see the replaced functions too.
syncBuiltinESMExports();
