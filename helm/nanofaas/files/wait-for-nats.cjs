// Init container of the control plane in NATS mode (run as `node -e`, from the control-plane
// image): waits until NANOFAAS_NATS_URL's host:port accepts a TCP connection. The control plane
// gives up on NATS 5 s after it starts, so without this a control plane installed together with
// its NATS server crash-loops (with growing back-off) until the server is ready; the bundled
// server's Service only has a ready server behind it. Waits as long as it takes, saying why.
// A TCP connection only, never a NATS CONNECT: it needs no credentials (the chart gives it none for
// the bundled server), and the URL's credentials (nats.existingUrlSecret) are never printed.
const net = require('node:net');

const raw = process.env.NANOFAAS_NATS_URL ?? '';
let url;
try {
  url = new URL(raw);
} catch {
  // Up to the last @: a password with an unencoded / or # is hidden too.
  const shown = raw.replace(/\/\/.*@/, '//***@');
  console.error(`[wait-for-nats] NANOFAAS_NATS_URL is not a URL: "${shown}" (percent-encode a password's characters other than letters, digits and - . _ ~)`);
  process.exit(2);
}
const host = url.hostname;
const port = Number(url.port || 4222);
const started = Date.now();
let lastLog = 0;

function attempt() {
  const socket = net.connect({ host, port });
  socket.setTimeout(2000, () => socket.destroy(new Error('connect timed out')));
  socket.once('connect', () => {
    socket.destroy();
    console.log(`[wait-for-nats] ${host}:${port} reachable after ${Math.round((Date.now() - started) / 1000)} s`);
    process.exit(0);
  });
  socket.once('error', (err) => {
    socket.destroy();
    if (Date.now() - lastLog >= 10_000) {
      lastLog = Date.now();
      console.log(`[wait-for-nats] waiting for ${host}:${port}: ${err.code ?? err.message}`);
    }
    setTimeout(attempt, 1000);
  });
}
attempt();
