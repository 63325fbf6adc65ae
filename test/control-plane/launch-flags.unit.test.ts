/**
 * The control plane's node flags have one source (contracts/launch.ts): the image's CMD and the
 * local target's command must start it with exactly those.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTROL_PLANE_NODE_FLAGS } from '../../control-plane/src/contracts/launch.js';
import { controlPlaneCommand } from '../../src/targets/local/control-plane.js';

describe('control-plane launch flags', () => {
  it('the image CMD is node, the flags, then the entry point', () => {
    const dockerfile = readFileSync(new URL('../../control-plane/Dockerfile', import.meta.url), 'utf8');
    const cmd = dockerfile.split('\n').find((l) => l.startsWith('CMD '));
    expect(JSON.parse(cmd!.slice(4))).toEqual(['node', ...CONTROL_PLANE_NODE_FLAGS, 'control-plane/dist/main.js']);
  });

  it('the local target starts it the same way', () => {
    const [node, ...args] = controlPlaneCommand('/repo');
    expect(node).toBe(process.execPath);
    expect(args).toEqual([...CONTROL_PLANE_NODE_FLAGS, '/repo/control-plane/dist/main.js']);
    expect(CONTROL_PLANE_NODE_FLAGS).toContain('--max-semi-space-size=32');
  });
});
