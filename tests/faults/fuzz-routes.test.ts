/**
 * Schema-driven fuzzing of every route in the OpenAPI document (/docs/json): path parameters,
 * query strings and JSON bodies come from each route's own schemas, spoiled with NUL and lone
 * surrogates, null for any field, oversized strings and arrays and values of the wrong type, and
 * sent as each role. No answer may be a 5xx (503 included: nothing here is down), and a 4xx
 * changes nothing: the business tables' digest and the event store are the same after it.
 *
 * Fixed seed, a bounded number of runs per route; on failure fast-check prints the seed, the
 * path and the counterexample (FUZZ_SEED and FUZZ_RUNS override them).
 */
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WALLET_CURRENCIES } from '../../src/modules/payments/wallet-service.js';
import { authHeader, withStepUp } from '../helpers/auth.js';
import { placeOrder, orderWorld, type OrderWorld } from '../integration/orders/helpers.js';
import { hostile, valid, type JsonSchema } from './schema-arbitraries.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_204);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 5);

/**
 * Tables left out of the digest. A refused request may write some by design: the stored 4xx
 * answer of an Idempotency-Key, sign-in and code-entry bookkeeping (failed attempts, lockouts,
 * audit, admin activity), and a driver's position refused for an impossible speed (flagged for
 * fraud review). Others are written in the background, whatever a request does: the
 * reactors' and projections' checkpoints, the ledger writer's snapshots, the outbox, and the
 * notifications the notify reactor derives from events and its queues send (intents, deliveries,
 * dead letters), the loyalty award reactor's decisions (`loyalty_awards`), and dispatch's record
 * of the daily rounds it has run (`dispatch_daily_runs`, written by its hourly catch-up), the
 * weather history (`weather_readings`, written behind any request that reads the weather), the
 * USSD orders' owed SMS (`ussd_order_sms`, sent and swept by jobs), bulk orders (`bulk_orders`:
 * the minute sweep expires, cancels and places them whatever a request does), and the newsletter
 * job's place and status in each campaign (`admin_newsletter_campaigns`, written every minute).
 * (Projections' read models live in their own schemas, outside the digest.)
 */
const LEFT_OUT =
  /^(idempotency_keys|login_attempts|sessions|audit_logs|phone_verifications|password_resets|system_state|projection_generations|notification_outbox|notification_(intents|deliveries|dead_letters)|order_settlements|bulk_orders|driver_location_flags|dispatch_daily_runs|weather_readings|admin_newsletter_campaigns|loyalty_awards|ussd_order_sms|kysely_migration.*|.*_reactor_checkpoints|ledger_snapshot.*)$/;

/** Events a refused request appends by design: failed guesses counted towards a lockout. */
const RECORDED_REFUSALS = ['OrderPickupCodeRejected', 'OrderDeliveryPinRejected'];

/** Routes that are not JSON APIs or that stop the server's own machinery. */
const SKIPPED = [/^\/docs/, /^\/health\//, /^\/metrics$/, /^\/v1\/files$/, /\/ws$/, /^\/v1\/realtime/];

/**
 * Routes that end the caller's own session or account (log out, delete me, change password or
 * second factor): fuzzed as an anonymous caller only, so that the roles' tokens stay valid.
 */
const ENDS_OWN_SESSION =
  /^(POST \/v1\/auth\/logout|DELETE \/v1\/me|POST \/v1\/me\/password|POST \/v1\/auth\/2fa\/(disable|enable|setup)|POST \/v1\/auth\/guest\/convert|DELETE \/v1\/me\/sessions\/\{id\})$/;

interface Operation {
  method: string;
  path: string;
  parameters: { in: string; name: string; required?: boolean; schema: JsonSchema }[];
  body?: JsonSchema;
}

let world: OrderWorld;
let tokens: Record<string, string | undefined>;
let known: { restaurantId: string; itemId: string; orderId: string };
let operations: Operation[];

beforeAll(async () => {
  // The dispatcher works in the background after an accepted order (offers, its stream): off
  // here, so that a 2xx accept's dispatch does not land while a later refusal is being checked.
  world = await orderWorld({
    ORDERS_PAYMENT_PORT: 'test',
    LOG_LEVEL: 'silent',
    DISPATCH_MATCHING_ENABLED: 'false',
  });
  const { actors, driver, support } = world;
  tokens = {
    anonymous: undefined,
    customer: actors.customer.accessToken,
    owner: actors.owner.accessToken,
    driver: driver.accessToken,
    support: support.accessToken,
    admin: await withStepUp(world.testApp, actors.admin),
  };
  // Wallets open on first use (an empty row): opened now, so that a refusal later changes nothing.
  for (const user of [actors.customer, actors.owner, actors.admin, driver, support])
    for (const currency of WALLET_CURRENCIES)
      await world.testApp.services.payments.wallets.ensure(user.userId, currency);
  const placed = await placeOrder(world, actors.customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  known = { restaurantId: world.restaurantId, itemId: world.ndoleId, orderId: placed.json().id as string };
  const document = (await world.testApp.app.inject({ method: 'GET', url: '/docs/json' })).json() as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Operation['parameters'];
          requestBody?: { content?: Record<string, { schema: JsonSchema }> };
        }
      >
    >;
  };
  operations = Object.entries(document.paths)
    .filter(([path]) => !SKIPPED.some((pattern) => pattern.test(path)))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        method: method.toUpperCase(),
        path,
        parameters: operation.parameters ?? [],
        body: operation.requestBody?.content?.['application/json']?.schema,
      })),
    );
}, 120_000);
afterAll(async () => world?.testApp.close());

