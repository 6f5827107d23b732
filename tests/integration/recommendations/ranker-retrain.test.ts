import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCatalogFixture, insertCatalogFixture } from '../../../src/modules/catalog/fixtures.js';
import { cellOf, FEATURE_COUNT, FEATURE_NAMES } from '../../../src/modules/recommendations/features.js';
import { createMlp, toOnnx } from '../../../src/modules/recommendations/mlp.js';
import { encodeOnnx } from '../../../src/modules/recommendations/onnx-writer.js';
import { RETRAIN_QUEUE } from '../../../src/modules/recommendations/retrain.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { until } from '../payments/helpers.js';

/**
 * Issue #24: the daily retrain job retrains the ranker from the order events' read model and
 * promotes it only when it ranks the held-out days' orders better than the served ranker. The
 * served ranker here is an untrained network (random weights, version 1) in a temporary
 * directory; the history is customers who keep ordering their own two favourite dishes.
 */
const DAY = 86_400_000;
let app: TestApp;
let modelPath: string;

function writeUntrainedRanker(path: string) {
  const mlp = createMlp(FEATURE_COUNT, [32, 16], 99);
  writeFileSync(
    path.replace(/\.onnx$/, '.card.json'),
    JSON.stringify({ modelVersion: 1, features: FEATURE_NAMES }),
  );
  writeFileSync(path, encodeOnnx(toOnnx(mlp, { version: 1, docString: 'untrained', metadata: {} })));
}

async function seedHistory() {
  const fixture = generateCatalogFixture({ seed: 5, restaurants: 6, itemsPerRestaurant: 10 });
  await insertCatalogFixture(app.services.db, fixture);
  const items = fixture.flatMap((restaurant) => restaurant.items.map((item) => ({ item, restaurant })));
  const rows = [];
  const now = Date.now();
  for (let customer = 0; customer < 60; customer += 1) {
    const customerId = randomUUID();
    const favourites = [items[(customer * 7) % items.length]!, items[(customer * 7 + 1) % items.length]!];
    for (let day = 59; day >= 1; day -= 4) {
      const { item, restaurant } = favourites[day % 2]!;
      const placed = new Date(now - day * DAY + customer * 60_000);
      rows.push({
        order_id: randomUUID(),
        customer_id: customerId,
        restaurant_id: restaurant.id,
        lines: JSON.stringify([{ itemId: item.id, quantity: 1 }]),
        cell: cellOf(restaurant.latitude + 0.01, restaurant.longitude + 0.01),
        created_at: placed,
        placed_at: placed,
        stated_prep_minutes: 20,
        ready_at: null,
        closed_at: null,
      });
    }
  }
  await app.services.db.insertInto('reco_orders').values(rows).execute();
  await app.services.recommendations.refresh();
}

beforeAll(async () => {
  modelPath = join(mkdtempSync(join(tmpdir(), 'ranker-retrain-')), 'recommendations.onnx');
  writeUntrainedRanker(modelPath);
  app = await createTestApp({ env: { RECOMMENDATIONS_MODEL_PATH: modelPath } });
  await seedHistory();
}, 120_000);
afterAll(async () => app?.close());

const audits = (action: string) =>
  app.services.db.selectFrom('audit_logs').selectAll().where('action', '=', action).execute();

describe('the ranker retrain', () => {
  it('skips a run without enough orders, audited', async () => {
    const outcome = await app.services.recommendations.rankerRetrain.run(new Date(Date.now() - 400 * DAY));
    expect(outcome).toMatchObject({ outcome: 'skipped', trainGroups: 0, holdoutOrders: 0, version: '1' });
    expect(await audits('recommendations.ranker_skipped')).toHaveLength(1);
  });

  it('promotes, through the daily job, a ranker that beats the served one on the held-out days', async () => {
    const { rankerRetrain } = app.services.recommendations;
    expect(app.services.recommendations.candidateItems().length).toBeGreaterThan(40);
    await app.services.jobs.queue.enqueue(RETRAIN_QUEUE, { at: new Date().toISOString() });
    const outcome = (await until(
      async () => rankerRetrain.last(),
      (last) => last !== null && last.outcome !== 'skipped',
      120_000,
    ))!;
    expect(outcome).toMatchObject({ outcome: 'promoted', version: '2' });
    expect(outcome.holdoutOrders).toBeGreaterThanOrEqual(50);
    expect(outcome.trainGroups).toBeGreaterThanOrEqual(200);
    expect(outcome.candidateNdcg!).toBeGreaterThan(outcome.servedNdcg! * 1.01);
    // Customers who order their two dishes find them in the top ten nearly always.
    expect(outcome.candidateHitRate!).toBeGreaterThan(0.8);
    const card = JSON.parse(readFileSync(modelPath.replace(/\.onnx$/, '.card.json'), 'utf8'));
    expect(card).toMatchObject({ modelVersion: 2, features: [...FEATURE_NAMES] });
    expect(card.metrics.ndcgAt10).toBe(outcome.candidateNdcg);
    expect(app.services.recommendations.status().model).toMatchObject({ loaded: true, version: '2' });
    const [audit] = await audits('recommendations.ranker_promoted');
    expect(audit).toBeDefined();
    const ready = await app.app.inject({ method: 'GET', url: '/health/ready' });
    const check = ready
      .json()
      .checks.find((entry: { name: string }) => entry.name === 'recommendations-model');
    expect(check.detail).toMatch(/^model 2 loaded; last retrain .*: promoted/);
  }, 180_000);

  it('keeps the served ranker when the candidate is no better (the same data again)', async () => {
    const outcome = await app.services.recommendations.rankerRetrain.run(new Date());
    expect(outcome.outcome).toBe('kept');
    expect(outcome.version).toBe('2');
    expect(await audits('recommendations.ranker_kept')).toHaveLength(1);
  }, 180_000);
});
