import { sql } from 'kysely';
import type { Services } from '../services.js';

/**
 * The demo seed: each context's seed step (its definition's `seed`), in dependency order, so
 * identity's demo users exist before the catalog's restaurants and the orders placed at them.
 * Development only; the embedded default runs it once on its first start (SEED_DEMO=false
 * skips it). Part of the edge: the server and `npm run seed:demo` call it.
 */
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
  for (const { name, contribution } of services.contexts) {
    if (contribution.seed === undefined) continue;
    const made = await contribution.seed.run();
    lines.push(...made.map((line) => `${name}: ${line}`));
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
