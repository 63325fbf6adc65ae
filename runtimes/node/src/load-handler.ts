import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FunctionHandler } from './define.js';

export class HandlerLoadError extends Error {
  override name = 'HandlerLoadError';
}

/**
 * Import the module HANDLER names (a path, relative to `cwd` or absolute) and pick its default
 * export or its `handler` export, whichever is a function.
 */
export async function loadHandler(spec: string | undefined, cwd: string): Promise<FunctionHandler> {
  if (!spec) throw new HandlerLoadError('HANDLER is not set: give the path of the handler module, e.g. HANDLER=dist/handler.js');
  const file = path.resolve(cwd, spec);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    throw new HandlerLoadError(`cannot load HANDLER=${spec} (${file}): ${(err as Error).message}`);
  }
  const candidate = typeof mod.default === 'function' ? mod.default : mod.handler;
  if (typeof candidate !== 'function') {
    throw new HandlerLoadError(`HANDLER=${spec} exports no function: export default defineFunction(...) or export const handler = ...`);
  }
  return candidate as FunctionHandler;
}
