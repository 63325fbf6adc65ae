import { defineFunction, InvalidInputError, jsonText, type JsonText } from '@nanofaas/runtime-node';

/** json-transform (docs/design.md §5.7; exact rules in functions/testdata/README.md). */
export type Operation = 'count' | 'sum' | 'avg' | 'min' | 'max';

export interface JsonTransformInput {
  data: Record<string, unknown>[];
  groupBy: string;
  operation?: Operation | null;
  valueField?: string | null;
}

const OPERATIONS: ReadonlySet<string> = new Set<Operation>(['count', 'sum', 'avg', 'min', 'max']);

interface Group {
  records: number;
  numeric: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Returns JSON text rather than an object: groups must keep first-seen order on the wire, and a
 * JavaScript object would move integer-like keys ("7", "1") to the front.
 */
export default defineFunction((input: JsonTransformInput): JsonText => {
  const { data, groupBy, operation, valueField } = parseInput(input);
  const groups = new Map<string, Group>();
  for (const record of data) {
    const key = groupKey(ownField(record, groupBy));
    let group = groups.get(key);
    if (!group) {
      group = { records: 0, numeric: 0, sum: 0, min: Infinity, max: -Infinity };
      groups.set(key, group);
    }
    group.records += 1;
    if (valueField === undefined) continue;
    const value = ownField(record, valueField);
    if (typeof value !== 'number') continue;
    group.numeric += 1;
    group.sum += value;
    if (value < group.min) group.min = value;
    if (value > group.max) group.max = value;
  }

  const entries: string[] = [];
  for (const [key, group] of groups) entries.push(`${JSON.stringify(key)}:${aggregate(group, operation, valueField)}`);
  return jsonText(`{"groupBy":${JSON.stringify(groupBy)},"operation":"${operation}","groups":{${entries.join(',')}}}`);
});

function aggregate(group: Group, operation: Operation, valueField: string | undefined): string {
  if (operation === 'count') return String(valueField === undefined ? group.records : group.numeric);
  if (group.numeric === 0) return 'null';
  const value =
    operation === 'sum' ? group.sum : operation === 'avg' ? group.sum / group.numeric : operation === 'min' ? group.min : group.max;
  return JSON.stringify(value);
}

/** Key rules (docs/design.md §5.7): missing/null → "null", strings as they are, numbers as String(n), else compact JSON. */
function groupKey(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Own fields only: `record.constructor` must not find Object.prototype's. */
function ownField(record: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

function parseInput(input: unknown): {
  data: Record<string, unknown>[];
  groupBy: string;
  operation: Operation;
  valueField: string | undefined;
} {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError('input must be an object {data, groupBy, operation?, valueField?}');
  }
  const { data, groupBy, operation = null, valueField = null } = input as Record<string, unknown>;
  if (!Array.isArray(data)) throw new InvalidInputError('data must be an array of objects');
  for (const [i, record] of data.entries()) {
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new InvalidInputError(`data[${i}] must be an object`);
    }
  }
  if (typeof groupBy !== 'string') throw new InvalidInputError('groupBy must be a string (a field name)');
  const op = operation ?? 'count';
  if (typeof op !== 'string' || !OPERATIONS.has(op)) {
    throw new InvalidInputError(`operation must be one of count, sum, avg, min, max (got ${JSON.stringify(op)})`);
  }
  if (valueField !== null && typeof valueField !== 'string') throw new InvalidInputError('valueField must be a string');
  if (valueField === null && op !== 'count') throw new InvalidInputError(`valueField is required for operation "${op}"`);
  return { data: data as Record<string, unknown>[], groupBy, operation: op as Operation, valueField: valueField ?? undefined };
}
