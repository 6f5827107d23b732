/**
 * The app's dependencies failing under load: its PostgreSQL connections cut (pg_terminate_backend)
 * again and again, and its Redis keys deleted (jobs, leases, caches). Clients retry with their
 * keys; the invariants must hold afterwards. See docs/faults.md.
 */
import { describe, expect, it } from 'vitest';
import {
  cutDatabaseConnections,
  emptyRedis,
  expectSound,
  pause,
  runSchedule,
  summary,
  type FaultContext,
  type Schedule,
} from './harness/schedule.js';

/** The app may not survive a fault (a finding); the supervisor starts it again so the run can end. */
async function restartIfDead(context: FaultContext): Promise<void> {
  if (context.world.app.running()) return;
  // Its last lines say why (a fatal error is logged before the exit), so a failure names its cause.
  const last = context.world.app.output().slice(-6).join(' | ').slice(0, 1_500);
  context.log(`the app died: ${last}`);
  await context.world.app.start();
}

const schedules: Schedule[] = [
  {
    name: 'PostgreSQL connections cut and restored, repeatedly, during load',
    phases: ['money-in', 'delivery', 'money-out'],
    async fault(context, phase) {
      for (let cut = 0; cut < 2 && !context.loadDone(); cut += 1) {
        await pause(200 + context.random() * 600);
        context.log(`${phase}: ${await cutDatabaseConnections(context)} connections cut`);
        await pause(100);
        await restartIfDead(context);
      }
    },
  },
  {
    name: 'Redis emptied (the app prefix only) during load',
    phases: ['money-in', 'delivery', 'money-out'],
    async fault(context, phase) {
      await pause(100 + context.random() * 600);
      context.log(`${phase}: ${await emptyRedis(context)} keys deleted`);
      await restartIfDead(context);
    },
  },
];

describe('fault schedules: PostgreSQL and Redis', () => {
  it.each(schedules)('$name', { timeout: 240_000 }, async (schedule) => {
    const outcome = await runSchedule(schedule);
    console.log(summary(schedule.name, outcome));
    expectSound(outcome);
    // Surviving the fault is part of the contract: the supervisor's restart hides nothing.
    expect(outcome.faultLog.filter((line) => line.includes('died'))).toEqual([]);
  });
});
