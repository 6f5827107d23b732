/**
 * The invariants every fault schedule must leave intact, read from PostgreSQL (the ledger's own
 * event stream, the payments and orders tables) and from the provider simulators' records. Each
 * violation comes with its evidence; `settledInvariants` allows the reactors, jobs and sweeps a
 * bounded time to finish before it reports. Tested to catch each violation: invariants.test.ts.
 */
import { sql, type Kysely } from 'kysely';
import { readLedgerStream, verifyLedger } from '../../ledger/audit/verify.js';
import { accountSpec, replay, type Account, type AcceptedTransfer } from '../../ledger/rules/index.js';
import { DEFAULT_LEDGER_STREAM } from '../../ledger/writer/events.js';
import type { EventStore } from '../../src/eventstore/index.js';
import { keyedUuid } from '../../src/http/idempotency.js';
import type { SimTransaction } from '../../src/modules/payments/simulators/engine.js';

type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- reads other contexts' tables and views

export type InvariantName =
  | 'ledger_verify'
  | 'collection_credited_once'
  | 'payout_sent_at_most_once'
  | 'order_escrow'
  | 'idempotency_key_stuck'
  | 'wallet_not_negative';

export interface Violation {
  invariant: InvariantName;
  /** What it is about: a transfer, a payment, a payout, an order, a key, an account. */
  subject: string;
  detail: string;
  evidence: Record<string, unknown>;
}

export interface ProviderRecord {
  provider: 'campay' | 'mtn_momo';
  transaction: Pick<SimTransaction, 'reference' | 'kind' | 'externalReference' | 'status' | 'amount'>;
}

export interface InvariantSource {
  db: AnyDb;
  store: EventStore;
  /** Every transaction the providers hold (the simulators' records). */
  providerRecords(): ProviderRecord[];
  /** The app's idempotency lease (IDEMPOTENCY_LEASE_SECONDS) in ms. */
  leaseMs: number;
}

interface LedgerFacts {
  transfers: AcceptedTransfer[];
  accounts: ReadonlyMap<string, Account>;
}

async function ledgerFacts(source: InvariantSource): Promise<LedgerFacts> {
  const stored = await readLedgerStream(source.store, DEFAULT_LEDGER_STREAM);
  const entries = stored.map((item) => item.entry);
  const transfers = entries.flatMap((entry) => ('undecodable' in entry ? [] : entry.transfersAccepted));
  return { transfers, accounts: replay(entries).accounts };
}

/** `npm run ledger -- verify`'s check: balances, invariants, the hash chain and the read models. */
async function ledgerVerify(source: InvariantSource): Promise<Violation[]> {
  const report = await verifyLedger({ store: source.store, db: source.db, projections: true });
  return report.mismatches.map((finding) => ({
    invariant: 'ledger_verify',
    subject: finding.transferId ?? finding.accountId ?? `event ${String(finding.event?.revision ?? '?')}`,
    detail: `${finding.kind}: ${finding.detail}`,
    evidence: {
      ...finding,
      event: finding.event && { ...finding.event, revision: String(finding.event.revision) },
    },
  }));
}

const CREDIT = /^pay:([0-9a-f-]{36}):(credit|capture)$/;

/**
 * Every successful collection at a provider is credited exactly once, at min(requested, reported);
 * nothing is credited that no provider collected; no attempt was collected twice from the payer.
 */
async function collections(source: InvariantSource, facts: LedgerFacts): Promise<Violation[]> {
  const credits = new Map<string, AcceptedTransfer[]>();
  for (const transfer of facts.transfers) {
    const match = CREDIT.exec(transfer.id);
    if (match === null) continue;
    credits.set(match[1]!, [...(credits.get(match[1]!) ?? []), transfer]);
  }
  const successes = new Map<string, ProviderRecord[]>();
  for (const record of source.providerRecords()) {
    const { transaction } = record;
    if (transaction.kind !== 'collection' || transaction.status !== 'SUCCESSFUL') continue;
    successes.set(transaction.externalReference, [
      ...(successes.get(transaction.externalReference) ?? []),
      record,
    ]);
  }
  const attempts = await source.db
    .selectFrom('payment_attempts')
    .select([
      'payment_id',
      'amount_minor',
      'status',
      'purpose',
      'provider',
      'provider_reference',
      'failure_reason',
      'after_expiry',
      'created_at',
      'updated_at',
      'settled_at',
    ])
    .execute();
  // Where our side left each attempt: the evidence of a collection not credited says which path it took.
  const attemptRows = new Map(attempts.map((row) => [row.payment_id as string, row]));
  const requested = new Map(
    attempts.map((row) => [row.payment_id as string, BigInt(row.amount_minor as string)]),
  );
  const violations: Violation[] = [];
  const add = (subject: string, detail: string, evidence: Record<string, unknown>) =>
    violations.push({ invariant: 'collection_credited_once', subject, detail, evidence });
  for (const [paymentId, collected] of successes) {
    const booked = credits.get(paymentId) ?? [];
    const attempt = attemptRows.get(paymentId);
    const evidence = {
      collected: collected.map(describeRecord),
      booked: booked.map(describeTransfer),
      attempt:
        attempt === undefined
          ? null
          : { ...attempt, amount_minor: String(attempt.amount_minor as string | bigint) },
    };
    if (collected.length > 1) add(paymentId, `collected ${collected.length} times from the payer`, evidence);
    if (booked.length === 0) add(paymentId, 'collected at the provider, never credited', evidence);
    if (booked.length > 1) add(paymentId, `credited ${booked.length} times`, evidence);
    const asked = requested.get(paymentId);
    const reported = collected[0]!.transaction.amount;
    const due = asked === undefined || reported < asked ? reported : asked;
    if (booked.length === 1 && booked[0]!.amountMinor !== due)
      add(
        paymentId,
        `credited ${booked[0]!.amountMinor}, due min(requested ${asked}, reported ${reported})`,
        evidence,
      );
  }
  for (const [paymentId, booked] of credits)
    if (!successes.has(paymentId))
      add(paymentId, 'credited with no successful collection at any provider', {
        booked: booked.map(describeTransfer),
      });
  return violations;
}

