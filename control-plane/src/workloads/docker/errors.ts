/**
 * Engine failures in the control plane's error codes. Whatever the Engine or its socket did, the
 * message names the socket, so an operator sees at once which daemon the control plane talks to.
 */
import type { ErrorCode } from '../../contracts/index.js';
import { ApiError } from '../../errors.js';

export class DockerBackendError extends ApiError {
  override readonly name = 'DockerBackendError';
  constructor(
    code: ErrorCode,
    message: string,
    /** HTTP status the Engine answered with; 0 when it could not be reached. */
    readonly engineStatus: number,
  ) {
    super(code, message);
  }
}

interface EngineFailure {
  code?: unknown;
  statusCode?: unknown;
  json?: { message?: unknown } | null;
  reason?: unknown;
  message?: unknown;
}

/** HTTP status of a dockerode failure, or undefined when the Engine never answered. */
export function engineStatusOf(err: unknown): number | undefined {
  const status = (err as EngineFailure | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The Engine's own words: its JSON `message`, else the error's. */
function engineMessage(err: unknown): string {
  const e = err as EngineFailure | null;
  const fromJson = e?.json && typeof e.json === 'object' ? e.json.message : undefined;
  if (typeof fromJson === 'string' && fromJson) return fromJson.trim();
  // dockerode's own prefix ("(HTTP code 404) unexpected - ") repeats the status: keep the Engine's words.
  return (err instanceof Error ? err.message : String(err)).replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** `what` says what was asked, e.g. `create container nanofaas-x-fn-echo-0`. */
export function toEngineError(err: unknown, what: string, socketPath: string): DockerBackendError {
  if (err instanceof DockerBackendError) return err;
  const status = engineStatusOf(err);
  const where = `the Docker Engine at unix://${socketPath}`;
  if (status === undefined) {
    const code = (err as EngineFailure | null)?.code;
    const why =
      code === 'ENOENT'
        ? 'no such socket (is dockerd running? set NANOFAAS_DOCKER_SOCKET if it listens elsewhere)'
        : code === 'EACCES'
          ? "permission denied (run the control plane in the socket's group, e.g. docker run --group-add <gid of the socket>)"
          : code === 'ECONNREFUSED'
            ? 'connection refused (is dockerd running?)'
            : engineMessage(err);
    return new DockerBackendError('BACKEND_UNAVAILABLE', `${where} is unreachable (${what}): ${why}`, 0);
  }
  const said = engineMessage(err);
  // A 400 is the Engine refusing what the spec asked for (a memory size below its minimum, …).
  if (status === 400) return new DockerBackendError('VALIDATION_ERROR', `${where} refused to ${what}: ${said}`, status);
  return new DockerBackendError('BACKEND_UNAVAILABLE', `${where} answered ${status} to ${what}: ${said}`, status);
}
