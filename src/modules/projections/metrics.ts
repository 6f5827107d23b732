import { Gauge, type Registry } from 'prom-client';
import type { ProjectionRunner } from '../../../projections/index.js';

/** Projection lag (events and seconds) and failure, computed at scrape time. */
export function registerProjectionMetrics(registry: Registry, runner: ProjectionRunner): void {
  let snapshot: Promise<Awaited<ReturnType<ProjectionRunner['status']>>> | undefined;
  // One status query per scrape, shared by the three gauges.
  const statuses = () => {
    snapshot ??= runner.status().finally(() => setTimeout(() => (snapshot = undefined), 0));
    return snapshot;
  };
  const gauge = (
    name: string,
    help: string,
    value: (item: Awaited<ReturnType<typeof statuses>>[number]) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection', 'status'] as const,
      registers: [registry],
      async collect() {
        this.reset();
        for (const item of await statuses()) {
          const figure = value(item);
          if (figure !== null) this.set({ projection: item.name, status: item.status }, figure);
        }
      },
    });
  gauge(
    'projection_lag_events',
    'Events in the store after the projection checkpoint (capped at 100000)',
    (item) => item.lagEvents,
  );
  gauge(
    'projection_lag_seconds',
    'Seconds between the newest event and the last event the projection applied',
    (item) => item.lagSeconds,
  );
  gauge('projection_failed', '1 when the projection stopped on a failing event', (item) =>
    item.failed === null ? 0 : 1,
  );
}
