import type { Generated, Kysely } from 'kysely';

/** A driver's shift state and last accepted fix: one row per driver who ever went online. */
export interface DriverAvailabilityTable {
  driver_id: string;
  online: boolean;
  vehicle: 'motorbike' | 'car' | 'bicycle';
  since: Date;
  last_latitude: number | null;
  last_longitude: number | null;
  last_accuracy_meters: number | null;
  last_heading: number | null;
  last_speed_kmh: number | null;
  last_recorded_at: Date | null;
  last_accepted_at: Date | null;
  updated_at: Generated<Date>;
}

/** The audit trail of shifts: every going online or offline, never updated. */
export interface DriverShiftEventsTable {
  id: Generated<string>;
  driver_id: string;
  online: boolean;
  vehicle: string;
  at: Generated<Date>;
}

/** A fix that was flagged (impossible speed since the last one) and not used: for fraud review. */
export interface DriverLocationFlagsTable {
  id: Generated<string>;
  driver_id: string;
  reason: string;
  latitude: number;
  longitude: number;
  recorded_at: Date;
  previous_latitude: number | null;
  previous_longitude: number | null;
  previous_recorded_at: Date | null;
  speed_kmh: number | null;
  limit_kmh: number | null;
  vehicle: string;
  created_at: Generated<Date>;
}

/** The compact trail of an order while its driver carries it (PICKED_UP), bounded per order. */
export interface OrderDriverTrailsTable {
  order_id: string;
  seq: number;
  driver_id: string;
  latitude: number;
  longitude: number;
  recorded_at: Date;
}

export interface DispatchTables {
  driver_availability: DriverAvailabilityTable;
  driver_shift_events: DriverShiftEventsTable;
  driver_location_flags: DriverLocationFlagsTable;
  order_driver_trails: OrderDriverTrailsTable;
}

export type DispatchDb = Kysely<DispatchTables>;
