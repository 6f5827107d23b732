import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAGIC_NUMBERS } from '../../src/modules/payments/simulators/index.js';
import { placeOrder, type OrderWorld } from './orders/helpers.js';
import { listeningPaymentsWorld, topUp, until, wallet } from './payments/helpers.js';

/**
 * The business figures on /metrics (docs/operations.md, "Metrics, dashboards and alerts"), read
 * from PostgreSQL at scrape time, checked against what the test did.
 */
let world: OrderWorld;
beforeAll(async () => {
  world = await listeningPaymentsWorld();
});
afterAll(async () => world?.testApp.close());

async function scrape(): Promise<string> {
  const response = await world.testApp.app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return response.body;
}

/** The value of one sample, by its exact label set as Prometheus prints it. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  const text = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',');
  const prefix = text === '' ? `${name} ` : `${name}{${text}} `;
  const line = body.split('\n').find((candidate) => candidate.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// The figures are cached for 5 s per scrape window: wait past it between changes.
const freshScrape = async (check: (body: string) => boolean): Promise<string> => until(scrape, check, 15_000);

describe('business metrics', () => {
  it('counts collections by provider and outcome, orders by status, escrow held and the payout backlog', async () => {
    const { testApp, actors } = world;
    const customer = actors.customer;
    const before = await scrape();
    // Relative to what was there: CI runs a failed test once more, over the same database.
    const openBefore = sample(before, 'payouts_open', { status: 'REQUESTED' }) ?? 0;
    const ordersBefore = sample(before, 'orders_created', { window: '24h', status: 'PLACED' }) ?? 0;
    const escrowBefore = sample(before, 'ledger_escrow_held_minor', { currency: 'XAF' }) ?? 0;
    const escrowAccountsBefore = sample(before, 'ledger_escrow_open_accounts', { currency: 'XAF' }) ?? 0;
    expect(sample(before, 'ledger_writer_ready', {})).toBeDefined();

    expect((await topUp(testApp, customer.accessToken, 20_000, MAGIC_NUMBERS.MTN.succeed)).statusCode).toBe(
      202,
    );
    await until(
      () => wallet(testApp, customer.accessToken),
      (w) => w.balanceMinor === 20_000,
    );
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const total = placed.json().pricing.totalMinor as number;

    // A payout waiting for finance since ten minutes ago.
    await testApp.services.db
      .insertInto('payouts')
      .values({
        payout_id: randomUUID(),
        payee_kind: 'restaurant',
        payee_id: randomUUID(),
        requested_by: actors.owner.userId,
        amount_minor: 5_000n,
        currency: 'XAF',
        phone: '+237670055501',
        status: 'REQUESTED',
        provider: null,
        provider_reference: null,
        fee_minor: null,
        failure_reason: null,
        sent_at: null,
        review_reason: null,
        approved_by: null,
        approved_at: null,
        created_at: new Date(Date.now() - 600_000),
      })
      .execute();

    // The escrow figure comes from the ledger's projection, which may trail the order's answer on
    // a loaded machine: wait for it too, not only for the order and the payout.
    const body = await freshScrape(
      (text) =>
        sample(text, 'orders_created', { window: '24h', status: 'PLACED' }) === ordersBefore + 1 &&
        sample(text, 'payouts_open', { status: 'REQUESTED' }) === openBefore + 1 &&
        sample(text, 'ledger_escrow_held_minor', { currency: 'XAF' }) === escrowBefore + total,
    );
    expect(sample(body, 'orders_created', { window: '1h', status: 'PLACED' })).toBe(ordersBefore + 1);
    expect(sample(body, 'orders_created', { window: '5m', status: 'PLACED' })).toBe(ordersBefore + 1);
    const provider = body.match(
      /payment_attempts_recent\{window="1h",provider="([^"]+)",status="SUCCEEDED"\} 1/,
    );
    expect(
      provider,
      body
        .split('\n')
        .filter((line) => line.startsWith('payment_'))
        .join('\n'),
    ).not.toBeNull();
    const p95 = sample(body, 'payment_settlement_seconds', {
      window: '1h',
      provider: provider![1]!,
      quantile: '0.95',
    });
    expect(p95).toBeGreaterThan(0);
    expect(p95).toBeLessThan(60);
    expect(sample(body, 'ledger_escrow_held_minor', { currency: 'XAF' })).toBe(escrowBefore + total);
    expect(sample(body, 'ledger_escrow_open_accounts', { currency: 'XAF' })).toBe(escrowAccountsBefore + 1);
    const oldest = sample(body, 'payouts_oldest_open_seconds', { status: 'REQUESTED' })!;
    expect(oldest).toBeGreaterThanOrEqual(600);
    expect(oldest).toBeLessThan(700);
    expect(sample(body, 'ledger_writer_ready', {})).toBe(1);
    expect(sample(body, 'ledger_writer_transfers', {})).toBeGreaterThanOrEqual(2);
  });

  it('counts notifications by channel, transport and outcome, and their send time', async () => {
    const { testApp } = world;
    await testApp.services.notifications.sms.send({ to: '+237670055509', body: 'Votre commande arrive' });
    const body = await scrape();
    expect(
      sample(body, 'notifications_sent_total', { channel: 'sms', transport: 'outbox', outcome: 'sent' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(body, 'notification_send_seconds_count', { channel: 'sms', transport: 'outbox' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('reports the last ledger verification, by any process and source; the nightly job records its own', async () => {
    const { testApp } = world;
    const report = await testApp.services.ledger.verify({ source: 'cli' });
    expect(report.ok).toBe(true);
    let body = await freshScrape((text) => sample(text, 'ledger_verify_last_ok', { source: 'cli' }) === 1);
    const ranAt = sample(body, 'ledger_verify_last_run_timestamp_seconds', {})!;
    expect(Math.abs(ranAt - Date.now() / 1000)).toBeLessThan(30);

    // What the nightly schedule enqueues, run by this app's worker.
    await testApp.services.jobs.queue.enqueue(
      'ledger-verify',
      {},
      { jobId: `ledger-verify-test-${Date.now()}` },
    );
    body = await freshScrape((text) => sample(text, 'ledger_verify_last_ok', { source: 'schedule' }) === 1);
    expect(sample(body, 'ledger_verify_last_ok', { source: 'cli' })).toBeUndefined();
    expect(testApp.services.jobs.schedules().map((schedule) => schedule.name)).toContain(
      'ledger-verify-nightly',
    );
  });
});