/** No payout is disbursed twice; what the provider paid is posted in our books, never voided. */
async function payouts(source: InvariantSource): Promise<Violation[]> {
  const sent = new Map<string, ProviderRecord[]>();
  for (const record of source.providerRecords()) {
    const { transaction } = record;
    if (transaction.kind !== 'disbursement' || transaction.status === 'FAILED') continue;
    sent.set(transaction.externalReference, [...(sent.get(transaction.externalReference) ?? []), record]);
  }
  const rows = await source.db
    .selectFrom('payouts')
    .select(['payout_id', 'status', 'amount_minor', 'sends', 'provider_reference'])
    .execute();
  const status = new Map(rows.map((row) => [row.payout_id as string, row]));
  const violations: Violation[] = [];
  for (const [payoutId, disbursed] of sent) {
    const row = status.get(payoutId);
    const evidence = { disbursed: disbursed.map(describeRecord), payout: row ?? null };
    const add = (detail: string) =>
      violations.push({ invariant: 'payout_sent_at_most_once', subject: payoutId, detail, evidence });
    if (disbursed.length > 1) add(`disbursed ${disbursed.length} times at the provider`);
    const paid = disbursed.some((record) => record.transaction.status === 'SUCCESSFUL');
    if (paid && (row?.status === 'FAILED' || row?.status === 'REJECTED'))
      add(`paid at the provider but ${row.status} in our books (hold voided)`);
    if (row === undefined) add('disbursed for a payout we have no record of');
  }
  for (const row of rows)
    if (row.status === 'SUCCEEDED' && !sent.has(row.payout_id as string) && row.provider_reference === null)
      violations.push({
        invariant: 'payout_sent_at_most_once',
        subject: row.payout_id as string,
        detail: 'SUCCEEDED in our books with nothing disbursed at the provider',
        evidence: { payout: row },
      });
  return violations;
}

const IN_FLIGHT = new Set(['PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP', 'PICKED_UP']);
const EMPTIED = new Set([
  'DELIVERED',
  'COMPLETED',
  'CANCELLED',
  'REJECTED',
  'PAYMENT_FAILED',
  'PAYMENT_EXPIRED',
]);

function escrowOrderId(accountId: string): string | undefined {
  const spec = accountSpec(accountId);
  return spec?.role === 'order_escrow' && spec.currency === 'XAF' ? spec.subject : undefined;
}

/**
 * Every paid order holds its total in escrow while in flight; a finished order's escrow is empty,
 * released (delivered) or refunded (cancelled, rejected); no escrow holds money for no order.
 */
async function orders(source: InvariantSource, facts: LedgerFacts): Promise<Violation[]> {
  const rows = await sql<{
    order_id: string;
    status: string;
    total_minor: string;
    placed_at: Date | null;
    last_revision: string;
    stream_revision: string | null;
  }>`
    SELECT v.order_id, v.status, v.total_minor, v.placed_at, v.last_revision, s.revision AS stream_revision
      FROM orders_view v LEFT JOIN eventstore_streams s ON s.stream_id = 'order-' || v.order_id`.execute(
    source.db,
  );
  const streams = await sql<{ stream_id: string }>`
    SELECT stream_id FROM eventstore_streams WHERE stream_id LIKE 'order-%'`.execute(source.db);
  const violations: Violation[] = [];
  const add = (subject: string, detail: string, evidence: Record<string, unknown>) =>
    violations.push({ invariant: 'order_escrow', subject, detail, evidence });
  const viewed = new Set(rows.rows.map((row) => row.order_id));
  for (const stream of streams.rows) {
    const orderId = stream.stream_id.slice('order-'.length);
    if (!viewed.has(orderId)) add(orderId, 'order stream not in the read model yet', {});
  }
  const movedOut = new Set(facts.transfers.map((transfer) => transfer.debitAccountId));
  const escrows = new Map<string, Account>();
  for (const account of facts.accounts.values()) {
    const orderId = escrowOrderId(account.id);
    if (orderId !== undefined) escrows.set(orderId, account);
  }
  for (const row of rows.rows) {
    const account = escrows.get(row.order_id);
    const balance = account === undefined ? 0n : account.creditsPosted - account.debitsPosted;
    const evidence = {
      status: row.status,
      totalMinor: row.total_minor,
      escrowMinor: String(balance),
      account: account?.id ?? null,
    };
    if (row.stream_revision !== null && row.last_revision !== row.stream_revision)
      add(row.order_id, 'read model behind the order stream', {
        ...evidence,
        view: row.last_revision,
        stream: row.stream_revision,
      });
    if (IN_FLIGHT.has(row.status) && balance !== BigInt(row.total_minor))
      add(
        row.order_id,
        `${row.status} with ${balance} in escrow for a total of ${row.total_minor}`,
        evidence,
      );
    if ((EMPTIED.has(row.status) || row.status === 'PENDING_PAYMENT') && balance !== 0n)
      add(row.order_id, `${row.status} with ${balance} left in escrow`, evidence);
    if (
      EMPTIED.has(row.status) &&
      row.placed_at !== null &&
      account !== undefined &&
      !movedOut.has(account.id)
    )
      add(
        row.order_id,
        `${row.status} after payment, but nothing left its escrow (no release, no refund)`,
        evidence,
      );
  }
  for (const [orderId, account] of escrows) {
    if (viewed.has(orderId)) continue;
    const balance = account.creditsPosted - account.debitsPosted;
    if (balance !== 0n)
      add(orderId, `escrow holds ${balance} for an order that does not exist`, { account: account.id });
  }
  return violations;
}

