// Public API for function authors: `import { defineFunction, InvalidInputError } from '@nanofaas/runtime-node'`.
export { defineFunction, jsonText, JsonText, type FunctionContext, type FunctionHandler } from './define.js';
export { InvalidInputError } from './errors.js';
