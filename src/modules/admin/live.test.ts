import { describe, expect, it } from 'vitest';
import { alertChanges, alertsFrom, dashboardFrom } from './live.js';

const at = new Date('2026-12-06T08:00:00Z');
const thresholds = {
  projectionLagSeconds: 60,
  payoutOldestHours: 48,
  paymentSuccessRateMin: 0.7,
  errorRateMax: 0.05,
};
const values = (entries: Record<string, { labels: Record<string, string>; value: number }[]>) =>
  new Map(Object.entries(entries));

describe('the live dashboard figures (pure)', () => {
  it('turns the gauges into orders per minute, drivers, success rates, backlog, lag and error rate', () => {
    const dashboard = dashboardFrom(
      values({
        orders_created: [
          { labels: { window: '5m', status: 'PLACED' }, value: 8 },
          { labels: { window: '5m', status: 'DELIVERED' }, value: 2 },
          { labels: { window: '1h', status: 'PLACED' }, value: 99 },
        ],
        dispatch_drivers_online: [{ labels: {}, value: 7 }],
        orders_drivers_busy: [{ labels: {}, value: 3 }],
        payment_attempts_recent: [
          { labels: { provider: 'campay', status: 'SUCCEEDED' }, value: 9 },
          { labels: { provider: 'campay', status: 'FAILED' }, value: 2 },
          { labels: { provider: 'campay', status: 'EXPIRED' }, value: 1 },
          { labels: { provider: 'campay', status: 'PENDING' }, value: 4 },
        ],
        payouts_open: [
          { labels: { status: 'REQUESTED' }, value: 2 },
          { labels: { status: 'APPROVED' }, value: 1 },
        ],
        payouts_oldest_open_seconds: [{ labels: { status: 'REQUESTED' }, value: 7_200.4 }],
        projection_lag_events: [{ labels: { projection: 'orders' }, value: 3 }],
        projection_lag_seconds: [{ labels: { projection: 'orders' }, value: 1.5 }],
        projection_failed: [{ labels: { projection: 'orders' }, value: 0 }],
      }),
      { requests: 200, serverErrors: 3 },
      at,
    );
    expect(dashboard).toEqual({
      at: at.toISOString(),
      orders: { perMinute: 2, byStatus: { PLACED: 8, DELIVERED: 2 } },
      drivers: { online: 7, busy: 3 },
      payments: [{ provider: 'campay', attempts: 16, succeeded: 9, failed: 3, successRate: 0.75 }],
      payouts: { open: 3, byStatus: { REQUESTED: 2, APPROVED: 1 }, oldestOpenSeconds: 7_200 },
      projections: [{ name: 'orders', lagEvents: 3, lagSeconds: 1.5, failed: false }],
      http: { requests: 200, serverErrors: 3, errorRate: 0.015 },
    });
    expect(alertsFrom(dashboard, thresholds)).toEqual([]);
  });

  it('with no gauges (nothing deployed yet) every figure is zero or absent, never an error', () => {
    expect(dashboardFrom(new Map(), { requests: 0, serverErrors: 0 }, at)).toMatchObject({
      orders: { perMinute: 0, byStatus: {} },
      drivers: { online: 0, busy: 0 },
      payments: [],
      payouts: { open: 0, oldestOpenSeconds: null },
      http: { errorRate: null },
    });
  });

  it('raises an alert past each threshold, and only with enough activity to judge', () => {
    const base = dashboardFrom(new Map(), { requests: 0, serverErrors: 0 }, at);
    const trips = alertsFrom(
      {
        ...base,
        projections: [
          { name: 'orders', lagEvents: 900, lagSeconds: 61, failed: false },
          { name: 'ledger', lagEvents: 0, lagSeconds: 0, failed: true },
        ],
        payments: [{ provider: 'momo', attempts: 10, succeeded: 6, failed: 4, successRate: 0.6 }],
        payouts: { open: 4, byStatus: {}, oldestOpenSeconds: 49 * 3_600 },
        http: { requests: 100, serverErrors: 6, errorRate: 0.06 },
      },
      thresholds,
    );
    expect(trips.map((alert) => [alert.key, alert.severity])).toEqual([
      ['projection_lag:orders', 'warning'],
      ['projection_failed:ledger', 'critical'],
      ['payment_success_low:momo', 'critical'],
      ['payout_backlog', 'warning'],
      ['error_rate', 'critical'],
    ]);
    // Each carries its code and figures, so a console words it in its own language.
    expect(trips.map((alert) => [alert.code, alert.params])).toEqual([
      ['projection_lag', { name: 'orders', seconds: 61 }],
      ['projection_failed', { name: 'ledger' }],
      ['payment_success_low', { provider: 'momo', percent: 60 }],
      ['payout_backlog', { hours: 49, open: 4 }],
      ['error_rate', { percent: 6 }],
    ]);
    const quiet = alertsFrom(
      {
        ...base,
        projections: [{ name: 'orders', lagEvents: 1, lagSeconds: 60, failed: false }],
        payments: [{ provider: 'momo', attempts: 9, succeeded: 1, failed: 8, successRate: 0.111 }],
        payouts: { open: 1, byStatus: {}, oldestOpenSeconds: 47 * 3_600 },
        http: { requests: 49, serverErrors: 49, errorRate: 1 },
      },
      thresholds,
    );
    expect(quiet).toEqual([]);
  });

  it('publishes an alert when it rises and when it clears, not while it lasts', () => {
    const alert = (key: string) => ({
      key,
      severity: 'warning' as const,
      message: key,
      code: 'error_rate' as const,
      params: { percent: 1 },
    });
    expect(alertChanges([], [alert('a')])).toEqual({ raised: [alert('a')], cleared: [] });
    expect(alertChanges(['a'], [alert('a')])).toEqual({ raised: [], cleared: [] });
    expect(alertChanges(['a', 'b'], [alert('c')])).toEqual({ raised: [alert('c')], cleared: ['a', 'b'] });
  });
});
