import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import { writeSetting } from './store.js';
import type { AdminDb } from './tables.js';

/**
 * The live dashboard (issue #23, docs/admin.md "Live dashboard"): the figures admins watch, read
 * from the same gauges `/metrics` serves (each context's business figures, computed from
 * PostgreSQL at read time and cached 5 s by their owner), so the admin context reads no other
 * context's tables. A REST snapshot for the first paint, then a tick every
 * ADMIN_LIVE_INTERVAL_SECONDS publishes them on `/ws/admin` `live-analytics` and raises or clears
 * alerts on `system-alerts`.
 */
export const LIVE_QUEUE = 'admin-live';
const LIVE_ALERTS_KEY = 'live_alerts';

export type Dashboard = {
  at: string;
  orders: { perMinute: number; byStatus: Record<string, number> };
  drivers: { online: number; busy: number };
  payments: {
    provider: string;
    attempts: number;
    succeeded: number;
    failed: number;
    successRate: number | null;
  }[];
  payouts: { open: number; byStatus: Record<string, number>; oldestOpenSeconds: number | null };
  projections: { name: string; lagEvents: number | null; lagSeconds: number | null; failed: boolean }[];
  http: { requests: number; serverErrors: number; errorRate: number | null };
};

export type Alert = {
  key: string;
  severity: 'warning' | 'critical';
  /** English, for logs and tools; a console words it in its language from `code` and `params`. */
  message: string;
  code: 'projection_failed' | 'projection_lag' | 'payment_success_low' | 'payout_backlog' | 'error_rate';
  params: Record<string, string | number>;
};

export interface AlertThresholds {
  projectionLagSeconds: number;
  payoutOldestHours: number;
  paymentSuccessRateMin: number;
  errorRateMax: number;
}

type Value = { labels: Record<string, string | number>; value: number; metricName?: string };

/** The figures from the gauges' values (pure). */
export function dashboardFrom(
  values: ReadonlyMap<string, readonly Value[]>,
  http: { requests: number; serverErrors: number },
  at: Date,
): Dashboard {
  const of = (name: string) => values.get(name) ?? [];
  const byStatus: Record<string, number> = {};
  for (const sample of of('orders_created'))
    if (sample.labels.window === '5m') byStatus[String(sample.labels.status)] = sample.value;
  const ordersIn5m = Object.values(byStatus).reduce((sum, count) => sum + count, 0);
  const providers = new Map<string, { attempts: number; succeeded: number; failed: number }>();
  for (const sample of of('payment_attempts_recent')) {
    const provider = String(sample.labels.provider);
    const line = providers.get(provider) ?? { attempts: 0, succeeded: 0, failed: 0 };
    line.attempts += sample.value;
    if (sample.labels.status === 'SUCCEEDED') line.succeeded += sample.value;
    if (sample.labels.status === 'FAILED' || sample.labels.status === 'EXPIRED') line.failed += sample.value;
    providers.set(provider, line);
  }
  const payoutsByStatus: Record<string, number> = {};
  for (const sample of of('payouts_open')) payoutsByStatus[String(sample.labels.status)] = sample.value;
  const oldest = of('payouts_oldest_open_seconds').map((sample) => sample.value);
  const projections = new Map<string, Dashboard['projections'][number]>();
  const projection = (name: string) => {
    const line = projections.get(name) ?? { name, lagEvents: null, lagSeconds: null, failed: false };
    projections.set(name, line);
    return line;
  };
  for (const sample of of('projection_lag_events'))
    projection(String(sample.labels.projection)).lagEvents = sample.value;
  for (const sample of of('projection_lag_seconds'))
    projection(String(sample.labels.projection)).lagSeconds = sample.value;
  for (const sample of of('projection_failed'))
    if (sample.value > 0) projection(String(sample.labels.projection)).failed = true;
  const single = (name: string) => of(name)[0]?.value ?? 0;
  return {
    at: at.toISOString(),
    orders: { perMinute: Math.round((ordersIn5m / 5) * 100) / 100, byStatus },
    drivers: { online: single('dispatch_drivers_online'), busy: single('orders_drivers_busy') },
    payments: [...providers].map(([provider, line]) => ({
      provider,
      ...line,
      successRate:
        line.succeeded + line.failed === 0
          ? null
          : Math.round((line.succeeded / (line.succeeded + line.failed)) * 1000) / 1000,
    })),
    payouts: {
      open: Object.values(payoutsByStatus).reduce((sum, count) => sum + count, 0),
      byStatus: payoutsByStatus,
      oldestOpenSeconds: oldest.length === 0 ? null : Math.round(Math.max(...oldest)),
    },
    projections: [...projections.values()].sort((a, b) => a.name.localeCompare(b.name)),
    http: {
      ...http,
      errorRate: http.requests === 0 ? null : Math.round((http.serverErrors / http.requests) * 1000) / 1000,
    },
  };
}

