import { envValue } from '../../config/env.js';
import { envRunner } from '../host/env-runner.js';
import type { Host } from '../host/host.js';
import { LocalHost } from '../host/local-host.js';
import { LocalUp } from '../local/up-state.js';
import type { TargetEnv, UpOptions } from '../target.js';
import { socketPath } from './engine.js';
import { ownerId } from './owner.js';

/** Where `up` records the registry it used, so `status` and `doctor` check that one. */
export const REGISTRY_RECORD = 'docker-registry.json';

/** LOCAL_REGISTRY when set, else the one the last `up` used, else the default. */
export function registryOf({ env, state }: Pick<TargetEnv, 'env' | 'state'>): string {
  if (env.LOCAL_REGISTRY?.trim()) return envValue(env, 'LOCAL_REGISTRY');
  return state.readJson<{ address?: string }>(REGISTRY_RECORD)?.address ?? envValue(env, 'LOCAL_REGISTRY');
}

/**
 * What the steps of one docker `up` learn and hand on: the local target's selection and
 * management port, plus the owner id, the engine's socket and group, the registry and the
 * reference of each image in it.
 */
export class DockerUp extends LocalUp {
  readonly owner: string;
  readonly socket: string;
  readonly registry: string;
  /** The socket's group, found by the preflight. */
  socketGid: number | undefined;
  /** Image name (nanofaas/x:1) → its reference in the registry (localhost:5000/nanofaas/x:1). */
  readonly refs = new Map<string, string>();
  /** Image name → the input hash it was built from (a function whose hash changed gets fresh containers). */
  readonly imageHashes = new Map<string, string>();
  /** This machine, running programs with the CLI's environment (its PATH picks the docker CLI). */
  readonly host: Host;

  constructor(target: TargetEnv, options: UpOptions) {
    super(target, options);
    this.owner = ownerId(target.state.path);
    this.socket = socketPath(target.env);
    this.registry = registryOf(target);
    this.host = new LocalHost(envRunner(target.env));
  }
}
