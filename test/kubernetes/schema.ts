/**
 * Kubernetes OpenAPI schema validation for tests, with `kubernetes-models` (validators generated
 * from the Kubernetes OpenAPI spec; 4.5.1, of Kubernetes 1.27, is the newest whose engines admit Node 20 — 5.x
 * wants Node 22). Used by the chart tests on every object
 * `helm template` renders, by the backend tests on every object it builds, and by the FAKE API
 * server on every body it receives (answering 422 as a real API server does).
 *
 * What the schema does not hold, a real API server also checks in code (names, label values); the
 * fake keeps its own small set of those (fake-apiserver.ts). Unknown fields pass the schema, as a
 * real API server drops them with a warning by default (fieldValidation=Warn).
 */
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';

interface ModelClass {
  apiVersion: string;
  kind: string;
  new (data: any): { validate(): void };
}

const MODELS: readonly ModelClass[] = [
  ConfigMap,
  Namespace,
  Pod,
  Secret,
  Service,
  ServiceAccount,
  Deployment,
  StatefulSet,
  Job,
  NetworkPolicy,
  PodDisruptionBudget,
  Role,
  RoleBinding,
  ClusterRole,
  ClusterRoleBinding,
] as unknown as ModelClass[];
const BY_TYPE = new Map(MODELS.map((m) => [`${m.apiVersion}/${m.kind}`, m]));

/** A field error as a real API server reports it in a 422 Status's details.causes. */
export interface SchemaCause {
  reason: 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueInvalid' | 'FieldValueTypeInvalid';
  field: string;
  message: string;
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, any>;
}

/** `/spec/template/spec/containers/0/image` → `spec.template.spec.containers[0].image`, the API server's spelling. */
function fieldPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, key) => (/^\d+$/.test(key) ? `${path}[${key}]` : path ? `${path}.${key}` : key), '');
}

function valueAt(obj: unknown, pointer: string): unknown {
  let at: any = obj;
  for (const key of pointer.split('/').slice(1)) at = at?.[key.replace(/~1/g, '/').replace(/~0/g, '~')];
  return at;
}

/**
 * The schema errors of one object (empty when valid). An apiVersion/kind this module has no model
 * for is an error too, so a new kind in the chart cannot go unchecked.
 */
export function schemaErrors(obj: { apiVersion?: unknown; kind?: unknown }): SchemaCause[] {
  const type = `${String(obj.apiVersion)}/${String(obj.kind)}`;
  const Model = BY_TYPE.get(type);
  if (!Model) return [{ reason: 'FieldValueNotSupported', field: 'kind', message: `no schema here for ${type}` }];
  try {
    new Model(structuredClone(obj)).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: AjvError[] }).errors;
    if (!errors) throw err;
    return causesOf(obj, errors);
  }
}

/** One cause per field: ajv reports a failed oneOf (e.g. a quantity) once per branch. */
function causesOf(obj: unknown, errors: readonly AjvError[]): SchemaCause[] {
  const byField = new Map<string, { reason: SchemaCause['reason']; value: unknown; messages: string[] }>();
  for (const e of errors) {
    if (e.keyword === 'required') {
      const field = fieldPath(`${e.instancePath}/${e.params.missingProperty}`);
      byField.set(field, { reason: 'FieldValueRequired', value: undefined, messages: [] });
      continue;
    }
    const field = fieldPath(e.instancePath);
    const entry = byField.get(field) ?? { reason: 'FieldValueInvalid', value: valueAt(obj, e.instancePath), messages: [] };
    if (e.keyword === 'enum') {
      entry.reason = 'FieldValueNotSupported';
      entry.messages.push(`supported values: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
    } else if (e.keyword === 'type' && entry.messages.length === 0) {
      entry.reason = 'FieldValueTypeInvalid';
      entry.messages.push(e.message ?? 'wrong type');
    } else if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') {
      if (entry.reason === 'FieldValueTypeInvalid') entry.reason = 'FieldValueInvalid';
      entry.messages.push(e.message ?? e.keyword);
    }
    byField.set(field, entry);
  }
  return [...byField].map(([field, e]) => ({
    reason: e.reason,
    field,
    message:
      e.reason === 'FieldValueRequired'
        ? 'Required value'
        : `${e.reason === 'FieldValueNotSupported' ? 'Unsupported value' : 'Invalid value'}: ${JSON.stringify(e.value)}: ${e.messages.join('; ')}`,
  }));
}

/** "Deployment/fn-x: spec.replicas: Invalid value: …" lines for every invalid object (empty when all are valid). */
export function schemaReport(objects: readonly { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }[]): string[] {
  return objects.flatMap((o) =>
    schemaErrors(o).map((c) => `${String(o.kind)}/${String(o.metadata?.name)}: ${c.field}: ${c.message} (${c.reason})`),
  );
}
