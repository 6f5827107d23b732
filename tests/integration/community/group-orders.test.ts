/**
 * Group orders (docs/community.md, "Group orders"), against the real PostgreSQL and ledger: three
 * phones share a cart and each pays their share; the host covers the rest; an abandoned or
 * expired cart gives each paid share back once; members only see the cart, only the host locks,
 * and bad input changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { until } from '../payments/helpers.js';
import type { OrderWorld } from '../orders/helpers.js';
import { filledCart, fundedCustomer, groupCalls, groupWorld } from './group-helpers.js';

let world: OrderWorld;
let calls: ReturnType<typeof groupCalls>;

beforeAll(async () => {
  world = await groupWorld();
  calls = groupCalls(world);
}, 240_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;

async function trio(): Promise<[CreatedUser, CreatedUser, CreatedUser]> {
  return Promise.all([fundedCustomer(world), fundedCustomer(world), fundedCustomer(world)]);
}

describe('group orders', () => {
  it('three phones share a cart, each pays their share from the wallet, and the order is placed once', async () => {
    const [host, ana, ben] = await trio();
    const cart = await filledCart(world, host, [ana, ben]);
    // A friend types the code in lower case with a dash: the same cart; joining again is harmless.
    const again = await calls.join(ana, `${cart.code.slice(0, 4).toLowerCase()}-${cart.code.slice(4)}`);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().members).toHaveLength(3);

    const locked = await calls.lock(host, cart.id, 'split', 300);
    expect(locked.statusCode, locked.body).toBe(200);
    const view = locked.json();
    expect(view.status).toBe('locked');
    const shareOf = (user: CreatedUser) =>
      BigInt(view.shares.find((share: { payerId: string }) => share.payerId === user.userId).amountMinor);
    const total = BigInt(view.totalMinor);
    expect(shareOf(host) + shareOf(ana) + shareOf(ben)).toBe(total);
    // Each pays in proportion to their food: two juices (1 000) against one ndolé (2 500) each.
    expect(shareOf(ana)).toBe(shareOf(ben) + (shareOf(ana) === shareOf(ben) ? 0n : 1n));
    expect(shareOf(host) < shareOf(ana)).toBe(true);

    const before = {
      host: await calls.balance(host),
      ana: await calls.balance(ana),
      ben: await calls.balance(ben),
    };
    const key = 'group-share-ana-1';
    const paid = await calls.pay(ana, cart.id, key);
    expect(paid.statusCode, paid.body).toBe(200);
    // The same request again (its answer was lost) and another key: the share is paid once.
    expect((await calls.pay(ana, cart.id, key)).json()).toEqual(paid.json());
    expect((await calls.pay(ana, cart.id)).statusCode).toBe(200);
    expect(await calls.balance(ana)).toBe(before.ana - shareOf(ana));
    expect(await calls.escrow(cart.id)).toBe(shareOf(ana));

    expect((await calls.pay(ben, cart.id)).statusCode).toBe(200);
    const last = await calls.pay(host, cart.id);
    expect(last.statusCode, last.body).toBe(200);
    const placed = last.json().cart;
    expect(placed.status).toBe('placed');
    expect(placed.orderId).toEqual(expect.any(String));

    const order = await services().orders.orders.find(placed.orderId);
    expect(order?.state.status).toBe('PLACED');
    expect(BigInt(order!.state.order!.pricing.totalMinor)).toBe(total);
    expect(order!.state.order!.customer.id).toBe(host.userId);
    expect(order!.state.order!.lines.map((line) => line.quantity).sort()).toEqual([1, 1, 2]);
    // Every franc accounted for: each paid their share once, the escrow is empty.
    expect(await calls.balance(ana)).toBe(before.ana - shareOf(ana));
    expect(await calls.balance(ben)).toBe(before.ben - shareOf(ben));
    expect(await calls.balance(host)).toBe(before.host - shareOf(host));
    expect(await calls.escrow(cart.id)).toBe(0n);
    // Every member sees the placed cart; the sweep finds nothing more to do.
    expect((await calls.read(ben, cart.id)).json().orderId).toBe(placed.orderId);
    await services().community.groups.sweep(new Date(Date.now() + 10 * 60_000));
    expect(await calls.balance(ana)).toBe(before.ana - shareOf(ana));
  });

  it('the host covers what the others did not pay; their shares are waived', async () => {
    const [host, ana, ben] = await trio();
    const cart = await filledCart(world, host, [ana, ben]);
    const view = (await calls.lock(host, cart.id, 'split')).json();
    const total = BigInt(view.totalMinor);
    const anaShare = BigInt(
      view.shares.find((share: { payerId: string }) => share.payerId === ana.userId).amountMinor,
    );
    const before = { host: await calls.balance(host), ben: await calls.balance(ben) };
    expect((await calls.pay(ana, cart.id)).statusCode).toBe(200);
    const covered = await calls.cover(host, cart.id);
    expect(covered.statusCode, covered.body).toBe(200);
    expect(covered.json().status).toBe('placed');
    expect(covered.json().shares).toContainEqual(
      expect.objectContaining({ payerId: ben.userId, status: 'waived' }),
    );
    expect(await calls.balance(host)).toBe(before.host - (total - anaShare));
    expect(await calls.balance(ben)).toBe(before.ben);
    expect(await calls.escrow(cart.id)).toBe(0n);
    // Ben's late payment is not taken.
    const late = await calls.pay(ben, cart.id);
    expect(late.statusCode).toBe(200);
    expect(await calls.balance(ben)).toBe(before.ben);
  });

  it('an abandoned cart gives each paid share back once, and a second abandon changes nothing', async () => {
    const [host, ana, ben] = await trio();
    const cart = await filledCart(world, host, [ana, ben]);
    expect((await calls.lock(host, cart.id, 'split')).statusCode).toBe(200);
    const before = { ana: await calls.balance(ana), ben: await calls.balance(ben) };
    expect((await calls.pay(ana, cart.id)).statusCode).toBe(200);
    expect((await calls.pay(ben, cart.id)).statusCode).toBe(200);
    expect(await calls.balance(ana)).toBeLessThan(before.ana);

    // Only the host abandons.
    expect((await calls.abandon(ana, cart.id)).json().code).toBe('group_cart_host_only');
    const abandoned = await calls.abandon(host, cart.id);
    expect(abandoned.statusCode, abandoned.body).toBe(200);
    expect(abandoned.json().status).toBe('abandoned');
    expect(
      abandoned.json().shares.filter((share: { status: string }) => share.status === 'refunded'),
    ).toHaveLength(2);
    expect((await calls.abandon(host, cart.id)).statusCode).toBe(200);
    await services().community.groups.sweep(new Date(Date.now() + 10 * 60_000));
    expect(await calls.balance(ana)).toBe(before.ana);
    expect(await calls.balance(ben)).toBe(before.ben);
    expect(await calls.escrow(cart.id)).toBe(0n);
    // Nothing more can be paid towards it.
    expect((await calls.pay(host, cart.id)).json().code).toBe('group_cart_state');
  });

  it('an expired cart refunds its paid shares through the sweep; a share after expiry is refused', async () => {
    const [host, ana] = await Promise.all([fundedCustomer(world), fundedCustomer(world)]);
    const cart = await filledCart(world, host, [ana]);
    expect((await calls.lock(host, cart.id, 'split')).statusCode).toBe(200);
    const before = await calls.balance(ana);
    expect((await calls.pay(ana, cart.id)).statusCode).toBe(200);
    const counts = await services().community.groups.sweep(new Date(Date.now() + 24 * 60 * 60_000));
    expect(counts.expired).toBeGreaterThanOrEqual(1);
    const view = (await calls.read(host, cart.id)).json();
    expect(view.status).toBe('expired');
    expect(await calls.balance(ana)).toBe(before);
    expect(await calls.escrow(cart.id)).toBe(0n);
    const late = await calls.pay(host, cart.id);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('group_cart_state');
  });

  it('members only: a stranger gets 404, a member cannot lock, a driver is refused, and nothing changes', async () => {
    const [host, ana] = await Promise.all([fundedCustomer(world), fundedCustomer(world)]);
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    const cart = await filledCart(world, host, [ana]);
    const seen = await calls.read(stranger, cart.id);
    expect(seen.statusCode).toBe(404);
    expect(seen.headers['content-type']).toContain('application/problem+json');
    expect((await calls.lines(stranger, cart.id, [{ itemId: world.ndoleId, quantity: 1 }])).statusCode).toBe(
      404,
    );
    expect((await calls.pay(stranger, cart.id)).statusCode).toBe(404);
    const memberLock = await calls.lock(ana, cart.id, 'split');
    expect(memberLock.statusCode).toBe(403);
    expect(memberLock.json().code).toBe('group_cart_host_only');
    const driver = await calls.open(world.driver);
    expect(driver.statusCode).toBe(403);
    const anonymous = await calls.inject({ method: 'GET', url: `/v1/group-carts/${cart.id}` });
    expect(anonymous.statusCode).toBe(401);
    expect((await calls.read(host, cart.id)).json().status).toBe('open');
  });

  it('refuses bad input with a problem and changes nothing', async () => {
    const [host, ana] = await Promise.all([fundedCustomer(world), fundedCustomer(world)]);
    const opened = (await calls.open(host)).json();
    const empty = await calls.lock(host, opened.id, 'host');
    expect(empty.statusCode).toBe(422);
    expect(empty.json().code).toBe('group_cart_empty');
    expect((await calls.join(ana, 'ZZZZZZZZ')).json().code).toBe('group_cart_not_found');
    expect((await calls.join(ana, 'AB\u0000CDEFG')).statusCode).toBe(400);
    expect((await calls.join(ana, 'x'.repeat(10_000))).statusCode).toBe(400);
    expect((await calls.join(ana, opened.code)).statusCode).toBe(200);
    const unknown = await calls.lines(ana, opened.id, [
      { itemId: '00000000-0000-4000-8000-000000000000', quantity: 1 },
    ]);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('menu_item_not_found');
    const tooMany = await calls.lines(
      ana,
      opened.id,
      Array.from({ length: 21 }, () => ({ itemId: world.ndoleId, quantity: 1 })),
    );
    expect(tooMany.statusCode).toBe(400);
    const huge = await calls.lines(ana, opened.id, [{ itemId: world.ndoleId, quantity: 51 }]);
    expect(huge.statusCode).toBe(400);
    const nulls = await calls.inject({
      method: 'PUT',
      url: `/v1/group-carts/${opened.id}/lines`,
      headers: { authorization: `Bearer ${ana.accessToken}`, 'content-type': 'application/json' },
      payload: '{"items":null}',
    });
    expect(nulls.statusCode).toBe(400);
    const noKey = await calls.inject({
      method: 'POST',
      url: `/v1/group-carts/${opened.id}/shares/pay`,
      headers: { authorization: `Bearer ${ana.accessToken}` },
      payload: { method: { kind: 'wallet' } },
    });
    expect(noKey.statusCode).toBe(400);
    const view = (await calls.read(ana, opened.id)).json();
    expect(view.status).toBe('open');
    expect(view.members.every((member: { lines: unknown[] }) => member.lines.length === 0)).toBe(true);
  });

  it('a share the wallet cannot pay is a 422 and moves nothing', async () => {
    const host = await fundedCustomer(world);
    const poor = await fundedCustomer(world, 100n);
    const cart = await filledCart(world, host, [poor]);
    expect((await calls.lock(host, cart.id, 'split')).statusCode).toBe(200);
    const refused = await calls.pay(poor, cart.id);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('insufficient_funds');
    expect(await calls.balance(poor)).toBe(100n);
    expect(await calls.escrow(cart.id)).toBe(0n);
    const view = (await calls.read(poor, cart.id)).json();
    expect(view.shares.find((share: { payerId: string }) => share.payerId === poor.userId).status).toBe(
      'due',
    );
  });

  it('host pays all: one share, the host’s, and the order is placed when it is paid', async () => {
    const [host, ana] = await Promise.all([fundedCustomer(world), fundedCustomer(world)]);
    const cart = await filledCart(world, host, [ana]);
    const view = (await calls.lock(host, cart.id, 'host')).json();
    expect(view.shares).toEqual([
      { payerId: host.userId, kind: 'share', amountMinor: view.totalMinor, status: 'due' },
    ]);
    const before = await calls.balance(ana);
    expect((await calls.pay(ana, cart.id)).json().code).toBe('group_share_none');
    const paid = await calls.pay(host, cart.id);
    expect(paid.json().cart.status).toBe('placed');
    expect(await calls.balance(ana)).toBe(before);
  });

  it('a share by Mobile Money: 202 with the collection, the top-up reaches the wallet, the sweep takes the share once', async () => {
    const host = await fundedCustomer(world);
    const ana = await createUser(world.testApp, { roles: ['customer'] });
    const cart = await filledCart(world, host, [ana]);
    const view = (await calls.lock(host, cart.id, 'split')).json();
    const share = BigInt(
      view.shares.find((each: { payerId: string }) => each.payerId === ana.userId).amountMinor,
    );
    const started = await calls.pay(ana, cart.id, undefined, {
      kind: 'mobile_money',
      phone: MAGIC_NUMBERS.MTN.succeed,
    });
    expect(started.statusCode, started.body).toBe(202);
    expect(started.json().collection.paymentId).toEqual(expect.any(String));
    expect(started.json().cart.shares).toContainEqual(
      expect.objectContaining({ payerId: ana.userId, status: 'collecting' }),
    );
    // The simulator approves; the top-up lands in Ana's wallet.
    await until(
      () => calls.balance(ana),
      (balance) => balance === share,
      30_000,
    );
    expect((await calls.pay(host, cart.id)).statusCode).toBe(200);
    await services().community.groups.sweep(new Date(Date.now() + 2 * 60_000));
    await services().community.groups.sweep(new Date(Date.now() + 2 * 60_000));
    const placed = (await calls.read(host, cart.id)).json();
    expect(placed.status).toBe('placed');
    expect(await calls.balance(ana)).toBe(0n);
    expect(await calls.escrow(cart.id)).toBe(0n);
  });
});
