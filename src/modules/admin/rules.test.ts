import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  evaluateFlag,
  maintenanceDecision,
  maintenanceRetryAfterSeconds,
  MAINTENANCE_OFF,
  planBulkItem,
  type FeatureFlag,
  type Maintenance,
} from './rules.js';

const flag = (overrides: Partial<FeatureFlag> = {}): FeatureFlag => ({
  key: 'new-checkout',
  enabled: true,
  roles: [],
  percentage: 100,
  cities: [],
  ...overrides,
});

describe('feature flags', () => {
  it('an unknown or disabled flag is off for everyone', () => {
    expect(evaluateFlag(undefined, { userId: randomUUID() })).toBe(false);
    expect(evaluateFlag(flag({ enabled: false }), { userId: randomUUID(), roles: ['admin'] })).toBe(false);
  });

  it('roles: only holders of a listed role get it; no roles listed means every role', () => {
    const drivers = flag({ roles: ['driver'] });
    expect(evaluateFlag(drivers, { roles: ['driver'] })).toBe(true);
    expect(evaluateFlag(drivers, { roles: ['customer'] })).toBe(false);
    expect(evaluateFlag(drivers, {})).toBe(false);
    expect(evaluateFlag(flag(), { roles: ['customer'] })).toBe(true);
  });

  it('cities: only the listed cities, case-insensitively; a caller naming no city is out', () => {
    const douala = flag({ cities: ['douala'] });
    expect(evaluateFlag(douala, { city: 'douala' })).toBe(true);
    expect(evaluateFlag(douala, { city: 'Douala' })).toBe(true);
    expect(evaluateFlag(douala, { city: 'yaounde' })).toBe(false);
    expect(evaluateFlag(douala, {})).toBe(false);
  });

  it('percentage: 0 is nobody, 100 everybody, anonymous callers only at 100', () => {
    expect(evaluateFlag(flag({ percentage: 0 }), { userId: randomUUID() })).toBe(false);
    expect(evaluateFlag(flag({ percentage: 100 }), {})).toBe(true);
    expect(evaluateFlag(flag({ percentage: 99 }), {})).toBe(false);
  });

  it('percentage: a user gets the same answer every time, and about the stated share of 4000 users get it', () => {
    const users = Array.from({ length: 4000 }, () => randomUUID());
    const at25 = flag({ percentage: 25 });
    const admitted = users.filter((userId) => evaluateFlag(at25, { userId }));
    expect(admitted.length / users.length).toBeGreaterThan(0.21);
    expect(admitted.length / users.length).toBeLessThan(0.29);
    for (const userId of users.slice(0, 50)) {
      expect(evaluateFlag(at25, { userId })).toBe(evaluateFlag(at25, { userId }));
    }
  });

  it('percentage: raising a rollout keeps everyone who had it', () => {
    const users = Array.from({ length: 1000 }, () => randomUUID());
    const at10 = users.filter((userId) => evaluateFlag(flag({ percentage: 10 }), { userId }));
    const at30 = new Set(users.filter((userId) => evaluateFlag(flag({ percentage: 30 }), { userId })));
    expect(at10.length).toBeGreaterThan(0);
    for (const userId of at10) expect(at30.has(userId)).toBe(true);
  });

  it('buckets are independent between flags', () => {
    const users = Array.from({ length: 2000 }, () => randomUUID());
    const inA = users.filter((userId) => bucketOf('flag-a', userId) < 5000);
    const inBoth = inA.filter((userId) => bucketOf('flag-b', userId) < 5000);
    // Independent halves overlap on about a quarter of the users, not on all of flag A's half.
    expect(inBoth.length / users.length).toBeGreaterThan(0.2);
    expect(inBoth.length / users.length).toBeLessThan(0.3);
  });

  it('all conditions must hold together', () => {
    const narrow = flag({ roles: ['customer'], cities: ['douala'], percentage: 100 });
    expect(evaluateFlag(narrow, { roles: ['customer'], city: 'douala' })).toBe(true);
    expect(evaluateFlag(narrow, { roles: ['customer'], city: 'yaounde' })).toBe(false);
    expect(evaluateFlag(narrow, { roles: ['driver'], city: 'douala' })).toBe(false);
  });
});

