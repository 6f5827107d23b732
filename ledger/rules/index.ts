/** Pure double-entry ledger rules (TigerBeetle's model): see README.md in this folder. */
export * from './types.js';
export * from './errors.js';
export {
  commitChanges,
  emptyLedgerState,
  evictAccounts,
  evictable,
  missingReferences,
  type HoldStatus,
  type LedgerChanges,
  type LedgerState,
  type PendingHold,
} from './state.js';
export * from './apply.js';
export * from './chart.js';
export * from './splits.js';
export { GENESIS_HASH, batchBodyBytes, canonicalJson, chainHash, isHashHex, sealBatch } from './hash.js';
export * from './codec.js';
export * from './replay.js';
export { isPostOrVoid } from './checks.js';
export { assertAccountBounds } from './effects.js';
