import type { Generated } from 'kysely';

/** A dispatch still to advance: its next deadline (an offer's expiry, or now), swept by a job. */
export interface DispatchWorkTable {
  order_id: string;
  next_action_at: Date;
  attempts: Generated<number>;
  created_at: Generated<Date>;
}

/** Every offer made (read model of `dispatch-<orderId>`); an open row locks its driver. */
export interface DispatchOffersTable {
  offer_id: string;
  order_id: string;
  driver_id: string;
  status: 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';
  round: number;
  score: number;
  travel_seconds: number;
  expires_at: Date;
  /** False between the lock (the row) and the DriverOffered event: not shown to the driver yet. */
  made: Generated<boolean>;
  created_at: Generated<Date>;
  answered_at: Date | null;
}

/** The customer's current ETA and the last one they were told. */
export interface DispatchEtasTable {
  order_id: string;
  customer_id: string;
  driver_id: string | null;
  phase: string;
  eta_at: Date;
  told_eta_at: Date | null;
  updated_at: Generated<Date>;
}

/** The ETA promised at a driver's acceptance and when the order was delivered (on-time rate). */
export interface DispatchDeliveryPromisesTable {
  order_id: string;
  driver_id: string;
  promised_at: Date;
  delivered_at: Date | null;
  created_at: Generated<Date>;
}

export interface DispatchReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

export interface DispatchGeofenceArrivalsTable {
  order_id: string;
  kind: 'restaurant' | 'customer';
  at: Date;
}

export interface OffersTables {
  dispatch_work: DispatchWorkTable;
  dispatch_offers: DispatchOffersTable;
  dispatch_etas: DispatchEtasTable;
  dispatch_delivery_promises: DispatchDeliveryPromisesTable;
  dispatch_reactor_checkpoints: DispatchReactorCheckpointsTable;
  dispatch_geofence_arrivals: DispatchGeofenceArrivalsTable;
}
