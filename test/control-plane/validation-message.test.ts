/**
 * A value outside a union of constants (runtime, runtimeMode, …) is one problem with one line
 * naming the valid values, in `message` and in `details` alike, not one "must be equal to
 * constant" per allowed value.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../control-plane/src/config.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/src/control-plane.js';
import { validationDetails } from '../../control-plane/src/errors.js';
import { call, removeDir, tempStateDir } from './helpers.js';

let cp: ControlPlane;
let api: string;
const dir = tempStateDir();

beforeAll(async () => {
  const config = loadConfig({
    NANOFAAS_PORT: '0',
    NANOFAAS_MANAGEMENT_PORT: '0',
    NANOFAAS_STATE_DIR: dir,
    NANOFAAS_WORKLOAD_BACKEND: 'pool',
    NANOFAAS_LOG_LEVEL: 'silent',
  });
  cp = await createControlPlane(config, pino({ level: 'silent' }));
  api = (await cp.start()).apiUrl;
});

afterAll(async () => {
  await cp.close();
  removeDir(dir);
});

describe('validation messages', () => {
  it('an unknown runtime: one line listing the valid runtimes, and details saying the same', async () => {
    const answer = await call(api, 'POST', '/v1/functions', { name: 'x', runtime: 'nodejs', handler: 'h.js' });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'VALIDATION_ERROR',
      message: 'invalid body: body/runtime must be one of: node, python, java, exec',
      details: [{ path: '/runtime', message: 'must be one of: node, python, java, exec' }],
    });
  });

  it('other unions of constants read the same way', async () => {
    const answer = await call(api, 'POST', '/v1/functions', { name: 'x', endpointUrl: 'http://127.0.0.1:1', runtimeMode: 'TCP' });
    expect(answer.body.message).toBe('invalid body: body/runtimeMode must be one of: HTTP, STDIO, FILE');
    const strategy = await call(api, 'POST', '/v1/functions', {
      name: 'x',
      endpointUrl: 'http://127.0.0.1:1',
      scalingConfig: { strategy: 'KEDA' },
    });
    expect(strategy.body.message).toBe('invalid body: body/scalingConfig/strategy must be one of: NONE, INTERNAL, HPA');
  });

  it('errors that are not a union of constants pass through unchanged', () => {
    const errors = [
      {
        instancePath: '/a',
        schemaPath: '#/properties/a/anyOf/0/type',
        keyword: 'type',
        params: { type: 'string' },
        message: 'must be string',
      },
      {
        instancePath: '/a',
        schemaPath: '#/properties/a/anyOf/1/const',
        keyword: 'const',
        params: { allowedValue: 1 },
        message: 'must be equal to constant',
      },
      { instancePath: '/a', schemaPath: '#/properties/a/anyOf', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' },
      {
        instancePath: '',
        schemaPath: '#/required',
        keyword: 'required',
        params: { missingProperty: 'name' },
        message: "must have required property 'name'",
      },
    ];
    expect(validationDetails(errors).map((d) => d.message)).toEqual([
      'must be string',
      'must be equal to constant',
      'must match a schema in anyOf',
      "must have required property 'name'",
    ]);
  });
});
