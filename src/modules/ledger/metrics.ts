import { sql, type Kysely } from 'kysely';
import { Gauge, type Registry } from 'prom-client';
import type { LedgerWriter } from '../../../ledger/writer/index.js';
import type { LastVerification } from './verifications.js';
import { registerBusinessGauges } from '../../platform/business-metrics.js';

interface EscrowRow {
  currency: string;
  held: string;
  accounts: string;
}

/**
 * Money held in escrow for open orders (customers paid, not yet released to the restaurant and
 * driver nor refunded), per currency, from the ledger's balances read model: credits minus debits,
 * posted and pending, of the open `escrow:order:*` accounts (a partial index covers them).
 */
export function registerLedgerMetrics<DB>(
  registry: Registry,
  db: Kysely<DB>,
  ledger: {
    writer: Pick<LedgerWriter, 'head' | 'memory' | 'ready'>;
    lastVerification(): Promise<LastVerification | undefined>;
  },
): void {
  registerWriterMetrics(registry, ledger.writer);
  registerBusinessGauges(registry, () => ledger.lastVerification(), [
    {
      name: 'ledger_verify_last_ok',
      help: '1 when the last ledger verification (CLI, admin, nightly schedule or export) passed, 0 when it failed; absent before the first',
      labelNames: ['source'],
      samples: (last) =>
        last === undefined ? [] : [{ labels: { source: last.source }, value: last.ok ? 1 : 0 }],
    },
    {
      name: 'ledger_verify_last_run_timestamp_seconds',
      help: 'When the last ledger verification ran (Unix seconds)',
      labelNames: [],
      samples: (last) =>
        last === undefined ? [] : [{ labels: {}, value: last.verifiedAt.getTime() / 1000 }],
    },
  ]);
  registerBusinessGauges(registry, async () => {
    const present = await sql<{
      present: boolean;
    }>`SELECT to_regclass('public.ledger_accounts') IS NOT NULL AS present`.execute(db);
    if (!present.rows[0]?.present) return [];
    return (
      await sql<EscrowRow>`SELECT currency,
            sum(credits_posted + credits_pending - debits_posted - debits_pending)::text AS held,
            count(*)::text AS accounts
          FROM ledger_accounts WHERE id LIKE 'escrow:order:%' AND NOT closed GROUP BY currency`.execute(db)
    ).rows;
  }, [
    {
      name: 'ledger_escrow_held_minor',
      help: 'Money held in escrow for open orders, in minor units, per currency',
      labelNames: ['currency'],
      samples: (rows) => rows.map((row) => ({ labels: { currency: row.currency }, value: Number(row.held) })),
    },
    {
      name: 'ledger_escrow_open_accounts',
      help: 'Open escrow accounts (orders whose money is held), per currency',
      labelNames: ['currency'],
      samples: (rows) =>
        rows.map((row) => ({ labels: { currency: row.currency }, value: Number(row.accounts) })),
    },
  ]);
}

/**
 * This instance's ledger writer (only the lease holder's is ready and moves). Batch size is
 * `rate(ledger_writer_transfers[5m]) / rate(ledger_writer_events[5m])`.
 */
function registerWriterMetrics(
  registry: Registry,
  writer: Pick<LedgerWriter, 'head' | 'memory' | 'ready'>,
): void {
  const gauge = (name: string, help: string, value: () => number) => {
    if (registry.getSingleMetric(name) !== undefined) return;
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  };
  gauge('ledger_writer_ready', '1 when this instance holds the writer lease and its state is restored', () =>
    writer.ready() ? 1 : 0,
  );
  gauge(
    'ledger_writer_queued_transfers',
    "Transfers waiting in this writer's queue",
    () => writer.memory().queuedTransfers,
  );
  gauge('ledger_writer_transfers', 'Transfers in the ledger as this writer knows it (its head)', () =>
    Number(writer.head().transferCount),
  );
  gauge('ledger_writer_events', 'Ledger batch events as this writer knows it (its head revision + 1)', () =>
    Number(writer.head().revision + 1n),
  );
}
