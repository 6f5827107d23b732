/**
 * Two app instances on one database and Redis, requests round-robin to the running ones: kill -9
 * of the instance holding the ledger writer's lease at a random moment (seeded) while money moves.
 * The other instance takes the lease over (its relay stops forwarding and its own writer answers),
 * clients retry with their keys, the killed one comes back as the standby, and the invariants must
 * hold: the ledger verifies, every order's money is accounted for. See docs/faults.md.
 */
import { describe, it } from 'vitest';
import {
  expectSound,
  runSchedule,
  summary,
  when,
  type FaultContext,
  type Schedule,
} from './harness/schedule.js';

/** The instance that started first holds the lease; after each kill, the survivor does. */
function holderTracker() {
  let holder = 0;
  // One kill at a time: the next waits until the previous victim is back (never both down).
  let previous: Promise<void> = Promise.resolve();
  return (context: FaultContext) => (previous = previous.then(() => kill(context)));
  async function kill(context: FaultContext): Promise<void> {
    const app = context.world.apps[holder]!;
    const inFlight = context.inFlight();
    await app.kill();
    context.log(`killed the lease holder (instance ${holder + 1}) with ${inFlight} requests in flight`);
    holder = (holder + 1) % context.world.apps.length;
    // The survivor serves alone for a while (at least 3 more answers, or 5 s), then the supervisor
    // brings the killed one back: it finds the lease taken and forwards.
    const answered = context.answered() + 3;
    await when(() => context.answered() >= answered || context.loadDone(), 5_000);
    context.log(`${context.answered()} answered with one instance`);
    await app.start();
    context.log('restarted as the standby');
  }
}

const killHolder = holderTracker();

const schedules: Schedule[] = [
  {
    name: 'two instances: kill -9 of the ledger lease holder during placement and top-ups, then during delivery',
    phases: ['money-in', 'delivery'],
    world: { instances: 2 },
    async fault(context, phase) {
      // After 1 to 12 of the 24 money-in requests, or 2 to 30 delivery transitions.
      const spread = phase === 'money-in' ? 12 : 28;
      const answered =
        context.answered() + (phase === 'money-in' ? 1 : 2) + Math.floor(context.random() * spread);
      await when(() => context.answered() >= answered);
      await killHolder(context);
    },
  },
];

describe('fault schedules: several instances', () => {
  it.each(schedules)('$name', { timeout: 300_000 }, async (schedule) => {
    const outcome = await runSchedule(schedule);
    console.log(summary(schedule.name, outcome));
    expectSound(outcome);
  });
});
