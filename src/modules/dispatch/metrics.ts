import { sql, type Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import { registerBusinessGauges } from '../../platform/business-metrics.js';
import { Counter, type Metric } from 'prom-client';

/** Position fixes by outcome; registered on /metrics by the context's routes. */
export function createDispatchMetrics() {
  const fixes = new Counter({
    name: 'dispatch_location_fixes_total',
    help: 'Driver position fixes by outcome: accepted, or the refusal code (location_too_frequent, …)',
    labelNames: ['outcome'] as const,
    registers: [],
  });
  const flagged = new Counter({
    name: 'dispatch_location_flagged_total',
    help: 'Driver position fixes flagged for fraud review (impossible speed since the last fix) and not used',
    labelNames: ['reason'] as const,
    registers: [],
  });
  const coarse = new Counter({
    name: 'dispatch_location_coarse_total',
    help: 'Accepted driver position fixes too coarse (DISPATCH_LOCATION_USABLE_ACCURACY_METERS) for matching and geofences: stored and shown, not used',
    registers: [],
  });
  const fanout = new Counter({
    name: 'dispatch_driver_location_messages_total',
    help: 'driver-location messages published to the customers and restaurants of carried orders',
    registers: [],
  });
  const routingFallbacks = new Counter({
    name: 'dispatch_routing_fallbacks_total',
    help: 'Routing answers given by the haversine estimate because the maps API failed, timed out or had no route',
    registers: [],
  });
  return {
    fixes,
    flagged,
    coarse,
    fanout,
    routingFallbacks,
    all: [fixes, flagged, coarse, fanout, routingFallbacks] as Metric[],
  };
}

export type DispatchMetrics = ReturnType<typeof createDispatchMetrics>;

/** Drivers online now (issue #23's live dashboard), read at scrape time (cached 5 s). */
export function registerDriverAvailabilityMetrics<DB>(registry: Registry, db: Kysely<DB>): void {
  registerBusinessGauges(
    registry,
    async () =>
      (
        await sql<{
          online: string;
        }>`SELECT count(*) AS online FROM driver_availability WHERE online`.execute(db)
      ).rows,
    [
      {
        name: 'dispatch_drivers_online',
        help: 'Drivers online (available for offers or carrying one)',
        labelNames: [],
        samples: (rows) => [{ labels: {}, value: Number(rows[0]?.online ?? 0) }],
      },
    ],
  );
}
