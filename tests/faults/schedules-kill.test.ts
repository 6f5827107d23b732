/**
 * kill -9 of the app at a random moment (seeded) during each money flow: order placement and
 * top-ups, order delivery and escrow release, payout and withdrawal processing by the job. The
 * app is restarted, clients retry with their keys, and the invariants must hold. See docs/faults.md.
 */
import { describe, it } from 'vitest';
import {
  expectSound,
  killAndRestart,
  pause,
  runSchedule,
  summary,
  when,
  type Schedule,
} from './harness/schedule.js';

const schedules: Schedule[] = [
  {
    name: 'kill -9 during order placement (wallet and Mobile Money) and top-ups',
    phases: ['money-in'],
    async fault(context) {
      // After 1 to 16 of the 24 requests were answered: the others are in flight.
      const answered = context.answered() + 1 + Math.floor(context.random() * 16);
      await when(() => context.answered() >= answered);
      await killAndRestart(context);
    },
  },
  {
    // The moment the open collection defect lived in (docs/faults.md): CamPay has taken a collect,
    // and its answer, our record of its reference, the first poll and the webhook are in flight.
    name: 'kill -9 right after a collection reaches CamPay',
    phases: ['money-in'],
    async fault(context) {
      const collected = () =>
        context.world.simulators.campay.engine
          .list()
          .some((transaction) => transaction.kind === 'collection');
      await when(collected);
      await pause(context.random() * 60);
      await killAndRestart(context);
    },
  },
  {
    name: 'kill -9 during order delivery and escrow release',
    phases: ['delivery'],
    async fault(context) {
      // After 2 to 40 transitions were answered (about 80 in this phase).
      const answered = context.answered() + 2 + Math.floor(context.random() * 38);
      await when(() => context.answered() >= answered);
      await killAndRestart(context);
    },
  },
  {
    name: 'kill -9 during payout and withdrawal processing (the job)',
    phases: ['money-out'],
    async fault(context) {
      // Right after the first disbursement reaches a provider: the job is between sends.
      const disbursed = () =>
        [context.world.simulators.campay, context.world.simulators.mtn].some((simulator) =>
          simulator.engine.list().some((transaction) => transaction.kind === 'disbursement'),
        );
      await when(disbursed);
      await pause(context.random() * 40);
      await killAndRestart(context);
    },
  },
];

describe('fault schedules: kill -9', () => {
  it.each(schedules)('$name', { timeout: 240_000 }, async (schedule) => {
    const outcome = await runSchedule(schedule);
    console.log(summary(schedule.name, outcome));
    expectSound(outcome);
  });
});
