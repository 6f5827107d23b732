/**
 * The semantic search evaluation (issue #27): precision@5 over the labelled query set
 * (semantic-queries.ts), on the demo catalog fixture (60 restaurants, seed 7), for three
 * configurations of the same service through the real Gen AI SDK and PostgreSQL:
 *   full text alone (any-word ts_rank, no filters from the sentence),
 *   full text with the sentence's rules (cheap, no meat, vegetarian, place),
 *   the blend (embeddings + full text) with the rules.
 * The embeddings come from the local stand-in (tests/helpers/gemini-search-stand-in.ts): the
 * figures measure the pipeline, not Gemini. `SEMANTIC_EVAL_WRITE=1` writes
 * ml/results/semantic-search.json.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  DISHES,
  generateCatalogFixture,
  insertCatalogFixture,
  type FixtureRestaurant,
} from '../../src/modules/catalog/fixtures.js';
import { createTestApp, type TestApp } from '../../tests/helpers/app.js';
import {
  startGeminiSearchStandIn,
  type GeminiSearchStandIn,
} from '../../tests/helpers/gemini-search-stand-in.js';
import { LABELLED_QUERIES } from './semantic-queries.js';

const K = 5;
let standIn: GeminiSearchStandIn;
let testApp: TestApp;
let fixture: FixtureRestaurant[];

beforeAll(async () => {
  standIn = await startGeminiSearchStandIn();
  testApp = await createTestApp({
    env: { GEMINI_API_KEY: 'stand-in-key', GEMINI_BASE_URL: standIn.url, MAX_EVENT_LOOP_DELAY_MS: '0' },
  });
  fixture = generateCatalogFixture({ seed: 7, restaurants: 60 });
  await insertCatalogFixture(testApp.services.db, fixture);
  const run = await testApp.services.catalog.searchIndexer!.refresh();
  expect(run.stoppedBy).toBeUndefined();
}, 180_000);
afterAll(async () => {
  await testApp?.close();
  await standIn?.close();
});

it('precision@5: the blend against full text alone', async () => {
  const base = new Map<string, string>();
  for (const restaurant of fixture)
    for (const item of restaurant.items)
      base.set(item.id, DISHES.find((dish) => item.nameFr.startsWith(dish.fr))!.fr);
  const semantic = testApp.services.catalog.semantic;
  const configurations = {
    fullText: (q: string, language: 'fr' | 'en') =>
      semantic.search({ q, limit: K, mode: 'full_text' }, language, { rules: false }),
    fullTextWithRules: (q: string, language: 'fr' | 'en') =>
      semantic.search({ q, limit: K, mode: 'full_text' }, language),
    blend: (q: string, language: 'fr' | 'en') => semantic.search({ q, limit: K }, language),
  };
  const perQuery: Record<string, Record<string, number>> = {};
  const totals: Record<string, number> = { fullText: 0, fullTextWithRules: 0, blend: 0 };
  for (const query of LABELLED_QUERIES) {
    perQuery[query.q] = {};
    for (const [name, run] of Object.entries(configurations)) {
      const answer = await run(query.q, query.language);
      if (name === 'blend') expect(answer.mode, query.q).toBe('semantic');
      const relevant = answer.items.filter(
        (dish) =>
          query.relevant.includes(base.get(dish.id)!) &&
          (query.maxPrice === undefined || (dish.discountPrice ?? dish.price) <= query.maxPrice),
      ).length;
      const precision = relevant / K;
      perQuery[query.q]![name] = precision;
      totals[name]! += precision;
    }
  }
  const mean = Object.fromEntries(
    Object.entries(totals).map(([name, total]) => [
      name,
      Math.round((total / LABELLED_QUERIES.length) * 1000) / 1000,
    ]),
  );
  const results = {
    k: K,
    queries: LABELLED_QUERIES.length,
    catalog: { fixtureSeed: 7, restaurants: fixture.length, items: base.size },
    embeddings: 'local stand-in (concept lexicon + hashed words): measures the pipeline, not Gemini',
    meanPrecisionAt5: mean,
    perQuery,
  };
  console.log(JSON.stringify(mean));
  if (process.env.SEMANTIC_EVAL_WRITE === '1')
    writeFileSync('ml/results/semantic-search.json', `${JSON.stringify(results, null, 2)}\n`);
  expect(mean.blend!).toBeGreaterThan(mean.fullText!);
  expect(mean.blend!).toBeGreaterThanOrEqual(mean.fullTextWithRules!);
}, 120_000);
