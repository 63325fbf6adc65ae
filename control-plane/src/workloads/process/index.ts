// Placeholder with the agreed signature; the process backend replaces this file.
import type { BackendOptions, WorkloadBackend } from '../backend.js';

export function createProcessBackend(_options: BackendOptions): WorkloadBackend {
  throw new Error('process backend not implemented yet');
}
