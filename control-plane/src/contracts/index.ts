export * from './errors.js';
export * from './function-spec.js';
export * from './invocation.js';
export * from './metrics.js';
export * from './launch.js';