/** The alerts the figures raise now (pure); a minimum of activity keeps one failure from alarming. */
export function alertsFrom(dashboard: Dashboard, thresholds: AlertThresholds): Alert[] {
  const alerts: Alert[] = [];
  for (const line of dashboard.projections) {
    if (line.failed)
      alerts.push({
        key: `projection_failed:${line.name}`,
        severity: 'critical',
        message: `Projection ${line.name} stopped on a failing event.`,
        code: 'projection_failed',
        params: { name: line.name },
      });
    else if (line.lagSeconds !== null && line.lagSeconds > thresholds.projectionLagSeconds)
      alerts.push({
        key: `projection_lag:${line.name}`,
        severity: 'warning',
        message: `Projection ${line.name} is ${Math.round(line.lagSeconds)} s behind.`,
        code: 'projection_lag',
        params: { name: line.name, seconds: Math.round(line.lagSeconds) },
      });
  }
  for (const line of dashboard.payments)
    if (
      line.successRate !== null &&
      line.attempts >= 10 &&
      line.successRate < thresholds.paymentSuccessRateMin
    )
      alerts.push({
        key: `payment_success_low:${line.provider}`,
        severity: 'critical',
        message: `${line.provider}: ${Math.round(line.successRate * 100)} % of collections succeeded in the last hour.`,
        code: 'payment_success_low',
        params: { provider: line.provider, percent: Math.round(line.successRate * 100) },
      });
  const oldest = dashboard.payouts.oldestOpenSeconds;
  if (oldest !== null && oldest > thresholds.payoutOldestHours * 3_600)
    alerts.push({
      key: 'payout_backlog',
      severity: 'warning',
      message: `A payout has waited ${Math.round(oldest / 3_600)} h (${dashboard.payouts.open} open).`,
      code: 'payout_backlog',
      params: { hours: Math.round(oldest / 3_600), open: dashboard.payouts.open },
    });
  const { errorRate, requests } = dashboard.http;
  if (errorRate !== null && requests >= 50 && errorRate > thresholds.errorRateMax)
    alerts.push({
      key: 'error_rate',
      severity: 'critical',
      message: `${Math.round(errorRate * 1000) / 10} % of requests failed with a server error.`,
      code: 'error_rate',
      params: { percent: Math.round(errorRate * 1000) / 10 },
    });
  return alerts;
}

/** What changed between the alerts last published and now (pure). */
export function alertChanges(previous: readonly string[], current: readonly Alert[]) {
  const before = new Set(previous);
  const now = new Set(current.map((alert) => alert.key));
  return {
    raised: current.filter((alert) => !before.has(alert.key)),
    cleared: [...before].filter((key) => !now.has(key)).sort(),
  };
}

const GAUGES = [
  'orders_created',
  'orders_drivers_busy',
  'dispatch_drivers_online',
  'payment_attempts_recent',
  'payouts_open',
  'payouts_oldest_open_seconds',
  'projection_lag_events',
  'projection_lag_seconds',
  'projection_failed',
] as const;

export function createLiveDashboard(deps: {
  db: AdminDb;
  bus: RealtimeBus;
  thresholds: AlertThresholds;
  logger: Logger;
}) {
  let registry: Registry | undefined;
  // This instance's request counts at its last reading: the error rate is over the interval since.
  let lastHttp = { requests: 0, serverErrors: 0 };

  async function httpSinceLastReading(source: Registry) {
    const histogram = await source.getSingleMetric('http_request_duration_seconds')?.get();
    let requests = 0;
    let serverErrors = 0;
    for (const sample of (histogram?.values ?? []) as Value[]) {
      if (sample.metricName !== 'http_request_duration_seconds_count') continue;
      requests += sample.value;
      if (String(sample.labels.status_code).startsWith('5')) serverErrors += sample.value;
    }
    const since = {
      requests: Math.max(0, requests - lastHttp.requests),
      serverErrors: Math.max(0, serverErrors - lastHttp.serverErrors),
    };
    lastHttp = { requests, serverErrors };
    return since;
  }

  async function snapshot(at = new Date()): Promise<Dashboard> {
    const source = registry;
    if (source === undefined) throw new Error('live dashboard: the metrics registry is not attached yet');
    const values = new Map<string, Value[]>();
    for (const name of GAUGES) {
      const metric = source.getSingleMetric(name);
      // A context not deployed (or a gauge whose load failed): its figures read as absent.
      const read = await metric?.get().catch(() => undefined);
      values.set(name, (read?.values ?? []) as Value[]);
    }
    return dashboardFrom(values, await httpSinceLastReading(source), at);
  }

  /** One tick (the job's work): the figures to every admin, and the alerts that rose or cleared. */
  async function tick(at: Date): Promise<{ dashboard: Dashboard; alerts: Alert[] }> {
    const dashboard = await snapshot(at);
    const alerts = alertsFrom(dashboard, deps.thresholds);
    const previous = await deps.db
      .selectFrom('admin_settings')
      .select('value')
      .where('key', '=', LIVE_ALERTS_KEY)
      .executeTakeFirst();
    const { raised, cleared } = alertChanges((previous?.value as string[] | undefined) ?? [], alerts);
    const stamp = at.toISOString();
    await deps.bus.publish([
      {
        audiences: [audiences.admin],
        message: { channel: 'live-analytics', type: 'dashboard', at: stamp, data: dashboard },
      },
      ...raised.map((alert) => ({
        audiences: [audiences.admin],
        message: { channel: 'system-alerts', type: 'alert-raised', at: stamp, data: alert },
      })),
      ...cleared.map((key) => ({
        audiences: [audiences.admin],
        message: { channel: 'system-alerts', type: 'alert-cleared', at: stamp, data: { key } },
      })),
    ]);
    if (raised.length > 0 || cleared.length > 0) {
      const json = JSON.stringify(alerts.map((alert) => alert.key));
      await writeSetting(deps.db, LIVE_ALERTS_KEY, json, null);
      deps.logger.info({ raised: raised.map((alert) => alert.key), cleared }, 'admin alerts changed');
    }
    return { dashboard, alerts };
  }

  return {
    /** The app's metrics registry, given by the routes (it exists once Fastify is built). */
    attach(source: Registry) {
      registry = source;
    },
    attached: () => registry !== undefined,
    alertsOf: (dashboard: Dashboard) => alertsFrom(dashboard, deps.thresholds),
    snapshot,
    tick,
  };
}

export type LiveDashboard = ReturnType<typeof createLiveDashboard>;
