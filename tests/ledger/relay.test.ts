import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, providerClearingId, type Transfer } from '../../ledger/rules/index.js';
import {
  createLedgerRelay,
  decodeRelayValue,
  encodeRelayValue,
  LedgerUnavailableError,
  type LedgerRelay,
} from '../../ledger/writer/index.js';
import { createLedgerHarness, type LedgerHarness } from './harness.js';

/**
 * The relay (ledger/writer/relay.ts) with two writers on one stream in one process, each with its
 * own lease connection and relay, as two instances have: the one without the lease forwards.
 */
let harness: LedgerHarness;
const relays: LedgerRelay[] = [];
beforeAll(async () => {
  harness = await createLedgerHarness();
});
afterAll(async () => {
  await Promise.allSettled(relays.map((relay) => relay.close()));
  await harness.close();
});

const treasury = providerClearingId('campay', 'XAF');
const topUp = (id: string, wallet: string, amount: bigint): Transfer => ({
  id,
  debitAccountId: treasury,
  creditAccountId: wallet,
  amountMinor: amount,
  currency: 'XAF',
  code: 'topup',
  flags: {},
});

function instance(stream: string, options: { timeoutMs?: number } = {}) {
  const writer = harness.writer({ stream, unavailableTimeoutMs: 60_000 });
  const relay = createLedgerRelay({
    writer,
    db: harness.database.db,
    connectionString: harness.database.url,
    timeoutMs: options.timeoutMs ?? 5_000,
  });
  relays.push(relay);
  return { writer, relay };
}

async function relayRows(stream: string): Promise<number> {
  const result = await harness.database.pool.query(
    'SELECT count(*)::int AS n FROM ledger_relay WHERE stream = $1',
    [stream],
  );
  return (result.rows[0] as { n: number }).n;
}

describe('ledger relay', () => {
  it('encodes bigints exactly, beyond the safe integer range', () => {
    const value = { amountMinor: 2n ** 63n - 1n, nested: [{ t: 1_733_000_000_000_000_001n }], s: 'x' };
    expect(decodeRelayValue(encodeRelayValue(value))).toEqual(value);
  });

  it('the instance without the lease submits and reads through the holder; a retry answers exists', async () => {
    const stream = 'ledger-relay-a';
    const holder = instance(stream);
    await holder.relay.start();
    await holder.writer.start();
    const standby = instance(stream);
    await standby.relay.start();
    expect(holder.writer.ready()).toBe(true);
    expect(standby.writer.ready()).toBe(false);

    const wallet = customerWalletId('relay-ann', 'XAF');
    const outcomes = await standby.relay.submit([topUp('r1', wallet, 2_500n)]);
    expect(outcomes.map((outcome) => outcome.result)).toEqual(['ok']);
    expect(typeof outcomes[0]!.timestamp).toBe('bigint');
    // Applied once, by the holder's writer (the standby's never wrote).
    expect(holder.writer.head().transferCount).toBe(1n);
    expect(standby.writer.head().revision).toBe(-1n);

    const again = await standby.relay.submit([topUp('r1', wallet, 2_500n)]);
    expect(again.map((outcome) => outcome.result)).toEqual(['exists']);
    const changed = await standby.relay.submit([topUp('r1', wallet, 9n)]);
    expect(changed.map((outcome) => outcome.result)).toEqual(['exists_with_different_fields']);
    expect(holder.writer.head().transferCount).toBe(1n);

    // Balances: the holder's memory, current right after the write (no projection lag).
    const account = await standby.relay.account(wallet);
    expect(account?.creditsPosted).toBe(2_500n);
    expect(account?.availableMinor).toBe(2_500n);
    expect(await standby.relay.account(customerWalletId('nobody', 'XAF'))).toBeNull();
    expect((await standby.relay.ping()).holder).toBe(holder.relay.instance);
    // The caller deleted every answered row as it read it.
    expect(await relayRows(stream)).toBe(0);
    expect(standby.relay.stats().forwarded).toBeGreaterThanOrEqual(5);
    expect(holder.relay.stats().served).toBeGreaterThanOrEqual(5);

    // Many concurrent calls from the standby: each answered with its own outcome, in few events.
    const revisionBefore = holder.writer.head().revision;
    const many = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        standby.relay.submit([topUp(`r-many-${index}`, customerWalletId(`relay-${index % 7}`, 'XAF'), 10n)]),
      ),
    );
    expect(many.flat().every((outcome) => outcome.result === 'ok')).toBe(true);
    expect(holder.writer.head().transferCount).toBe(201n);
    expect(holder.writer.head().revision - revisionBefore).toBeLessThan(200n);
  });

  it('with no holder, a call nobody claimed is withdrawn at its deadline (never runs); the next holder serves it', async () => {
    const stream = 'ledger-relay-b';
    // Someone else holds the lease and serves nothing (a stuck holder).
    const squatter = new pg.Client({ connectionString: harness.database.url });
    await squatter.connect();
    await squatter.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`ledger-writer:${stream}`]);
    const standby = instance(stream, { timeoutMs: 600 });
    await standby.relay.start();
    const wallet = customerWalletId('relay-bob', 'XAF');
    const error = await standby.relay.submit([topUp('b1', wallet, 100n)]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LedgerUnavailableError);
    expect((error as LedgerUnavailableError).outcomeUnknown).toBe(false);
    await expect(standby.relay.ping(300)).rejects.toBeInstanceOf(LedgerUnavailableError);
    expect(await relayRows(stream)).toBe(0);

    // A call claimed by a holder that died before answering is claimed again by the next holder.
    await harness.database.pool.query(
      `INSERT INTO ledger_relay (id, stream, kind, payload, reply_to, claimed_at, claimed_by)
       VALUES (gen_random_uuid(), $1, 'submit', $2, 'ledger_answer_gone', now() - interval '10 seconds', 'dead')`,
      [stream, encodeRelayValue([topUp('b2', wallet, 40n)])],
    );
    // The squatter goes: the standby's writer takes the lease within a second and serves what waits.
    await squatter.end();
    const deadline = Date.now() + 10_000;
    while (!standby.writer.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(standby.writer.ready()).toBe(true);
    while (standby.writer.head().transferCount < 1n && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(standby.writer.head().transferCount).toBe(1n);
    // b1 was withdrawn, so it never ran: only the reclaimed b2 landed.
    expect((await standby.relay.account(wallet))?.creditsPosted).toBe(40n);
    expect((await standby.relay.submit([topUp('b1', wallet, 100n)]))[0]!.result).toBe('ok');
  });

  it('when the holder goes away, the other instance takes the lease and answers its own calls', async () => {
    const stream = 'ledger-relay-c';
    const first = instance(stream);
    await first.relay.start();
    await first.writer.start();
    const second = instance(stream);
    await second.relay.start();
    const wallet = customerWalletId('relay-cat', 'XAF');
    expect((await second.relay.submit([topUp('c1', wallet, 5n)]))[0]!.result).toBe('ok');
    // The holder goes away (its process ends): the other takes over; the old one's relay forwards.
    await first.writer.close();
    const deadline = Date.now() + 10_000;
    while (!second.writer.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(second.writer.ready()).toBe(true);
    expect((await second.relay.submit([topUp('c2', wallet, 5n)]))[0]!.result).toBe('ok');
    expect((await second.relay.account(wallet))?.creditsPosted).toBe(10n);
  });
});
