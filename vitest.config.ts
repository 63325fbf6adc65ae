import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The unit lane (`npm run test:unit`, project "unit"): tests that start no process and open no
 * socket, not even on 127.0.0.1 (so no fastify inject either: nothing here needs it), and need no
 * build. Clocks are fake timers or injected; files, temp dirs and in-process calls are fine.
 * test/unit-guard.ts makes spawning, listening and connecting throw there. A new test of that kind
 * is named *.unit.test.ts; older ones are listed. Everything else is the "integration" project.
 * `npm test` runs both projects, each file exactly once.
 */
const UNIT = [
  'test/**/*.unit.test.ts',
  'test/cli/catalog.test.ts',
  'test/cli/engines.test.ts',
  'test/cli/help-wording.test.ts',
  'test/cli/units.test.ts',
  'test/control-plane/invoker-callback.test.ts',
  'test/control-plane/units.test.ts',
  'test/grafana/dashboard.test.ts',
  'test/kubernetes/scaler.test.ts',
  'test/loadtest/k6-parity.test.ts',
  'test/loadtest/profile.test.ts',
  'test/loadtest/stats.test.ts',
  'test/process-backend/launch.test.ts',
  'test/report/report.test.ts',
];

/**
 * The quiet lane: checks whose figure depends on how busy the machine is (the client's and the
 * control plane's clocks agreeing within 25 %), run after every other file, alone.
 */
const QUIET = ['test/loadtest/prometheus-agreement.test.ts'];

// Tests import workspace packages from their TypeScript sources (the "source" export condition);
// suites that spawn real processes run the built dist/ output, which `npm test` builds first.
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    pool: 'forks',
    // Two cores: suites start real servers and runtimes, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      // Threads sharing one module graph: these files hold no process-wide state, and importing the
      // sources once instead of once per file is most of the lane's time.
      { extends: true, test: { name: 'unit', include: UNIT, setupFiles: ['test/unit-guard.ts'], pool: 'threads', isolate: false } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...UNIT, ...QUIET] },
      },
      { extends: true, test: { name: 'quiet', include: QUIET, sequence: { groupOrder: 1 } } },
    ],
  },
});
