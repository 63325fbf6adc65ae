/**
 * How the control-plane program is started: `node <CONTROL_PLANE_NODE_FLAGS> control-plane/dist/main.js`.
 * The local target, the image's CMD (a test holds control-plane/Dockerfile to this list) and the
 * benches all start it so.
 *
 * `--max-semi-space-size=32` (MB; V8 grows it to 16 by default): a sync call allocates about 17 KB,
 * so at c=32 the young generation filled every ~600 calls, and each scavenge copied whatever was in
 * flight. Twice the room halves the scavenges and their copying: GC pause per call 2.2 → 1.2 µs
 * (`npm run bench:cp-alloc`), and at c=32 the control plane's CPU per call became the bare hop's
 * (`bench:cp`, BENCHMARKS.md). Cost: up to 32 MB more young generation.
 *
 * Flags V8 accepts at runtime are set by the program itself instead (gc-tuning.ts), so they hold
 * however main.js is started; this list is for what must be given on the command line.
 */
export const CONTROL_PLANE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
