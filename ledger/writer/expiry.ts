import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { LedgerWriter } from './writer.js';

/** Every 15 seconds: a hold's timeout is whole seconds, and a late release only delays a refund. */
export const DEFAULT_EXPIRY_SCHEDULE = '*/15 * * * * *';

/**
 * The scheduled expiry sweep: asks the writer to void due holds, which it records as
 * `hold_expiry` transfers in the ledger stream. Projections only ever see those events; no read
 * model reads a clock. A process that is not the writer (no lease) skips the tick.
 */
export function scheduleHoldExpiry(
  writer: LedgerWriter,
  options: { schedule?: string; logger?: Logger } = {},
): { stop(): Promise<void> } {
  const task: ScheduledTask = cron.schedule(
    options.schedule ?? DEFAULT_EXPIRY_SCHEDULE,
    async () => {
      if (!writer.ready()) return;
      try {
        const { expired } = await writer.expireHolds();
        if (expired > 0) options.logger?.info({ expired }, 'ledger holds expired');
      } catch (error) {
        options.logger?.error({ err: error }, 'ledger hold expiry failed');
      }
    },
    { name: 'ledger-hold-expiry', noOverlap: true },
  );
  return {
    async stop() {
      await task.destroy();
    },
  };
}
