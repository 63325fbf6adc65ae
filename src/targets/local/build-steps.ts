import type { Step } from '../../pipeline/step.js';
import { displayCommand } from '../../util/process.js';
import type { UpContext } from '../target.js';
import { handlerArtifact, hasScript, javaUpToDate, tscCommand, typescriptUpToDate } from './build.js';
import type { LocalUp } from './up-state.js';

/** `tsc -b` and the Java jars, each skipped when what it builds is up to date (or --skip-build). */
export function buildSteps(up: LocalUp): Step<UpContext>[] {
  const { rootDir } = up.target;
  const { options } = up;
  const javaJars = () =>
    up.runnable
      .filter((f) => f.runtime === 'java')
      .map((f) => handlerArtifact(f)!)
      .filter(Boolean);
  return [
    {
      title: 'Build TypeScript (tsc -b)',
      skip: () => {
        if (options.skipBuild) return 'SKIP_BUILD';
        if (!tscCommand(rootDir)) return 'typescript not installed; using the shipped dist/';
        const state = typescriptUpToDate(rootDir);
        return state.upToDate ? state.reason : false;
      },
      plan: () => {
        const [node, ...args] = tscCommand(rootDir) ?? ['tsc', '-b'];
        return [displayCommand(node!, args)];
      },
      async run(_ctx, io) {
        const [node, ...args] = tscCommand(rootDir)!;
        await io.exec(node!, args, {
          cwd: rootDir,
          timeoutMs: 300_000,
          hint: `fix the compiler errors above, then rerun \`${up.target.suggest('up')}\``,
        });
      },
    },
    {
      title: 'Build Java functions (npm run build:java)',
      skip: () => {
        const jars = javaUpToDate(rootDir, javaJars());
        if (javaJars().length === 0) return 'no Java functions to run';
        if (options.skipBuild) return 'SKIP_BUILD';
        if (!hasScript(rootDir, 'build:java')) return 'no build:java script in this build';
        return jars.upToDate ? jars.reason : false;
      },
      plan: () => ['npm run --silent build:java'],
      async run(_ctx, io) {
        await io.exec('npm', ['run', '--silent', 'build:java'], {
          cwd: rootDir,
          timeoutMs: 600_000,
          hint: 'Maven runs offline (`mvn -o`): check ~/.m2, or skip Java with --runtimes node,python,exec',
        });
      },
    },
  ];
}
