/**
 * The inputs the runtime benches send, shaped like the load test's (k6/) so their figures and the
 * load test's can be read together: bench:runtimes and bench:exec use the same ones.
 */
export const PAYLOADS: Record<string, unknown> = {
  'word-stats': {
    text: 'The quick brown fox jumps over the lazy dog. The dog sleeps; the fox runs away into the forest, quick as ever.',
    topN: 5,
  },
  'json-transform': {
    data: Array.from({ length: 20 }, (_, i) => ({
      dept: ['eng', 'sales', 'hr', 'ops'][i % 4],
      salary: 50_000 + i * 1_750,
      age: 25 + (i % 17),
    })),
    groupBy: 'dept',
    operation: 'avg',
    valueField: 'salary',
  },
};
