import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assignVariant } from '../../../src/modules/recommendations/experiment-rules.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { NEAR, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/** Issue #24: the A/B framework, with the ranker experiment (model against popularity). */
const KEY = 'recommendations-ranker';
const VARIANTS = [
  { name: 'model', weight: 1 },
  { name: 'popularity', weight: 1 },
];
let world: OrderWorld;
let admin: CreatedUser;
let customers: CreatedUser[];

function call(method: 'GET' | 'POST', url: string, token: string, payload?: unknown) {
  return world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
}
const recommend = (token: string) =>
  call('GET', `/v1/recommendations?lat=${NEAR.latitude}&lng=${NEAR.longitude}&weather=dry`, token);

beforeAll(async () => {
  world = await orderWorld();
  admin = await createUser(world.testApp, { roles: ['admin'] });
  customers = await Promise.all(
    Array.from({ length: 12 }, () => createUser(world.testApp, { roles: ['customer'] })),
  );
  // The world's restaurant was created after the app started: read the catalog again.
  await world.testApp.services.recommendations.refresh();
});
afterAll(async () => world?.testApp.close());

describe('A/B experiments', () => {
  it('starts only a served experiment with valid variants, once; a retry answers the same; audited', async () => {
    const body = {
      key: KEY,
      description: 'ONNX ranker against popularity',
      variants: VARIANTS,
      control: 'popularity',
    };
    const forbidden = await call('POST', '/v1/admin/experiments', customers[0]!.accessToken, body);
    expect(forbidden.statusCode).toBe(403);

    for (const [bad, code] of [
      [{ ...body, key: 'checkout-colour' }, 'experiment_not_served'],
      [{ ...body, variants: [VARIANTS[0], { name: 'other', weight: 1 }] }, 'invalid_experiment'],
      [{ ...body, control: 'nobody' }, 'invalid_experiment'],
      [{ ...body, description: '   ' }, 'invalid_experiment'],
    ] as const) {
      const refused = await call('POST', '/v1/admin/experiments', admin.accessToken, bad);
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().code).toBe(code);
    }
    for (const bad of [
      { ...body, variants: [VARIANTS[0]] },
      { ...body, variants: [VARIANTS[0], { name: 'popularity', weight: 0 }] },
      { ...body, key: 'x\u0000y' },
      { ...body, extra: true },
      null,
    ]) {
      const refused = await call('POST', '/v1/admin/experiments', admin.accessToken, bad);
      expect(refused.statusCode, JSON.stringify(bad)).toBe(400);
    }
    expect((await call('GET', '/v1/admin/experiments', admin.accessToken)).json().items).toEqual([]);

    const started = await call('POST', '/v1/admin/experiments', admin.accessToken, body);
    expect(started.statusCode, started.body).toBe(201);
    expect(started.json()).toMatchObject({
      key: KEY,
      status: 'running',
      control: 'popularity',
      createdBy: admin.userId,
    });
    expect(started.headers.location).toBe(`/v1/admin/experiments/${KEY}`);
    const read = await call('GET', started.headers.location as string, admin.accessToken);
    expect(read.json()).toEqual(started.json());
    const again = await call('POST', '/v1/admin/experiments', admin.accessToken, body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(started.json());
    const changed = await call('POST', '/v1/admin/experiments', admin.accessToken, {
      ...body,
      variants: [VARIANTS[0], { name: 'popularity', weight: 3 }],
    });
    expect(changed.statusCode).toBe(409);
    expect(changed.json().code).toBe('experiment_exists');

    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'resource'])
      .where('resource', '=', `experiment:${KEY}`)
      .execute();
    expect(audit).toEqual([{ action: 'recommendations.experiment_started', resource: `experiment:${KEY}` }]);
  });

  it('serves each person their arm, always the same, and reports conversions with intervals', async () => {
    const arms = new Map<string, string>();
    for (const customer of customers) {
      const first = await recommend(customer.accessToken);
      expect(first.statusCode, first.body).toBe(200);
      const expected = assignVariant(KEY, customer.userId, VARIANTS);
      expect(first.json().experiment).toEqual({ key: KEY, variant: expected });
      expect(first.json().source, first.body).toBe(expected);
      const second = await recommend(customer.accessToken);
      expect(second.json().experiment.variant).toBe(expected);
      arms.set(customer.userId, expected);
    }
    // A guest is in no experiment.
    const guest = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/recommendations?lat=${NEAR.latitude}&lng=${NEAR.longitude}`,
    });
    expect(guest.json().experiment).toBeNull();

    // The first four customers order after their exposure: they convert.
    const buyers = customers.slice(0, 4);
    for (const buyer of buyers) {
      const placed = await placeOrder(world, buyer.accessToken, {
        items: [{ itemId: world.ndoleId, quantity: 1 }],
      });
      expect(placed.statusCode, placed.body).toBe(201);
    }
    await until(
      () =>
        world.testApp.services.db
          .selectFrom('reco_orders')
          .select('order_id')
          .where('placed_at', 'is not', null)
          .where(
            'customer_id',
            'in',
            buyers.map((buyer) => buyer.userId),
          )
          .execute(),
      (rows) => rows.length === buyers.length,
      // The projection catches up behind every other suite's writes on a loaded CI machine.
      30_000,
    );

    const report = await call('GET', `/v1/admin/experiments/${KEY}/report`, admin.accessToken);
    expect(report.statusCode, report.body).toBe(200);
    const body = report.json();
    expect(body.sessionMinutes).toBe(30);
    const count = (variant: string, people: CreatedUser[]) =>
      people.filter((person) => arms.get(person.userId) === variant).length;
    for (const variant of ['model', 'popularity']) {
      const row = body.variants.find((entry: { name: string }) => entry.name === variant);
      expect(row.exposed).toBe(count(variant, customers));
      expect(row.conversions).toBe(count(variant, buyers));
      expect(row.control).toBe(variant === 'popularity');
      if (row.exposed > 0) {
        expect(row.rate).toBeCloseTo(row.conversions / row.exposed, 10);
        expect(row.interval.low).toBeLessThanOrEqual(row.rate);
        expect(row.interval.high).toBeGreaterThanOrEqual(row.rate);
      }
    }
    const model = body.variants.find((entry: { name: string }) => entry.name === 'model');
    const control = body.variants.find((entry: { name: string }) => entry.name === 'popularity');
    expect(control.difference).toBeNull();
    if (model.exposed > 0 && control.exposed > 0) {
      expect(model.difference.estimate).toBeCloseTo(model.rate - control.rate, 10);
      expect(model.difference.interval.low).toBeLessThanOrEqual(model.difference.estimate);
    }

    // One row per person, counting their exposures.
    const person = customers[0]!;
    const rows = await world.testApp.services.db
      .selectFrom('experiment_exposures')
      .select(['variant', 'exposures'])
      .where('subject_id', '=', person.userId)
      .execute();
    expect(rows).toEqual([{ variant: arms.get(person.userId), exposures: 2 }]);
  });

  it('stops: everyone gets the model again, the figures stay; unknown keys are 404', async () => {
    const stopped = await call('POST', `/v1/admin/experiments/${KEY}/stop`, admin.accessToken);
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json().status).toBe('stopped');
    expect((await call('POST', `/v1/admin/experiments/${KEY}/stop`, admin.accessToken)).statusCode).toBe(200);
    // Each instance re-reads an experiment within 5 s.
    await until(
      () => recommend(customers[1]!.accessToken),
      (response) => response.json().experiment === null,
      15_000,
    );
    const after = await recommend(customers[1]!.accessToken);
    expect(after.json().source).toBe('model');
    const report = await call('GET', `/v1/admin/experiments/${KEY}/report`, admin.accessToken);
    expect(
      report.json().variants.reduce((sum: number, row: { exposed: number }) => sum + row.exposed, 0),
    ).toBe(12);
    const restart = await call('POST', '/v1/admin/experiments', admin.accessToken, {
      key: KEY,
      description: 'ONNX ranker against popularity',
      variants: VARIANTS,
      control: 'popularity',
    });
    expect(restart.statusCode).toBe(409);
    for (const url of [
      '/v1/admin/experiments/nothing-here/report',
      '/v1/admin/experiments/nothing-here/stop',
    ]) {
      const missing = await call(url.endsWith('stop') ? 'POST' : 'GET', url, admin.accessToken);
      expect(missing.statusCode).toBe(404);
      expect(missing.json().code).toBe('experiment_not_found');
    }
    expect(
      (await call('GET', `/v1/admin/experiments/${KEY}/report`, customers[0]!.accessToken)).statusCode,
    ).toBe(403);
  });
});
