import type { Runtime } from '../../runtime.js';
import type { AppEventStore } from '../../eventstore/index.js';
import { traced } from '../../telemetry/tracing.js';
import { verifyLedger, type VerifyReport } from '../../../ledger/audit/verify.js';
import {
  createLedgerRelay,
  createLedgerWriter,
  DEFAULT_LEDGER_STREAM,
  scheduleHoldExpiry,
  type LedgerAccountView,
  type LedgerRelay,
  type LedgerWriter,
  type TransferOutcome,
} from '../../../ledger/writer/index.js';
import type { Transfer } from '../../../ledger/rules/index.js';
import { createVerificationRecord, type LastVerification, type VerificationSource } from './verifications.js';

/**
 * The ledger as other contexts use it (services.ledger). One stream (`ledger-main`) holds every
 * currency: transfers never cross currencies, so the stream could be split per currency with one
 * writer each, but one stream keeps one hash chain and one verify, and batching already makes the
 * single writer fast enough (docs/ledger.md has the figures).
 */
export interface Ledger {
  readonly stream: string;
  /**
   * Durable when resolved: one outcome per transfer (`ok`, `exists`, or why it was rejected). On
   * an instance without the writer's lease the call is forwarded to the holder (`relay`).
   */
  submit(transfers: readonly Transfer[]): Promise<TransferOutcome[]>;
  /** Balances from the writer's state (the holder's, through the relay), never from a lagging projection; null if never opened. */
  account(id: string): Promise<LedgerAccountView | null>;
  /** Voids due holds now (the node-cron job calls this every 15 s). */
  expireHolds(): Promise<{ expired: number }>;
  /**
   * Replays from genesis and compares the read models (see ledger/audit/verify.ts); each run is
   * recorded in `ledger_verifications` with who asked (`source`, default `other`).
   */
  verify(options?: {
    projections?: boolean;
    source?: VerificationSource;
    onProgress?: (eventsRead: number) => void;
  }): Promise<VerifyReport>;
  /** The last recorded verification, by any process. */
  lastVerification(): Promise<LastVerification | undefined>;
  /** Starts the hold-expiry schedule (the server does, on ready). */
  startSchedules(): void;
  readonly writer: LedgerWriter;
  /** Forwards calls to the lease holder when this instance's writer is not it (docs/ledger.md). */
  readonly relay: LedgerRelay;
}

/**
 * The event store as the ledger writer sees it: its only append is a sealed batch, so each append
 * is the span of one ledger batch (docs/operations.md, "Tracing"), around the store's own
 * `eventstore.append`. A trace of its own: a batch carries many requests' transfers, and the
 * writer's loop runs in no request's context (each request's wait is its `ledger.submit`).
 */
function tracedBatches(eventStore: AppEventStore): AppEventStore {
  return {
    ...eventStore,
    append: (stream, events, options) =>
      traced(
        'ledger.batch',
        { 'ledger.stream': stream, 'ledger.events': events.length },
        (span) => {
          const data = events[0]?.data as { batch?: unknown } | undefined;
          if (typeof data?.batch === 'string') span?.setAttribute('ledger.batch_bytes', data.batch.length);
          return eventStore.append(stream, events, options);
        },
        { root: true },
      ),
  };
}

function poolConnectionString(runtime: Runtime): string {
  const options = (runtime.database.pool as unknown as { options: { connectionString?: string } }).options;
  if (options.connectionString === undefined) throw new Error('the database pool has no connection string');
  return options.connectionString;
}

export function createLedgerService(runtime: Runtime, eventStore: AppEventStore): Ledger {
  const stream = DEFAULT_LEDGER_STREAM;
  const writer = createLedgerWriter({
    store: tracedBatches(eventStore),
    db: runtime.database.db,
    leaseConnectionString: poolConnectionString(runtime),
    stream,
    logger: runtime.logger.child({ component: 'ledger' }),
  });
  const verifications = createVerificationRecord(runtime.database.db);
  const relay = createLedgerRelay({
    writer,
    db: runtime.database.db,
    connectionString: poolConnectionString(runtime),
    logger: runtime.logger.child({ component: 'ledger-relay' }),
  });
  let schedule: { stop(): Promise<void> } | null = null;
  runtime.closers.push({
    name: 'ledger',
    close: async () => {
      await schedule?.stop();
      await relay.close();
      await writer.close();
    },
  });
  return {
    stream,
    writer,
    relay,
    submit: (transfers) =>
      traced('ledger.submit', { 'ledger.stream': stream, 'ledger.transfers': transfers.length }, () =>
        relay.submit(transfers),
      ),
    account: (id) => relay.account(id),
    expireHolds: () => writer.expireHolds(),
    async verify({ source = 'other', ...options } = {}) {
      const report = await verifyLedger({ store: eventStore, db: runtime.database.db, stream, ...options });
      await verifications.record(report, source);
      return report;
    },
    lastVerification: () => verifications.last(),
    startSchedules() {
      schedule ??= scheduleHoldExpiry(writer, { logger: runtime.logger });
    },
  };
}
