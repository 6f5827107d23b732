/**
 * Queries per payment by context → bench/results/queries-per-payment.json.
 *
 * How many SQL statements and Redis commands one payment costs, filed under the context whose code
 * sent each (`tests/helpers/query-census.ts`: the innermost project frame of its stack):
 *   - a wallet-paid `POST /v1/orders` (answered 201 PLACED),
 *   - a Mobile Money order from its `POST` to its capture in escrow (initiate → the simulator's
 *     webhook → settled),
 * each followed until the app is back to idle, so that what the contexts listening to the events
 * (projections, notify, loyalty, dispatch, recommendations, ...) do is counted too; what the idle
 * app polls over the same time is subtracted. Payments one after another, each by a new customer.
 * The in-process simulators (they send no query); counts do not depend on the machine's speed.
 *
 *   npx tsx bench/payments/queries.ts   (or: npm run bench:queries)   PAYMENTS=20
 */
import { startQueryCensus } from '../../tests/helpers/query-census.js';
import { listeningPaymentsWorld } from '../../tests/integration/payments/helpers.js';
import { mobileMoneyQueries, walletOrderQueries } from '../../tests/integration/payments/query-measure.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';

const PAYMENTS = Number(process.env.PAYMENTS ?? 20);
const WARM_UP = 3;

const world = await listeningPaymentsWorld({ LOG_LEVEL: 'warn', PAYMENT_POLL_INITIAL_DELAY_MS: '60000' });
const census = startQueryCensus();
try {
  // Warm-up: first-use caches (catalog, signing keys, prepared plans) and lazily created rows.
  await walletOrderQueries(world, census, WARM_UP);
  await mobileMoneyQueries(world, census, WARM_UP);
  const wallet = await walletOrderQueries(world, census, PAYMENTS);
  const mobileMoney = await mobileMoneyQueries(world, census, PAYMENTS);
  const table = (name: string, figures: typeof wallet) => {
    console.log(
      `${name}: ${figures.total.statements} statements, ${figures.total.redis} Redis commands per payment`,
    );
    for (const [context, count] of Object.entries(figures.byContext))
      if (count.statements + count.redis > 0)
        console.log(
          `  ${context.padEnd(16)} ${String(count.statements).padStart(6)} SQL ${String(count.redis).padStart(6)} Redis  ${JSON.stringify(count.kinds)}`,
        );
  };
  table('wallet-paid order', wallet);
  table('Mobile Money payment', mobileMoney);
  const file = writeResult('queries-per-payment', {
    benchmark: 'queries-per-payment',
    revision: gitRevision(),
    machine: await describeMachine(),
    method:
      'SQL statements (pg Client/Pool query calls) and Redis commands (ioredis sendCommand, a pipelined one when queued) counted in-process and filed under the context of the innermost project frame of the call stack (async frames included); payments one after another, each followed until the app is back to idle; the idle rate measured just before is subtracted; per payment, averaged',
    payments: PAYMENTS,
    walletOrder: wallet,
    mobileMoneyPayment: mobileMoney,
  });
  console.log(`written to ${file}`);
} finally {
  census.stop();
  await world.testApp.close();
}
