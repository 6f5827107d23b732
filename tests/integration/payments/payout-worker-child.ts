/**
 * A payout worker in its own process, for the kill test: it processes one payout and, right after
 * the provider accepted the disbursement (before the reference is recorded or the hold posted),
 * tells the parent and hangs, so the parent can SIGKILL it at the worst moment.
 */
import pino from 'pino';
import { loadConfig } from '../../../src/config/index.js';
import { createRuntime } from '../../../src/runtime.js';
import { createServices } from '../../../src/services.js';
import type { DisburseRequest, DisburseResult } from '../../../src/modules/payments/providers/index.js';

const config = loadConfig(JSON.parse(process.env.CHILD_ENV ?? '{}') as NodeJS.ProcessEnv);
const runtime = await createRuntime({ config, logger: pino({ level: 'silent' }) });
const services = await createServices(runtime);
const adapter = services.payments.router.provider('campay') as {
  disburse(request: DisburseRequest): Promise<DisburseResult>;
};
const disburse = adapter.disburse.bind(adapter);
adapter.disburse = async (request) => {
  const result = await disburse(request);
  process.send?.({ disbursed: result.providerReference });
  await new Promise(() => undefined); // killed here
  return result;
};
process.send?.({ ready: true });
await services.payments.payouts.process(process.env.PAYOUT_ID ?? '');
process.send?.({ finished: true });
