import type { ColumnType, Kysely } from 'kysely';
import type { WeatherCity } from './features.js';

/**
 * The recommendations context's read model, served in `public` by its projection (projections/
 * creates it per generation; only the projection writes it, erasure aside): one row per order with
 * what the ranker reads. The delivery is kept as its location cell (about 2 km), never the address.
 */
type Json<T> = ColumnType<T, string, string>;

export interface RecoOrdersTable {
  order_id: string;
  customer_id: string;
  restaurant_id: string;
  lines: Json<{ itemId: string; quantity: number }[]>;
  cell: string | null;
  created_at: Date;
  /** Set when the payment is captured (the order counts from then on). */
  placed_at: Date | null;
  /** The restaurant's stated preparation time at placement (minutes). */
  stated_prep_minutes: number | null;
  /** Ready for pickup. */
  ready_at: Date | null;
  /** Rejected or cancelled. */
  closed_at: Date | null;
}

export interface ExperimentsTable {
  key: string;
  description: string;
  variants: Json<{ name: string; weight: number }[]>;
  /** The variant the others are compared with. */
  control: string;
  status: 'running' | 'stopped';
  created_by: string;
  created_at: ColumnType<Date, never, never>;
  stopped_at: Date | null;
}

/** One row per person exposed to an experiment (the A/B framework, experiments.ts). */
export interface ExperimentExposuresTable {
  experiment_key: string;
  subject_id: string;
  variant: string;
  first_exposed_at: Date;
  last_exposed_at: Date;
  exposures: ColumnType<number, number | undefined, number>;
}

/** One weather reading per city and hour (weather/history.ts), for the retrains' labels. */
export interface WeatherReadingsTable {
  city: WeatherCity;
  hour: Date;
  rain: boolean;
  precipitation_mm: number;
  weather_code: number;
  observed_at: Date;
  cell: string;
  provider: string;
  recorded_at: ColumnType<Date, never, never>;
}

export interface RecommendationTables {
  weather_readings: WeatherReadingsTable;
  reco_orders: RecoOrdersTable;
  experiments: ExperimentsTable;
  experiment_exposures: ExperimentExposuresTable;
}

export type RecommendationsDb = Kysely<RecommendationTables>;
