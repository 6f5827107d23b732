import { describe, expect, it } from 'vitest';
import { generateHistory } from '../../../ml/src/generate.js';
import { trainInline, trainInWorker } from './ranker-retrain.js';
import type { TrainInput } from './ranker-training.js';

/**
 * Issue #24: the ranker's retrain trains in a worker thread. The worker's candidate is the one
 * the API thread would have trained (same replay, same seed), and a worker that fails says so.
 */
describe('the ranker training thread', () => {
  const history = generateHistory({ customers: 150, weeks: 6 });
  const input: TrainInput = {
    orders: history.orders.map(({ orderId, customerId, restaurantId, lines, at, cell }) => ({
      orderId,
      customerId,
      restaurantId,
      lines,
      at,
      cell,
    })),
    items: history.items,
    at: history.params.start + 6 * 7 * 86_400_000,
  };

  it('trains in a worker the same candidate as in this thread', async () => {
    const [worker, inline] = [await trainInWorker(input), await trainInline(input)];
    expect(worker.trainGroups).toBeGreaterThanOrEqual(200);
    expect(worker.trainGroups).toBe(inline.trainGroups);
    expect(worker.cases.length).toBe(inline.cases.length);
    expect(worker.mlp).not.toBeNull();
    expect(Array.from(worker.mlp!.layers[0]!.weights)).toEqual(Array.from(inline.mlp!.layers[0]!.weights));
    expect(worker.losses).toEqual(inline.losses);
    expect(worker.candidate!.ndcg).toBeCloseTo(inline.candidate!.ndcg, 6);
    // The cases come back as typed arrays the served model can score.
    expect(worker.cases[0]!.rows).toBeInstanceOf(Float32Array);
  }, 240_000);

  it('answers a skip without training when there is too little, and rejects what it cannot read', async () => {
    const few = await trainInWorker({ ...input, orders: input.orders.slice(0, 20) });
    expect(few).toMatchObject({ mlp: null, candidate: null });
    await expect(
      trainInWorker({ ...input, orders: [{ ...input.orders[0]!, lines: null as never }] }),
    ).rejects.toThrow(/ranker training failed in its worker/);
  }, 120_000);
});
