import { describe, expect, it } from 'vitest';
import { HttpProblem } from './problem.js';
import { planQueue, priorityOf } from './sync-queue.js';

const ID = '3f0c6d3e-8a52-4c47-9d2e-0a1b2c3d4e5f';

describe('priority of a queued operation', () => {
  it('puts orders first, then payments, then the rest', () => {
    expect(priorityOf('POST', '/v1/orders/offline')).toBe(0);
    expect(priorityOf('POST', `/v1/orders/${ID}/cancel`)).toBe(0);
    expect(priorityOf('GET', `/v1/orders/${ID}`)).toBe(1);
    expect(priorityOf('POST', '/v1/wallet/topups')).toBe(1);
    expect(priorityOf('GET', `/v1/sync/menus/${ID}?since=abc`)).toBe(2);
    expect(priorityOf('PATCH', '/v1/me')).toBe(2);
  });
  it('refuses what is not on the list: staff routes, itself, erasure, traversal, a query on a write', () => {
    for (const [method, path] of [
      ['POST', `/v1/orders/${ID}/accept`],
      ['POST', '/v1/sync/queue'],
      ['DELETE', '/v1/me'],
      ['GET', '/v1/admin/orders'],
      ['GET', `/v1/orders/${ID}/../../admin`],
      ['POST', '/v1/orders?x=1'],
      ['GET', `/v1/sync/menus/${ID}?${'a'.repeat(301)}`],
    ])
      expect(priorityOf(method!, path!)).toBeUndefined();
  });
});

describe('the plan', () => {
  it('orders by priority, then oldest queued first (undated last), then as sent', () => {
    const plan = planQueue([
      { method: 'PATCH', path: '/v1/me', queuedAt: '2026-12-06T07:00:00Z' },
      { method: 'POST', path: '/v1/orders/offline' },
      { method: 'GET', path: `/v1/orders/${ID}`, queuedAt: '2026-12-06T08:00:00Z' },
      { method: 'POST', path: '/v1/orders/offline', queuedAt: '2026-12-06T07:30:00Z' },
      { method: 'GET', path: '/v1/sync/orders', queuedAt: '2026-12-06T07:00:00Z' },
    ]);
    expect(plan.map(({ operation, priority }) => [priority, operation.path, operation.queuedAt])).toEqual([
      [0, '/v1/orders/offline', '2026-12-06T07:30:00Z'],
      [0, '/v1/orders/offline', undefined],
      [1, `/v1/orders/${ID}`, '2026-12-06T08:00:00Z'],
      [2, '/v1/me', '2026-12-06T07:00:00Z'],
      [2, '/v1/sync/orders', '2026-12-06T07:00:00Z'],
    ]);
  });
  it('refuses the whole queue for one operation it may not run', () => {
    expect(() =>
      planQueue([
        { method: 'GET', path: '/v1/me' },
        { method: 'GET', path: '/v1/admin/orders' },
      ]),
    ).toThrow(HttpProblem);
  });
});
