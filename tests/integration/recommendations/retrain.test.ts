import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRAIN_QUEUE } from '../../../src/modules/recommendations/retrain.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { until } from '../payments/helpers.js';

/**
 * Issue #24: the retrain job rebuilds the preparation model's rows from the projection of the
 * order events, and promotes a candidate only when it beats the served model on the held-out
 * days; each run is audited and readiness shows the last one. The committed model is copied to a
 * temporary directory first: a promotion rewrites the served file.
 */
const DAY = 86_400_000;
const restaurants = [randomUUID(), randomUUID(), randomUUID()];
let app: TestApp;
let modelPath: string;

/** 30 days of a slow kitchen: each order ready 60 minutes (+ 5 per extra dish) after placement, whatever the stated 20. */
async function seedSlowKitchens() {
  const rows = [];
  const now = Date.now();
  for (let day = 30; day >= 1; day -= 1) {
    for (const [index, restaurant] of restaurants.entries()) {
      for (const minute of [0, 20, 40, 400, 420, 440]) {
        const placed = new Date(now - day * DAY + minute * 60_000 + index * 1_000);
        const items = 1 + ((day + minute) % 3);
        rows.push({
          order_id: randomUUID(),
          customer_id: randomUUID(),
          restaurant_id: restaurant,
          lines: JSON.stringify([{ itemId: randomUUID(), quantity: items }]),
          cell: null,
          created_at: placed,
          placed_at: placed,
          stated_prep_minutes: 20,
          ready_at: new Date(placed.getTime() + (60 + 5 * (items - 1)) * 60_000),
          closed_at: null,
        });
      }
    }
  }
  await app.services.db.insertInto('reco_orders').values(rows).execute();
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'retrain-'));
  modelPath = join(dir, 'preparation.onnx');
  copyFileSync('ml/model/preparation.onnx', modelPath);
  copyFileSync('ml/model/preparation.card.json', join(dir, 'preparation.card.json'));
  app = await createTestApp({ env: { PREPARATION_MODEL_PATH: modelPath } });
  await seedSlowKitchens();
});
afterAll(async () => app?.close());

const audits = (action: string) =>
  app.services.db.selectFrom('audit_logs').selectAll().where('action', '=', action).execute();

describe('the preparation retrain job', () => {
  it('skips a run without enough ready orders, audited', async () => {
    const outcome = await app.services.recommendations.retrain.run(new Date(Date.now() - 400 * DAY));
    expect(outcome).toMatchObject({ outcome: 'skipped', trainRows: 0, version: '2' });
    expect(await audits('recommendations.model_skipped')).toHaveLength(1);
  });

  it('promotes a candidate that beats the served model on the held-out days, and serves it at once', async () => {
    const { preparation, retrain } = app.services.recommendations;
    // Through the queue, as the schedule does.
    await app.services.jobs.queue.enqueue(RETRAIN_QUEUE, { at: new Date().toISOString() });
    const outcome = await until(
      async () => retrain.last(),
      (last) => last !== null && last.outcome !== 'skipped',
    );
    expect(outcome).toMatchObject({ outcome: 'promoted', version: '3' });
    expect(outcome!.holdoutRows).toBeGreaterThanOrEqual(100);
    expect(outcome!.candidateMae!).toBeLessThan(outcome!.servedMae!);
    expect(outcome!.candidateMae!).toBeLessThan(3);
    expect(JSON.parse(readFileSync(modelPath.replace(/\.onnx$/, '.card.json'), 'utf8'))).toMatchObject({
      modelVersion: 3,
      metrics: { maeMinutes: outcome!.candidateMae },
    });
    expect(preparation.status().model).toMatchObject({ loaded: true, version: '3' });
    // The new model has learnt the slow kitchens: about an hour for a one-dish order.
    await preparation.refresh();
    const estimate = await preparation.estimate({
      restaurantId: restaurants[0]!,
      statedMinutes: 20,
      items: 1,
      at: new Date(),
    });
    expect(estimate).toMatchObject({ modelVersion: '3' });
    expect(estimate!.minutes).toBeGreaterThan(50);
    expect(estimate!.minutes).toBeLessThan(70);

    const [audit] = await audits('recommendations.model_promoted');
    expect(audit).toMatchObject({ actor_kind: 'system', resource: 'model:preparation' });
    const ready = await app.app.inject({ method: 'GET', url: '/health/ready' });
    const check = ready.json().checks.find((entry: { name: string }) => entry.name === 'preparation-model');
    expect(check.detail).toMatch(/^model 3 loaded; last retrain .*: promoted \(held-out MAE/);
  });

  it('keeps the served model when the candidate does not beat it', async () => {
    const outcome = await app.services.recommendations.retrain.run();
    expect(outcome).toMatchObject({ outcome: 'kept', version: '3' });
    expect(app.services.recommendations.preparation.status().model.version).toBe('3');
    expect(await audits('recommendations.model_kept')).toHaveLength(1);
  });
});
