/**
 * Group and bulk order notices (docs/community.md "Notices") against the real stack: the notify
 * context's intents (the in-app centre) recorded by the group cart's own flow over HTTP, each
 * fact once per recipient, a fact told again (a replay, a second instance) recording nothing, and
 * a bulk order's notice rendered in its recipient's language.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { filledCart, fundedCustomer, groupCalls, groupWorld } from './group-helpers.js';

let world: OrderWorld;
let calls: ReturnType<typeof groupCalls>;
const services = () => world.testApp.services;

beforeAll(async () => {
  world = await groupWorld();
  calls = groupCalls(world);
}, 240_000);
afterAll(async () => world?.testApp.close());

async function intentsOf(sourcePrefix: string) {
  return services()
    .db.selectFrom('notification_intents')
    .select(['recipient_id', 'kind', 'order_id'])
    .where('source_event_id', 'like', `${sourcePrefix}%`)
    .orderBy('kind')
    .orderBy('recipient_id')
    .execute();
}

describe('group cart notices', () => {
  it('joined, shares due, shares paid and placed: each told once to whom it concerns; a replay records nothing', async () => {
    const [host, ana, ben] = await Promise.all([
      fundedCustomer(world),
      fundedCustomer(world),
      fundedCustomer(world),
    ]);
    const cart = await filledCart(world, host, [ana, ben]);
    expect((await calls.join(ana, cart.code)).statusCode).toBe(200); // joining twice tells nothing more
    const locked = await calls.lock(host, cart.id, 'split');
    expect(locked.statusCode, locked.body).toBe(200);
    for (const user of [ana, ben, host]) expect((await calls.pay(user, cart.id)).statusCode).toBe(200);
    const view = (await calls.read(host, cart.id)).json();
    expect(view.status).toBe('placed');
    const told = await intentsOf(`group-cart:${cart.id}:`);
    const of = (kind: string) =>
      told
        .filter((row) => row.kind === kind)
        .map((row) => row.recipient_id)
        .sort();
    expect(of('group.member_joined')).toEqual([host.userId, host.userId]);
    expect(of('group.share_due')).toEqual([ana.userId, ben.userId].sort());
    expect(of('group.share_paid')).toEqual([host.userId, host.userId]);
    expect(of('group.placed')).toEqual([host.userId, ana.userId, ben.userId].sort());
    expect(told.find((row) => row.kind === 'group.placed')?.order_id).toBe(view.orderId);

    // The same fact told again (a replay, another instance): nothing new.
    const again = await services().notify.groupCartNotice({
      cartId: cart.id,
      code: cart.code,
      event: 'placed',
      recipients: [{ userId: host.userId }, { userId: ana.userId }, { userId: ben.userId }],
      orderId: view.orderId,
    });
    expect(again.created).toBe(0);
    expect(await intentsOf(`group-cart:${cart.id}:`)).toHaveLength(told.length);

    // Ana's centre shows it in her language.
    const centre = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/notifications',
      headers: authHeader(ana.accessToken),
    });
    expect(centre.statusCode, centre.body).toBe(200);
    const kinds = centre.json().items.map((item: { kind: string }) => item.kind);
    expect(kinds).toEqual(expect.arrayContaining(['group.share_due', 'group.placed']));
  });

  it('an abandoned cart tells the members, not the host', async () => {
    const [host, ana] = await Promise.all([fundedCustomer(world), fundedCustomer(world)]);
    const cart = await filledCart(world, host, [ana]);
    expect((await calls.abandon(host, cart.id)).statusCode).toBe(200);
    const told = await intentsOf(`group-cart:${cart.id}:abandoned`);
    expect(told.map((row) => [row.kind, row.recipient_id])).toEqual([['group.abandoned', ana.userId]]);
  });
});

describe('bulk order notices', () => {
  it('a notice is recorded once per fact and rendered with its amount', async () => {
    const customer = await fundedCustomer(world);
    const id = '6f0c2a52-5d0e-4a43-9a1e-2d6a1c4b7e10';
    const notice = {
      bulkOrderId: id,
      event: 'confirmed' as const,
      recipientId: customer.userId,
      scheduledFor: new Date('2026-12-10T11:30:00Z'),
      amountMinor: 42_000,
      deadline: new Date('2026-12-10T05:30:00Z'),
    };
    expect((await services().notify.bulkOrderNotice(notice)).created).toBe(true);
    expect((await services().notify.bulkOrderNotice(notice)).created).toBe(false);
    const centre = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/notifications',
      headers: { ...authHeader(customer.accessToken) },
    });
    const item = centre.json().items.find((each: { kind: string }) => each.kind === 'bulk.confirmed');
    expect(item.body).toMatch(/10\/12 12:30/);
    expect(item.body).toMatch(/42/);
  });
});
