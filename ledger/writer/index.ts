/**
 * The batched ledger writer (docs/architecture.md, decision 5): see docs/ledger.md. Payments, orders and
 * payouts use `Ledger` (services.ledger): submit transfers, read balances, expire holds.
 */
export {
  createLedgerWriter,
  type LedgerAccountView,
  type LedgerHead,
  type LedgerMemoryStats,
  type LedgerWriter,
  type LedgerWriterOptions,
} from './writer.js';
export type { TransferOutcome } from './batch.js';
export { LedgerOverloadedError, LedgerSubmissionTooLargeError, LedgerUnavailableError } from './errors.js';
export {
  DEFAULT_LEDGER_STREAM,
  LEDGER_EVENT_TYPE,
  LEDGER_STREAM_PREFIX,
  decodeLedgerEvent,
  storedBatchText,
} from './events.js';
export { scheduleHoldExpiry, DEFAULT_EXPIRY_SCHEDULE } from './expiry.js';
export type { LedgerTables } from './tables.js';
export { createLedgerRelay, type LedgerRelay, type LedgerRelayOptions } from './relay.js';
export { decodeRelayValue, encodeRelayValue } from './relay-codec.js';