/** No key is left in progress (no answer) once its lease is over, unless its work is its answer. */
async function idempotencyKeys(source: InvariantSource): Promise<Violation[]> {
  const leased = await sql<{ present: boolean }>`
    SELECT EXISTS (SELECT FROM information_schema.columns
                    WHERE table_name = 'idempotency_keys' AND column_name = 'lease_expires_at') AS present`.execute(
    source.db,
  );
  const leaseEnd = leased.rows[0]?.present
    ? sql`lease_expires_at`
    : sql`created_at + ${source.leaseMs} * interval '1 millisecond'`;
  const stuck = await sql<{ scope: string; key: string; created_at: Date; lease_end: Date }>`
    SELECT scope, key, created_at, ${leaseEnd} AS lease_end FROM idempotency_keys
     WHERE status_code IS NULL AND ${leaseEnd} < now()`.execute(source.db);
  const violations: Violation[] = [];
  for (const row of stuck.rows) {
    if (row.scope.startsWith('orders:')) {
      const answered =
        await sql`SELECT 1 FROM eventstore_streams WHERE stream_id = ${`order-${keyedUuid('order', row.scope, row.key)}`}`.execute(
          source.db,
        );
      if (answered.rows.length > 0) continue;
    }
    violations.push({
      invariant: 'idempotency_key_stuck',
      subject: `${row.scope} ${row.key}`,
      detail: 'in progress (no answer) after its lease ended',
      evidence: { createdAt: row.created_at.toISOString(), leaseEnded: row.lease_end.toISOString() },
    });
  }
  return violations;
}

/** No wallet, payable or escrow (debits must not exceed credits) is below zero, holds counted. */
export function negativeBalances(accounts: Iterable<Account>): Violation[] {
  return [...accounts]
    .filter((account) => account.flags.debitsMustNotExceedCredits)
    .filter((account) => account.creditsPosted - account.debitsPosted - account.debitsPending < 0n)
    .map((account) => ({
      invariant: 'wallet_not_negative' as const,
      subject: account.id,
      detail: `available ${account.creditsPosted - account.debitsPosted - account.debitsPending}`,
      evidence: describeAccount(account),
    }));
}

/** Every invariant, once. */
export async function checkInvariants(source: InvariantSource): Promise<Violation[]> {
  const facts = await ledgerFacts(source);
  return [
    ...(await ledgerVerify(source)),
    ...(await collections(source, facts)),
    ...(await payouts(source)),
    ...(await orders(source, facts)),
    ...(await idempotencyKeys(source)),
    ...negativeBalances(facts.accounts.values()),
  ];
}

/**
 * Checks until nothing is violated or `deadlineMs` passed (reactors, jobs and read models settle
 * meanwhile), and returns what is still violated then.
 */
export async function settledInvariants(source: InvariantSource, deadlineMs: number): Promise<Violation[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const violations = await checkInvariants(source);
    if (violations.length === 0 || Date.now() > deadline) return violations;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function describeRecord(record: ProviderRecord) {
  const { transaction } = record;
  return {
    provider: record.provider,
    reference: transaction.reference,
    status: transaction.status,
    amount: String(transaction.amount),
  };
}
function describeTransfer(transfer: AcceptedTransfer) {
  return {
    id: transfer.id,
    amountMinor: String(transfer.amountMinor),
    debit: transfer.debitAccountId,
    credit: transfer.creditAccountId,
  };
}
function describeAccount(account: Account) {
  return {
    id: account.id,
    debitsPosted: String(account.debitsPosted),
    creditsPosted: String(account.creditsPosted),
    debitsPending: String(account.debitsPending),
  };
}
