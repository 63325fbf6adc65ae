import { runLocal, type Runner } from './run-local.js';

/**
 * A Runner whose base environment is the CLI's env (TargetEnv.env) rather than this process's:
 * PATH decides which multipass/kubectl/helm run, and tests point it at named fakes.
 */
export function envRunner(base: NodeJS.ProcessEnv): Runner {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  return (argv, opts = {}) => runLocal(argv, { ...opts, env: { ...env, ...opts.env } });
}
