import { sql } from 'kysely';
import type { Services } from '../services.js';
import { identitySeedStep } from '../modules/identity/seed.js';
import { catalogSeedStep } from '../modules/catalog/seed.js';
import { ordersSeedStep } from '../modules/orders/seed.js';
import { ledgerSeedStep } from '../modules/ledger/seed.js';
import { paymentsSeedStep } from '../modules/payments/seed.js';

/**
 * The demo seed: each bounded context adds its step, in order. Development only; the embedded
 * default runs it once on its first start (SEED_DEMO=false skips it).
 */
export interface SeedStep {
  name: string;
  run(services: Services): Promise<string[]>;
}

// Identity first: other steps look demo users up by phone. Payments before orders: the demo
// customer pays from a topped-up wallet.
export const seedSteps: SeedStep[] = [
  identitySeedStep,
  catalogSeedStep,
  ledgerSeedStep,
  paymentsSeedStep,
  ordersSeedStep,
];

const SEEDED_KEY = 'demo_seeded_at';

export async function isDemoSeeded(services: Services): Promise<boolean> {
  const row = await services.runtime.database.db
    .selectFrom('system_state')
    .select('key')
    .where('key', '=', SEEDED_KEY)
    .executeTakeFirst();
  return row !== undefined;
}

/** Runs every seed step and records that the seed ran; returns lines describing what was made. */
export async function seedDemo(services: Services): Promise<string[]> {
  if (services.runtime.config.isProduction) throw new Error('the demo seed never runs in production');
  const lines: string[] = [];
  for (const step of seedSteps) {
    const made = await step.run(services);
    lines.push(...made.map((line) => `${step.name}: ${line}`));
  }
  await services.runtime.database.db
    .insertInto('system_state')
    .values({ key: SEEDED_KEY, value: JSON.stringify(new Date().toISOString()) })
    .onConflict((conflict) =>
      conflict.column('key').doUpdateSet({ value: sql`excluded.value`, updated_at: sql`now()` }),
    )
    .execute();
  return lines;
}
