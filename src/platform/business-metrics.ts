import { Gauge, type Registry } from 'prom-client';

/**
 * Business figures for /metrics, read from PostgreSQL at scrape time: every instance reports the
 * same figures (dashboards take `max` across instances), nothing is lost when a process
 * restarts, and the request path pays nothing. One query per context per scrape, shared by its
 * gauges and kept for `ttlMs`, so several scrapers (or instances) cost one query per window.
 */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface BusinessGauge<Snapshot> {
  name: string;
  help: string;
  labelNames: readonly string[];
  samples(snapshot: Snapshot): readonly Sample[];
}

export function registerBusinessGauges<Snapshot>(
  registry: Registry,
  load: () => Promise<Snapshot>,
  gauges: readonly BusinessGauge<Snapshot>[],
  ttlMs = 5_000,
): void {
  let cached: { at: number; snapshot: Promise<Snapshot> } | undefined;
  const snapshot = (): Promise<Snapshot> => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > ttlMs) {
      const loading = load();
      cached = { at: now, snapshot: loading };
      // A failed load is not kept: the next scrape tries again.
      loading.catch(() => (cached = undefined));
    }
    return cached.snapshot;
  };
  for (const definition of gauges) {
    if (registry.getSingleMetric(definition.name) !== undefined) continue;
    new Gauge({
      name: definition.name,
      help: definition.help,
      labelNames: definition.labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const sample of definition.samples(await snapshot())) this.set(sample.labels, sample.value);
      },
    });
  }
}

/** Windows every recent-activity gauge reports, in seconds (label `window`). */
export const METRIC_WINDOWS = { '5m': 300, '1h': 3_600, '24h': 86_400 } as const;
export type MetricWindow = keyof typeof METRIC_WINDOWS;
