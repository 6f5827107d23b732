/**
 * The tracing preload: `node --import ./dist/src/telemetry/register.js dist/src/server.js` (and
 * `tsx --import ./src/telemetry/register.ts` in development). It must run before the app's
 * modules load, so that pg, ioredis, BullMQ and Fastify are instrumented as they are imported.
 *
 * With no OTLP endpoint configured it does nothing: no SDK is loaded, no module hook is
 * registered, and the app's spans (tracing.ts) stay a flag check.
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import { telemetrySettings } from './settings.js';

const decision = telemetrySettings();
if (decision.on) {
  // ESM modules are wrapped only when an instrumentation asked for them (pg, ioredis, bullmq…):
  // the rest of the app loads as it would without tracing.
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  const { startTracing } = await import('./sdk.js');
  startTracing(decision.settings);
  await waitForAllMessagesAcknowledged();
} else if (decision.reason === 'invalid') {
  // Boot refuses the same values and names them (exit 78); here only say why tracing is off.
  process.stderr.write(`tracing off: invalid ${decision.variables.join(', ')}\n`);
}
