/**
 * A group order's world (docs/community.md, "Group orders"): the orders world paying through the
 * ledger, funded customers, and the calls a phone makes on a group cart.
 */
import type { InjectOptions } from 'fastify';
import { expect } from 'vitest';
import { customerWalletId, groupCartEscrowId } from '../../../ledger/rules/index.js';
import { authHeader, type CreatedUser } from '../../helpers/auth.js';
import { fundedCustomer, loyaltyWorld } from '../loyalty/helpers.js';
import { idempotencyKey, NEAR, type OrderWorld } from '../orders/helpers.js';

export { fundedCustomer };

export async function groupWorld(env: Record<string, string> = {}): Promise<OrderWorld> {
  return loyaltyWorld({ JOB_WORKERS_ENABLED: 'false', ...env });
}

export function groupCalls(world: OrderWorld) {
  const inject = (options: InjectOptions) => world.testApp.app.inject(options);
  const as = (user: CreatedUser, extra: Record<string, string> = {}) => ({
    ...authHeader(user.accessToken),
    'accept-language': 'en',
    ...extra,
  });
  const services = () => world.testApp.services;
  return {
    inject,
    open: (host: CreatedUser) =>
      inject({
        method: 'POST',
        url: '/v1/group-carts',
        headers: as(host),
        payload: { restaurantId: world.restaurantId },
      }),
    join: (user: CreatedUser, code: string) =>
      inject({ method: 'POST', url: '/v1/group-carts/join', headers: as(user), payload: { code } }),
    read: (user: CreatedUser, cartId: string) =>
      inject({ method: 'GET', url: `/v1/group-carts/${cartId}`, headers: as(user) }),
    lines: (user: CreatedUser, cartId: string, items: unknown[]) =>
      inject({
        method: 'PUT',
        url: `/v1/group-carts/${cartId}/lines`,
        headers: as(user),
        payload: { items },
      }),
    lock: (user: CreatedUser, cartId: string, payment: 'host' | 'split', tipMinor = 0) =>
      inject({
        method: 'POST',
        url: `/v1/group-carts/${cartId}/lock`,
        headers: as(user),
        payload: { delivery: NEAR, tipMinor, payment },
      }),
    pay: (user: CreatedUser, cartId: string, key = idempotencyKey(), method: unknown = { kind: 'wallet' }) =>
      inject({
        method: 'POST',
        url: `/v1/group-carts/${cartId}/shares/pay`,
        headers: as(user, { 'idempotency-key': key }),
        payload: { method },
      }),
    cover: (host: CreatedUser, cartId: string) =>
      inject({ method: 'POST', url: `/v1/group-carts/${cartId}/cover`, headers: as(host) }),
    abandon: (host: CreatedUser, cartId: string) =>
      inject({ method: 'POST', url: `/v1/group-carts/${cartId}/abandon`, headers: as(host) }),
    async balance(user: CreatedUser): Promise<bigint> {
      const account = await services().ledger.account(customerWalletId(user.userId, 'XAF'));
      return account === null ? 0n : account.creditsPosted - account.debitsPosted;
    },
    async escrow(cartId: string): Promise<bigint> {
      const account = await services().ledger.account(groupCartEscrowId(cartId, 'XAF'));
      return account === null ? 0n : account.creditsPosted - account.debitsPosted;
    },
  };
}

/** A cart opened by `host` with `friends` joined and each with one ndolé (and the host a juice). */
export async function filledCart(
  world: OrderWorld,
  host: CreatedUser,
  friends: CreatedUser[],
): Promise<{ id: string; code: string }> {
  const calls = groupCalls(world);
  const opened = await calls.open(host);
  expect(opened.statusCode, opened.body).toBe(201);
  const cart = opened.json() as { id: string; code: string };
  for (const friend of friends) {
    const joined = await calls.join(friend, cart.code);
    expect(joined.statusCode, joined.body).toBe(200);
    const lines = await calls.lines(friend, cart.id, [{ itemId: world.ndoleId, quantity: 1 }]);
    expect(lines.statusCode, lines.body).toBe(200);
  }
  const own = await calls.lines(host, cart.id, [{ itemId: world.jusId, quantity: 2 }]);
  expect(own.statusCode, own.body).toBe(200);
  return cart;
}
