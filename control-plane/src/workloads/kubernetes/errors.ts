import { ApiException } from '@kubernetes/client-node';
import type { ErrorCode } from '../../contracts/index.js';
import { ApiError } from '../../errors.js';

/** The parts of a Kubernetes `Status` object this backend reads. */
interface KubeStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { field?: string; message?: string; reason?: string }[] };
}

/**
 * A Kubernetes API failure translated into the control plane's error codes
 * (contracts/errors.ts), with the API server's own message kept for the operator. It is an
 * ApiError, so the HTTP layer answers with the mapped code (422 → 400 VALIDATION_ERROR, …).
 */
export class KubernetesBackendError extends ApiError {
  override readonly name = 'KubernetesBackendError';
  constructor(
    code: ErrorCode,
    message: string,
    /** HTTP status the API server answered with; 0 when it could not be reached or was not asked. */
    readonly apiStatus: number,
    details?: KubernetesErrorDetails,
  ) {
    super(code, message, details);
  }
}

export interface KubernetesErrorDetails {
  /** The Status reason, e.g. Invalid, AlreadyExists. */
  reason?: string;
  /** Field-level causes of a 422, "field: message". */
  causes?: string[];
}

/** HTTP status of a client-node failure, or undefined when it is not an API answer. */
export function apiStatusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { code?: unknown; statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

function parseStatus(body: unknown): KubeStatus | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as KubeStatus;
    } catch {
      return body ? { message: body } : undefined;
    }
  }
  return body && typeof body === 'object' ? (body as KubeStatus) : undefined;
}

/** `what` names the object, e.g. "Deployment fn-word-stats". */
export function toBackendError(err: unknown, what: string): KubernetesBackendError {
  if (err instanceof KubernetesBackendError) return err;
  if (!(err instanceof ApiException)) {
    const reason = err instanceof Error ? err.message : String(err);
    return new KubernetesBackendError('BACKEND_UNAVAILABLE', `kubernetes API unreachable (${what}): ${reason}`, 0);
  }
  const status = parseStatus(err.body);
  const causes = status?.details?.causes?.map((c) => `${c.field ?? ''}: ${c.message ?? c.reason ?? ''}`.replace(/^: /, ''));
  const serverMessage = status?.message ?? `HTTP ${err.code}`;
  const details = { ...(status?.reason ? { reason: status.reason } : {}), ...(causes?.length ? { causes } : {}) };
  switch (err.code) {
    case 401:
      return new KubernetesBackendError(
        'BACKEND_UNAVAILABLE',
        `kubernetes API answered 401 Unauthorized for ${what}: the control plane's credentials were not accepted ` +
          '(in a cluster: is the ServiceAccount token mounted at /var/run/secrets/kubernetes.io/serviceaccount/token?)',
        401,
        details,
      );
    case 403:
      return new KubernetesBackendError(
        'BACKEND_UNAVAILABLE',
        `kubernetes API answered 403 Forbidden for ${what}: the control plane's Role lacks a verb (${serverMessage})`,
        403,
        details,
      );
    case 404:
      return new KubernetesBackendError('NOT_FOUND', `${what} not found`, 404, details);
    case 409:
      return new KubernetesBackendError('FUNCTION_EXISTS', `conflict on ${what}: ${serverMessage}`, 409, details);
    case 400:
    case 422:
      return new KubernetesBackendError('VALIDATION_ERROR', `kubernetes rejected ${what}: ${serverMessage}`, err.code, details);
    default:
      return new KubernetesBackendError(
        'BACKEND_UNAVAILABLE',
        `kubernetes API answered ${err.code} for ${what}: ${serverMessage}`,
        err.code,
        details,
      );
  }
}
