import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  badgesFor,
  cameroonMonth,
  challengeTransferId,
} from '../../../src/modules/community/achievements.js';
import { authHeader } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import {
  completeOrder,
  deliveredOrder,
  fundedCustomer,
  ledgerLines,
  loyaltyWorld,
  pointsCredited,
  until,
} from '../loyalty/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({ COMMUNITY_CHALLENGE_ORDERS: '2', COMMUNITY_CHALLENGE_POINTS: '40' });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const inject = (method: 'GET' | 'PUT', url: string, token?: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: { ...(token === undefined ? {} : authHeader(token)), 'accept-language': 'en' },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const mine = async (token: string) => {
  const response = await inject('GET', '/v1/me/community', token);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
};
const points = (userId: string) => pointsCredited(world, userId);
const entriesOf = (transferId: string) => ledgerLines(world, transferId);
const complete = (orderId: string) => completeOrder(world, orderId);

describe('community: profiles, badges, leaderboards and the monthly challenge', () => {
  it('badges follow the figures (pure)', () => {
    expect(badgesFor({ orders: 0, cuisines: 0 })).toEqual([]);
    expect(badgesFor({ orders: 1, cuisines: 1 })).toEqual(['first_order']);
    expect(badgesFor({ orders: 10, cuisines: 9 })).toEqual(['first_order', 'regular']);
    expect(badgesFor({ orders: 50, cuisines: 10 })).toEqual([
      'first_order',
      'regular',
      'gourmet',
      'explorer',
    ]);
    // 23:30 UTC on 31 December is already January in Douala.
    expect(cameroonMonth(new Date('2026-12-31T23:30:00Z'))).toBe('2027-01');
  });

  it('completed orders earn badges and the challenge’s points once; a replayed event counts nothing more; public profiles show on the city’s leaderboard', async () => {
    const customer = await fundedCustomer(world);
    const before = await mine(customer.accessToken);
    expect(before).toMatchObject({ public: false, badges: [], completedOrders: 0 });
    expect(before.pseudonym).toMatch(/^[A-Za-z]{2,12}-[0-9]{4}$/);
    expect(before.challenge).toMatchObject({ target: 2, progress: 0, rewardPoints: 40, achieved: false });
    expect((await mine(customer.accessToken)).pseudonym).toBe(before.pseudonym); // drawn once

    const first = await deliveredOrder(world, customer.accessToken);
    // Delivered is not completed (the dispute window is open): nothing counted yet.
    expect((await mine(customer.accessToken)).completedOrders).toBe(0);
    await complete(first.id);
    const afterFirst = await until(
      () => mine(customer.accessToken),
      (view) => view.completedOrders === 1,
    );
    expect(afterFirst.badges).toEqual([
      { code: 'first_order', name: 'First order', earnedAt: expect.any(String) },
    ]);
    expect(afterFirst.challenge).toMatchObject({ progress: 1, achieved: false });
    const month = afterFirst.challenge.month as string;
    expect(month).toBe(cameroonMonth(new Date()));
    const rewardId = challengeTransferId(month, customer.userId);
    expect(await entriesOf(rewardId)).toBe('0');

    const second = await deliveredOrder(world, customer.accessToken);
    await complete(second.id);
    await until(
      () => entriesOf(rewardId),
      (count) => count === '2',
    );
    const afterSecond = await mine(customer.accessToken);
    expect(afterSecond).toMatchObject({ completedOrders: 2, challenge: { progress: 2, achieved: true } });
    // The challenge's 40 and each order's own 25 (loyalty's earning, on its own reactor).
    const withReward = await until(
      () => points(customer.userId),
      (value) => value === 40n + 25n + 25n,
    );

    // The event handled again (a replay): counted already, the reward exists.
    const achievements = services().community.achievements;
    expect(await achievements.count({ orderId: second.id, at: new Date() })).toBe('already_counted');
    expect(await achievements.rewardChallenge(customer.userId, month)).toBe('exists');
    expect(await points(customer.userId)).toBe(withReward);
    expect((await mine(customer.accessToken)).completedOrders).toBe(2);

    // Private: not on the leaderboard, no public profile.
    const [card] = await services().catalog.community.restaurantCards([world.restaurantId]);
    const city = encodeURIComponent(` ${card!.city.toUpperCase()} `); // compared trimmed, any case
    const board = async () => {
      const response = await inject('GET', `/v1/community/leaderboards?city=${city}&month=${month}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json();
    };
    expect(
      (await board()).items.some((item: { pseudonym: string }) => item.pseudonym === before.pseudonym),
    ).toBe(false);
    expect((await inject('GET', `/v1/community/profiles/${before.pseudonym}`)).statusCode).toBe(404);

    const opened = await inject('PUT', '/v1/me/community', customer.accessToken, { public: true });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json()).toMatchObject({ public: true, pseudonym: before.pseudonym });
    const listed = (await board()).items.find(
      (item: { pseudonym: string }) => item.pseudonym === before.pseudonym,
    );
    expect(listed).toMatchObject({ orders: 2, rank: expect.any(Number) });
    const profile = await inject('GET', `/v1/community/profiles/${before.pseudonym}`);
    expect(profile.statusCode, profile.body).toBe(200);
    expect(profile.json()).toEqual({
      pseudonym: before.pseudonym,
      memberSince: month,
      badges: [{ code: 'first_order', name: 'First order', earnedAt: expect.any(String) }],
    });
    // Nothing in the public answers names the person.
    for (const body of [profile.body, JSON.stringify(await board())]) {
      expect(body).not.toContain(customer.userId);
      expect(body).not.toContain(customer.phone);
    }

    // The person's export lists it; erasure removes it (the points stay on the ledger).
    const exported = await achievements.personalData.export(customer.userId);
    expect(exported).toMatchObject({ profile: { pseudonym: before.pseudonym, public: true } });
    await achievements.personalData.erase(customer.userId);
    expect(await achievements.personalData.export(customer.userId)).toBeNull();
    expect((await inject('GET', `/v1/community/profiles/${before.pseudonym}`)).statusCode).toBe(404);
    expect(await points(customer.userId)).toBe(withReward);
  });

  it('refuses what is wrong with 4xx problems and changes nothing', async () => {
    expect((await inject('GET', '/v1/me/community')).statusCode).toBe(401);
    expect((await inject('PUT', '/v1/me/community', undefined, { public: true })).statusCode).toBe(401);
    const customer = await fundedCustomer(world);
    for (const payload of [{}, { public: 'yes' }, { public: null }, { public: true, extra: 1 }]) {
      const refused = await inject('PUT', '/v1/me/community', customer.accessToken, payload);
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    expect((await mine(customer.accessToken)).public).toBe(false);
    for (const query of [
      '',
      '?city=',
      '?city=%20',
      '?city=Douala&month=2026-13',
      `?city=${'x'.repeat(81)}`,
      '?city=a%00b',
    ])
      expect((await inject('GET', `/v1/community/leaderboards${query}`)).statusCode, query).toBe(400);
    for (const name of ['nobody', 'Mangue-12345', '%00'])
      expect((await inject('GET', `/v1/community/profiles/${name}`)).statusCode, name).toBe(400);
  });
});
