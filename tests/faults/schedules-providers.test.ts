/**
 * Providers misbehaving under load: hanging, answering garbage, reporting another amount than
 * asked, repeating webhooks, sending them out of order (a FAILED after the SUCCESSFUL, a webhook
 * before the answer to our request). Every world's CamPay stand-in also does not deduplicate our
 * references. The invariants must hold afterwards. See docs/faults.md.
 */
import { describe, it } from 'vitest';
import type { SimTransaction } from '../../src/modules/payments/simulators/engine.js';
import {
  control,
  expectSound,
  pause,
  runSchedule,
  summary,
  when,
  type FaultContext,
  type Schedule,
} from './harness/schedule.js';

const LOOP_PAUSE_MS = 20;

function transactions(context: FaultContext): { control: string; transaction: SimTransaction }[] {
  const { simulators } = context.world;
  return [
    ...simulators.campay.engine
      .list()
      .map((transaction) => ({ control: simulators.campayControlUrl, transaction })),
    ...simulators.mtn.engine
      .list()
      .map((transaction) => ({ control: simulators.mtnControlUrl, transaction })),
  ];
}

/** CamPay (every Orange payment, MTN's primary) in an outage mode for a while, then back. */
async function outage(context: FaultContext, phase: string, mode: 'timeout' | 'garbage'): Promise<void> {
  const url = context.world.simulators.campayControlUrl;
  const answered = context.answered() + Math.floor(context.random() * 6);
  await when(() => context.answered() >= answered || context.loadDone());
  await control(url, 'outage', { mode });
  context.log(`${phase}: CamPay ${mode}`);
  await pause(1_500 + context.random() * 1_500);
  await control(url, 'outage', { mode: 'none' });
  context.log(`${phase}: CamPay back`);
}

/** Repeats `step` until the load is over (bounded by the load's own deadline). */
async function during(context: FaultContext, step: () => Promise<void>): Promise<void> {
  while (!context.loadDone()) {
    await step();
    await pause(LOOP_PAUSE_MS);
  }
}

const schedules: Schedule[] = [
  {
    name: 'provider hangs (timeout) on collections and disbursements',
    phases: ['money-in', 'money-out'],
    fault: (context, phase) => outage(context, phase, 'timeout'),
  },
  {
    name: 'provider answers garbage on collections and disbursements',
    phases: ['money-in', 'money-out'],
    fault: (context, phase) => outage(context, phase, 'garbage'),
  },
  {
    name: 'provider reports another amount than requested (more and less)',
    phases: ['money-in'],
    async fault(context) {
      const lied = new Set<string>();
      await during(context, async () => {
        for (const { control: url, transaction } of transactions(context)) {
          if (transaction.kind !== 'collection' || transaction.status !== 'PENDING') continue;
          if (lied.has(transaction.reference)) continue;
          lied.add(transaction.reference);
          const more = lied.size % 2 === 1;
          const amountMinor = more
            ? Number(transaction.amount) * 3
            : Math.ceil(Number(transaction.amount) * 0.7);
          await control(url, `transactions/${transaction.reference}/amount`, { amountMinor }).catch(
            () => undefined,
          );
        }
      });
      context.log(`${lied.size} collections reported another amount`);
    },
  },
  {
    name: 'duplicate webhooks (every settled transaction resent up to 3 times)',
    phases: ['money-in', 'money-out'],
    async fault(context, phase) {
      let resent = 0;
      await during(context, async () => {
        const settled = transactions(context).filter(
          ({ transaction }) => transaction.status !== 'PENDING' && transaction.webhooksSent < 4,
        );
        await Promise.all(
          settled.map(({ control: url, transaction }) =>
            control(url, `transactions/${transaction.reference}/webhook`, {}).then(() => void (resent += 1)),
          ),
        );
      });
      context.log(`${phase}: ${resent} webhooks resent`);
    },
  },
  {
    name: 'out-of-order webhooks (FAILED after SUCCESSFUL, webhook before the answer)',
    phases: ['money-in', 'money-out'],
    world: { settleMs: 100 },
    async fault(context, phase) {
      const url = context.world.simulators.campayControlUrl;
      await control(url, 'answer-delay', { ms: 600 });
      const contradicted = new Set<string>();
      await during(context, async () => {
        for (const { control: target, transaction } of transactions(context)) {
          if (transaction.status !== 'SUCCESSFUL' || contradicted.has(transaction.reference)) continue;
          contradicted.add(transaction.reference);
          await control(target, `transactions/${transaction.reference}/webhook`, { status: 'FAILED' });
        }
      });
      await control(url, 'answer-delay', { ms: 0 });
      context.log(`${phase}: answers held 600 ms, ${contradicted.size} FAILED webhooks after SUCCESSFUL`);
    },
  },
];

describe('fault schedules: lying and unreliable providers', () => {
  it.each(schedules)('$name', { timeout: 240_000 }, async (schedule) => {
    const outcome = await runSchedule(schedule);
    console.log(summary(schedule.name, outcome));
    expectSound(outcome);
  });
});