/**
 * What of a row counts: the whole row, but for a stream only its name (an append, refused
 * guesses included, moves its revision; the events themselves are compared without those), and
 * for a wallet all but when the auto-top-up sweep last looked at it (its cron, every ten minutes,
 * stamps a wallet a fuzzed settings request set up whenever a run crosses a ten-minute mark).
 */
const rowOf = (table: string) =>
  table === 'eventstore_streams'
    ? sql`t.stream_id`
    : table === 'wallets'
      ? sql`(to_jsonb(t) - 'auto_topup_last_at')::text`
      : sql`t::text`;

/** One md5 over every business table's rows, and the event store's size. */
async function digest(): Promise<string> {
  const db = world.testApp.services.db;
  const tables = await sql<{ name: string }>`
    SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`.execute(db);
  const parts = tables.rows
    .map((row) => row.name)
    .filter((name) => !LEFT_OUT.test(name))
    .map(
      (name) =>
        // A spending counter at zero is the same as none (a refused top-up gives back what it
        // counted). A wrong pickup code or delivery PIN is refused (422) AND recorded by design:
        // the record is what locks the guesser out (issue #15, item 12). A position refused for an
        // impossible speed is reported to fraud review by design (its signal and, at the count,
        // its case), as it is flagged in `driver_location_flags`.
        sql`SELECT ${name} AS name, md5(coalesce(string_agg(md5(${rowOf(name)}), '' ORDER BY md5(${rowOf(name)})), '')) AS hash FROM ${sql.table(name)} t
             ${
               name === 'wallet_spending'
                 ? sql`WHERE t.spent_minor <> 0`
                 : name === 'eventstore_events'
                   ? sql`WHERE t.type NOT IN (${sql.join(RECORDED_REFUSALS.map((type) => sql.lit(type)))})`
                   : name === 'admin_fraud_signals'
                     ? sql`WHERE t.source_id NOT LIKE 'dispatch-flag:%'`
                     : name === 'admin_fraud_cases'
                       ? sql`WHERE t.rule <> 'impossible_movement'`
                       : sql``
             }`,
    );
  const result = await sql<{ name: string; hash: string }>`${sql.join(parts, sql` UNION ALL `)}`.execute(db);
  return result.rows.map((row) => `${row.name}:${row.hash}`).join('\n');
}

/** The tables whose rows differ between two digests. */
function changedTables(before: string, after: string): string[] {
  const earlier = new Set(before.split('\n'));
  return after
    .split('\n')
    .filter((line) => !earlier.has(line))
    .map((line) => line.split(':')[0]!);
}

function parameterValue(name: string, schema: JsonSchema): fc.Arbitrary<unknown> {
  const real = name === 'id' || /Id$/.test(name) ? [known.restaurantId, known.itemId, known.orderId] : [];
  return fc.oneof(
    { weight: 2, arbitrary: real.length > 0 ? fc.constantFrom(...real) : valid(schema) },
    { weight: 2, arbitrary: valid(schema) },
    { weight: 1, arbitrary: hostile(schema) },
  );
}

/**
 * The roles that get past authentication and access on this route (a first request as each):
 * fuzzing mostly as them reaches the code behind; anonymous callers are still tried now and then.
 */
