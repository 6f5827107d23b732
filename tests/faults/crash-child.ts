/**
 * The app in its own process, for the crash tests: it sends one request and kills itself with
 * SIGKILL at a chosen point, as a crashed or redeployed process would stop:
 *   order-appended  right after an order's events were appended (its money moved, if a wallet paid)
 *   answer-stored   just before an Idempotency-Key's answer would be written
 */
import pg from 'pg';
import pino from 'pino';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createRuntime } from '../../src/runtime.js';
import { createServices } from '../../src/services.js';

const config = loadConfig(JSON.parse(process.env.CHILD_ENV ?? '{}') as NodeJS.ProcessEnv);
const logger = pino({ level: 'silent' });
const runtime = await createRuntime({ config, logger });
const services = await createServices(runtime);
const app = await buildApp(services, logger);
await app.ready();

const crash = () => process.kill(process.pid, 'SIGKILL');
if (process.env.KILL_AT === 'order-appended') services.orders.orders.onChange(crash);
if (process.env.KILL_AT === 'answer-stored') {
  const query = pg.Client.prototype.query as (...parameters: unknown[]) => unknown;
  pg.Client.prototype.query = function (this: pg.Client, ...parameters: unknown[]) {
    const text = typeof parameters[0] === 'string' ? parameters[0] : '';
    if (/idempotency_keys AS k SET status_code/i.test(text)) crash();
    return query.apply(this, parameters);
  } as typeof pg.Client.prototype.query;
}
const request = JSON.parse(process.env.CHILD_REQUEST ?? '{}') as {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
};
const response = await app.inject(request);
process.send?.({ statusCode: response.statusCode, body: response.body });
