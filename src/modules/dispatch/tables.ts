import type { ColumnType, Generated, Kysely } from 'kysely';
import type { OffersTables } from './offers-tables.js';

type Json<T> = ColumnType<T, string, string>;

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

/** A user's application to drive (onboarding.ts): one row per user, resubmitted in place. */
export interface DriverApplicationsTable {
  user_id: string;
  status: 'pending' | 'approved' | 'rejected' | 'more_info';
  vehicle: 'motorbike' | 'car' | 'bicycle';
  plate: string | null;
  licence_expires_on: ColumnType<string, string, string>;
  insurance_expires_on: ColumnType<string | null, string | null, string | null>;
  /** Document kind → file id (files context, purpose driver_document). */
  documents: Json<Record<string, string>>;
  background_check: Generated<'not_started' | 'clear' | 'flagged'>;
  reason: string | null;
  reviewed_by: string | null;
  reviewed_at: Date | null;
  submitted_at: Date;
  updated_at: Generated<Date>;
}

/** An incentive rule set by an administrator (earnings.ts): fuel per km, peak hours, challenges. */
export interface DriverIncentiveRulesTable {
  id: string;
  kind: 'fuel_per_km' | 'peak_hour' | 'bonus_challenge';
  name: string;
  amount_minor: ColumnType<bigint, bigint, bigint>;
  params: Json<Record<string, unknown>>;
  active: Generated<boolean>;
  created_by: string;
  created_at: Generated<Date>;
}

/** An emergency (the button) or an incident report of a driver (safety.ts). */
export interface DriverSafetyReportsTable {
  id: string;
  driver_id: string;
  kind: 'emergency' | 'incident';
  category: string | null;
  order_id: string | null;
  description: string | null;
  latitude: number | null;
  longitude: number | null;
  position_recorded_at: Date | null;
  photos: ColumnType<string[], string | undefined, string>;
  status: Generated<'open' | 'resolved'>;
  created_at: Generated<Date>;
}

/** The proof of a failed delivery (delivery-proof.ts): why, the photo and where the driver was. */
export interface DriverDeliveryFailuresTable {
  order_id: string;
  driver_id: string;
  reason: 'customer_absent' | 'wrong_address' | 'unsafe';
  photo_file_id: string;
  latitude: number;
  longitude: number;
  accuracy_meters: number;
  recorded_at: Date;
  note: string | null;
  created_at: Generated<Date>;
}

/** A driver's vehicle maintenance plan (maintenance.ts): a due date and/or a mileage interval. */
export interface DriverVehicleMaintenanceTable {
  driver_id: string;
  due_on: ColumnType<string | null, string | null, string | null>;
  interval_km: number | null;
  last_service_km: number | null;
  odometer_km: number | null;
  updated_by: string | null;
  updated_at: Generated<Date>;
}

/** A speeding leg of a carried order (safety.ts `speedCheck`): id derived from the order and the fix. */
export interface DispatchSpeedAlertsTable {
  id: string;
  driver_id: string;
  order_id: string;
  vehicle: 'motorbike' | 'car' | 'bicycle';
  speed_kmh: number;
  limit_kmh: number;
  from_latitude: number;
  from_longitude: number;
  from_recorded_at: Date;
  to_latitude: number;
  to_longitude: number;
  to_recorded_at: Date;
  created_at: Generated<Date>;
}

/** A daily job's completed Douala day (daily-runs.ts): what a missed day is caught up from. */
export interface DispatchDailyRunsTable {
  job: 'reminders' | 'incentives';
  day: ColumnType<string, string, string>;
  completed_at: Generated<Date>;
}

/** Matching, offers and ETAs declare theirs in offers-tables.ts. */
export interface DispatchTables extends OffersTables {
  driver_delivery_failures: DriverDeliveryFailuresTable;
  driver_vehicle_maintenance: DriverVehicleMaintenanceTable;
  driver_applications: DriverApplicationsTable;
  driver_incentive_rules: DriverIncentiveRulesTable;
  driver_safety_reports: DriverSafetyReportsTable;
  dispatch_speed_alerts: DispatchSpeedAlertsTable;
  dispatch_daily_runs: DispatchDailyRunsTable;
  driver_availability: DriverAvailabilityTable;
  driver_shift_events: DriverShiftEventsTable;
  driver_location_flags: DriverLocationFlagsTable;
  order_driver_trails: OrderDriverTrailsTable;
}

export type DispatchDb = Kysely<DispatchTables>;