async function admittedRoles(operation: Operation): Promise<string[]> {
  if (ENDS_OWN_SESSION.test(`${operation.method} ${operation.path}`)) return ['anonymous'];
  const admitted: string[] = [];
  for (const [role, token] of Object.entries(tokens)) {
    const response = await world.testApp.app.inject({
      method: operation.method as 'POST',
      url: urlOf(
        operation,
        operation.parameters.filter((parameter) => parameter.in === 'path').map(() => known.orderId),
        {},
      ),
      headers: token === undefined ? {} : authHeader(token),
      ...(operation.body === undefined ? {} : { payload: {} }),
    });
    if (response.statusCode !== 401 && response.statusCode !== 403) admitted.push(role);
  }
  return admitted;
}

function requestOf(operation: Operation, roles: string[]) {
  const inPath = operation.parameters.filter((parameter) => parameter.in === 'path');
  const inQuery = operation.parameters.filter((parameter) => parameter.in === 'query');
  const querySchema: JsonSchema = {
    type: 'object',
    properties: Object.fromEntries(inQuery.map((parameter) => [parameter.name, parameter.schema])),
    required: inQuery.filter((parameter) => parameter.required === true).map((parameter) => parameter.name),
  };
  return fc.record({
    role: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...(roles.length > 0 ? roles : Object.keys(tokens))) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...(roles.includes('anonymous') ? ['anonymous'] : Object.keys(tokens))),
      },
    ),
    path: fc.tuple(...inPath.map((parameter) => parameterValue(parameter.name, parameter.schema))),
    query: inQuery.length === 0 ? fc.constant({}) : fc.oneof(valid(querySchema), hostile(querySchema)),
    body:
      operation.body === undefined
        ? fc.constant(undefined)
        : fc.oneof(valid(operation.body), hostile(operation.body)),
    key: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{16}$/), fc.constantFrom('k\u0000eyeyeyey', 'short', '')),
  });
}

/** A lone surrogate has no UTF-8 form: it goes as the bytes of an encoded surrogate (invalid UTF-8). */
function encodedSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return `${encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, ''))}%ED%A0%80`;
  }
}

function urlOf(operation: Operation, path: unknown[], query: Record<string, unknown>): string {
  let index = 0;
  const filled = operation.path.replace(/\{[^}]+\}/g, () => encodedSegment(String(path[index++])));
  const search = new URLSearchParams();
  const fields = typeof query === 'object' && query !== null && !Array.isArray(query) ? query : {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value])
      search.append(name, typeof item === 'string' ? item : JSON.stringify(item));
  }
  const text = search.toString();
  return text === '' ? filled : `${filled}?${text}`;
}

describe('every route under schema-driven fuzzing', () => {
  it('answers no 5xx, and a 4xx changes nothing', { timeout: 900_000 }, async () => {
    expect(operations.length).toBeGreaterThan(80);
    const statuses = new Map<number, number>();
    for (const [index, operation] of operations.entries()) {
      const roles = await admittedRoles(operation);
      await fc.assert(
        fc.asyncProperty(requestOf(operation, roles), async (generated) => {
          const before = await digest();
          const token = tokens[generated.role];
          const response = await world.testApp.app.inject({
            method: operation.method as 'POST',
            url: urlOf(operation, generated.path, generated.query as Record<string, unknown>),
            headers: {
              ...(token === undefined ? {} : authHeader(token)),
              ...(generated.key === '' ? {} : { 'idempotency-key': generated.key }),
              ...(generated.body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(generated.body === undefined ? {} : { payload: JSON.stringify(generated.body) }),
          });
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const where = `${operation.method} ${operation.path} as ${generated.role}: ${response.statusCode} ${response.body.slice(0, 300)}`;
          expect(response.statusCode, where).toBeLessThan(500);
          if (response.statusCode >= 400) expect(changedTables(before, await digest()), where).toEqual([]);
          // An admin's valid request may switch maintenance on: every later route's writes would
          // then be 503 by design, so it is switched off again before the next request.
          if (operation.path === '/v1/admin/maintenance' && response.statusCode < 300)
            await world.testApp.services.admin.maintenance.set({ enabled: false }, { kind: 'system' });
        }),
        { seed: SEED + index, numRuns: RUNS_PER_ROUTE, endOnFailure: true },
      );
    }
    // The fuzzing reached past validation: some requests were accepted.
    expect([...statuses.keys()].some((status) => status < 300)).toBe(true);
  });
});
