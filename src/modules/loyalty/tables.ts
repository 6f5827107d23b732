import type { Generated, Kysely } from 'kysely';

/**
 * The earning decision of one order, written at its first handling: the tier and multiplier in
 * force then, so a replayed event books the same transfer (the ledger answers `exists`).
 */
export interface LoyaltyAwardsTable {
  order_id: string;
  user_id: string;
  base_minor: bigint;
  tier: 'bronze' | 'silver' | 'gold';
  multiplier: string;
  points: bigint;
  source_event: string;
  created_at: Generated<Date>;
}

export interface LoyaltyReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

export interface LoyaltyTables {
  loyalty_awards: LoyaltyAwardsTable;
  loyalty_reactor_checkpoints: LoyaltyReactorCheckpointsTable;
}

export type LoyaltyDb = Kysely<LoyaltyTables>;