describe('maintenance decision', () => {
  const on: Maintenance = { enabled: true, message: 'Back at 03:00', until: null };
  const write = (route: string, roles: string[] = ['customer'], method = 'POST') => ({
    method,
    route,
    roles,
  });

  it('off: everything goes', () => {
    expect(maintenanceDecision(MAINTENANCE_OFF, write('/v1/orders'))).toBe('allow');
  });

  it('on: writes by customers, owners, drivers and guests are refused; reads go on', () => {
    for (const roles of [['customer'], ['restaurant_owner'], ['driver'], ['guest'], []]) {
      expect(maintenanceDecision(on, write('/v1/orders', roles))).toBe('refuse');
    }
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      expect(maintenanceDecision(on, write('/v1/me', ['customer'], method))).toBe('refuse');
    }
    expect(maintenanceDecision(on, write('/v1/orders/:id', ['customer'], 'GET'))).toBe('allow');
    expect(maintenanceDecision(on, write('/v1/orders/:id', ['customer'], 'HEAD'))).toBe('allow');
  });

  it('on: staff still work, providers’ webhooks and sign-in are accepted, non-API routes untouched', () => {
    expect(maintenanceDecision(on, write('/v1/orders', ['admin']))).toBe('allow');
    expect(maintenanceDecision(on, write('/v1/support/tickets/:id/messages', ['support']))).toBe('allow');
    expect(maintenanceDecision(on, write('/v1/webhooks/:provider', []))).toBe('allow');
    expect(maintenanceDecision(on, write('/v1/auth/login', []))).toBe('allow');
    expect(maintenanceDecision(on, write('/health/ready', []))).toBe('allow');
  });

  it('Retry-After: the seconds to the announced end, bounded to [1, 3600]; 60 without an end', () => {
    const now = Date.parse('2026-12-06T02:00:00Z');
    expect(maintenanceRetryAfterSeconds(on, now)).toBe(60);
    expect(maintenanceRetryAfterSeconds({ ...on, until: new Date(now + 90_500) }, now)).toBe(91);
    expect(maintenanceRetryAfterSeconds({ ...on, until: new Date(now - 5_000) }, now)).toBe(1);
    expect(maintenanceRetryAfterSeconds({ ...on, until: new Date(now + 86_400_000) }, now)).toBe(3_600);
  });
});

describe('bulk user actions: the plan of one item', () => {
  const actorId = randomUUID();
  const user = (overrides: Partial<{ id: string; status: string; roles: string[] }> = {}) => ({
    id: randomUUID(),
    status: 'active',
    roles: ['customer'],
    ...overrides,
  });

  it('a missing or deleted user, and the acting admin, are refused', () => {
    expect(planBulkItem('suspend', undefined, actorId)).toMatchObject({
      outcome: 'refuse',
      code: 'user_not_found',
    });
    expect(planBulkItem('logout', user({ status: 'deleted' }), actorId)).toMatchObject({
      code: 'user_not_found',
    });
    expect(planBulkItem('logout', user({ id: actorId }), actorId)).toMatchObject({
      code: 'cannot_target_self',
    });
  });

  it('suspend: applies to an active user, skips a suspended one, refuses an admin', () => {
    expect(planBulkItem('suspend', user(), actorId)).toEqual({ outcome: 'apply' });
    expect(planBulkItem('suspend', user({ status: 'suspended' }), actorId)).toMatchObject({
      outcome: 'skip',
      code: 'already_suspended',
    });
    expect(planBulkItem('suspend', user({ roles: ['admin'] }), actorId)).toMatchObject({
      outcome: 'refuse',
      code: 'admin_target',
    });
  });

  it('reinstate: applies only to a suspended user', () => {
    expect(planBulkItem('reinstate', user({ status: 'suspended' }), actorId)).toEqual({ outcome: 'apply' });
    expect(planBulkItem('reinstate', user(), actorId)).toMatchObject({
      outcome: 'skip',
      code: 'not_suspended',
    });
  });

  it('logout: applies to any existing user', () => {
    expect(planBulkItem('logout', user({ status: 'suspended', roles: ['admin'] }), actorId)).toEqual({
      outcome: 'apply',
    });
  });
});
