import { pathToFileURL } from 'node:url';
import { UsageError, CliError } from '../cli/errors.js';
import { envValue } from '../config/env.js';
import { TARGET_NAMES, type Target, type TargetEnv, type TargetFactory, type TargetName } from './target.js';

export { TARGET_NAMES };

/** --target wins, then NANOFAAS_TARGET, then local. An unknown name is a usage error. */
export function resolveTargetName(flag: string | undefined, env: NodeJS.ProcessEnv): TargetName {
  const name = flag ?? envValue(env, 'NANOFAAS_TARGET');
  if (!(TARGET_NAMES as readonly string[]).includes(name)) {
    throw new UsageError(`unknown target '${name}' (choose ${TARGET_NAMES.join(', ')})`);
  }
  return name as TargetName;
}

/**
 * Load a target's module lazily: the local one is always built, multipass and kubeconfig arrive
 * later (each module exports `createTarget: TargetFactory`). A missing module is not a crash.
 */
export async function loadTarget(name: TargetName, env: TargetEnv): Promise<Target> {
  const url = new URL(`./${name}/index.js`, import.meta.url);
  let factory: TargetFactory | undefined;
  try {
    const mod = (await import(url.href)) as { createTarget?: TargetFactory };
    factory = mod.createTarget;
  } catch (error) {
    if (!isModuleMissing(error, url)) throw error;
  }
  if (!factory) throw new CliError(`target ${name} is not available in this build`, { exitCode: 2 });
  return factory(env);
}

function isModuleMissing(error: unknown, url: URL): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND') return false;
  // Only the target module itself missing counts; a broken import inside it is a real bug.
  const message = String((error as Error).message);
  return message.includes(url.pathname) || message.includes(pathToFileURL(url.pathname).pathname);
}
