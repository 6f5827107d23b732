/**
 * A customer's ETA (pure, no I/O). Travel times come from the routing port; this only adds them up.
 *
 *  - before pickup: the driver reaches the restaurant, waits for the food if it is not ready,
 *    then rides to the customer: max(now + toRestaurant, readyAt) + toCustomer;
 *  - after pickup: now + toCustomer from the driver's position.
 *
 * The customer is told when the ETA first exists and then only when it moved by at least
 * `pushThresholdMinutes` from the last one told, so a jittery position does not spam them.
 */

export type EtaPhase = 'to_restaurant' | 'to_customer';

export interface EtaInput {
  phase: EtaPhase;
  nowMs: number;
  /** When the food is ready (before pickup), ms since the epoch. */
  readyAtMs: number;
  /** Driver → restaurant, seconds (before pickup; ignored after). */
  toRestaurantSeconds: number;
  /** Restaurant → customer before pickup, driver → customer after, seconds. */
  toCustomerSeconds: number;
}

export function estimateArrival(input: EtaInput): number {
  if (input.phase === 'to_customer') return input.nowMs + input.toCustomerSeconds * 1000;
  const leavesRestaurant = Math.max(input.nowMs + input.toRestaurantSeconds * 1000, input.readyAtMs);
  return leavesRestaurant + input.toCustomerSeconds * 1000;
}

/** Whether a new ETA is worth telling the customer, given the last one told (if any). */
export function shouldTell(lastToldMs: number | null, nextMs: number, pushThresholdMinutes: number): boolean {
  if (lastToldMs === null) return true;
  return Math.abs(nextMs - lastToldMs) >= pushThresholdMinutes * 60_000;
}
