import { catalogFunctionsToRemove } from '../../util/catalog.js';
import { StepFailure, type Step } from '../../pipeline/step.js';
import { formatArgv } from '../host/host.js';
import type { UpContext } from '../target.js';
import { readTokenArgv } from './api-token.js';
import { deleteRegisteredFunction, prometheusAnswers, registeredFunctions, smokeInvoke } from './api.js';
import type { DeployConfig } from './deploy-steps.js';
import { NAMESPACE } from './release.js';

/**
 * The last deploy step, through the API: every selected function registered (the chart's hook did
 * it), the catalog functions this run does not deploy removed, one smoke call each, Prometheus answers.
 */
export function smokeStep(cfg: Pick<DeployConfig, 'input' | 'access' | 'connect' | 'connectPlan' | 'apiToken'>): Step<UpContext> {
  const { access, input } = cfg;
  return {
    title: `Smoke-test ${input.functions.length} demo functions`,
    plan: () => [
      ...cfg.connectPlan,
      `${formatArgv(access.host.commandFor(readTokenArgv(access.kubectl)))}  (the API token, unless NANOFAAS_API_TOKEN is set)`,
      'GET  <api>/v1/functions',
      'DELETE <api>/v1/functions/<name>  for each catalog function registered there but not selected by this run (functions under other names are kept)',
      ...input.functions.map((fn) => `POST <api>/v1/functions/${fn.name}:invoke  (${fn.workload} smoke payload, expect 200)`),
      'GET  <prometheus>/api/v1/query?query=up  (expect 200)',
    ],
    run: async (ctx, io) => {
      const token = await cfg.apiToken();
      io.log(token ? "API token: from the environment or the chart's Secret" : 'API token: none (the release has auth.enabled=false)');
      const conn = await cfg.connect();
      try {
        const { apiUrl, prometheusUrl } = conn.endpoints;
        io.target(`${apiUrl}/v1/functions`);
        const registered = new Set(await registeredFunctions(apiUrl, token));
        const missing = input.functions.filter((fn) => !registered.has(fn.name)).map((fn) => fn.name);
        if (missing.length > 0) {
          throw new StepFailure(`not registered: ${missing.join(', ')}`, {
            command: `GET ${apiUrl}/v1/functions`,
            hint: `the chart's registration hook registers them; see ${formatArgv(access.host.commandFor([...access.kubectl, '-n', NAMESPACE, 'logs', '-l', 'app.kubernetes.io/component=register', '--tail=50']))}`,
          });
        }
        // The chart's hook only adds; an earlier `up` with a wider selection left the others registered.
        const remove = catalogFunctionsToRemove(
          input.catalog,
          [...registered],
          input.functions.map((fn) => fn.name),
        );
        for (const name of remove) {
          await deleteRegisteredFunction(apiUrl, name, token);
          io.log(`${name}: removed (not selected by this run)`);
        }
        ctx.removed = [...(ctx.removed ?? []), ...remove];
        const outcomes = await Promise.all(input.functions.map((fn) => smokeInvoke(apiUrl, fn, token)));
        for (const o of outcomes) io.log(`${o.name}: ${o.smoke?.ok ? `200 in ${o.smoke.ms} ms` : (o.smoke?.message ?? o.skipped)}`);
        ctx.functions.push(...outcomes);
        const failed = outcomes.filter((o) => o.smoke && !o.smoke.ok);
        if (failed.length > 0) {
          throw new StepFailure(
            `${failed.length} of ${outcomes.length} smoke invocations failed: ${failed.map((o) => `${o.name} (${o.smoke?.message})`).join('; ')}`,
            {
              command: `POST ${apiUrl}/v1/functions/<name>:invoke`,
              hint: `run \`${input.suggest('doctor')}\`; exec functions need runtimeMode STDIO`,
            },
          );
        }
        if (prometheusUrl) {
          io.target(`${prometheusUrl}/api/v1/query?query=up`);
          await prometheusAnswers(prometheusUrl);
          io.log(`Prometheus answers at ${prometheusUrl}`);
        }
        ctx.endpoints = conn.endpoints;
      } finally {
        await conn.close();
      }
    },
  };
}
