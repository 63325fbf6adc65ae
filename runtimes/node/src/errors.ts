/**
 * The error codes a runtime answers with (docs/design.md §5.3). A subset of the control plane's
 * ERROR_CODES, spelled again here so runtimes stay free of control-plane dependencies.
 */
export const RUNTIME_ERRORS = {
  INVALID_INPUT: 400,
  INVALID_JSON: 400,
  VALIDATION_ERROR: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  FUNCTION_ERROR: 500,
  SHUTTING_DOWN: 503,
  TIMEOUT: 504,
} as const;

export type RuntimeErrorCode = keyof typeof RUNTIME_ERRORS;

/** Throw this from a handler to reject its input: the runtime answers 400 INVALID_INPUT. */
export class InvalidInputError extends Error {
  readonly code = 'INVALID_INPUT';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidInputError';
  }
}

export function isInvalidInputError(err: unknown): err is InvalidInputError {
  // The name check also catches an InvalidInputError from a second copy of this package
  // (a handler bundled with its own node_modules).
  return err instanceof InvalidInputError || (err instanceof Error && err.name === 'InvalidInputError');
}
