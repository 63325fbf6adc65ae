import type { FunctionView } from '@nanofaas/control-plane/contracts';
import { ApiError, type ApiClient } from '../api-client/client.js';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';

/** GET the function; an unknown name is the API's 404 as one line, with where to find the names. */
export async function getFunctionOrHint(ctx: CliContext, api: ApiClient, name: string): Promise<FunctionView> {
  try {
    return await api.getFunction(name);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      throw new CliError(`${error.code}: ${error.message}`, {
        code: error.code,
        hint: `\`${ctx.suggest('functions list')}\` shows the registered functions`,
      });
    }
    throw error;
  }
}
