import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/modules/catalog/fixtures.js';
import { createMlp, fitScaler, forward, logits, toOnnx, train, type Group } from './mlp.js';
import { encodeOnnx } from './onnx.js';

/** The ONNX graph written by hand computes what the TypeScript forward pass computes. */
function randomGroups(features: number, count: number, seed: number): Group[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const rows = Float32Array.from({ length: 6 * features }, () => random() * 4 - 1);
    // Row 0 (the ordered dish) has a larger first feature: something to learn.
    rows[0] = rows[0]! + 3;
    return { rows, size: 6 };
  });
}

describe('ONNX export', () => {
  it('runs in onnxruntime-node with the TypeScript forward pass’s outputs within 1e-5', async () => {
    const features = 9;
    const mlp = createMlp(features, [8, 4], 3);
    const groups = randomGroups(features, 200, 5);
    fitScaler(mlp, groups);
    const losses = train(mlp, groups, { epochs: 3, batchGroups: 16, learningRate: 0.01, l2: 0, seed: 1 });
    expect(losses[2]!).toBeLessThan(losses[0]!);

    const bytes = encodeOnnx(toOnnx(mlp, { version: 1, docString: 'test', metadata: { k: 'v' } }));
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['features']);
    expect(session.outputNames).toEqual(['score', 'logit']);
    const rows = Float32Array.from(groups.slice(0, 20).flatMap((group) => [...group.rows]));
    const count = rows.length / features;
    const output = await session.run({ features: new ort.Tensor('float32', rows, [count, features]) });
    const expectedLogits = logits(mlp, rows, count);
    const expectedScores = forward(mlp, rows, count);
    const onnxLogits = output.logit!.data as Float32Array;
    const onnxScores = output.score!.data as Float32Array;
    expect(onnxLogits).toHaveLength(count);
    let largest = 0;
    for (let index = 0; index < count; index += 1) {
      largest = Math.max(
        largest,
        Math.abs(onnxLogits[index]! - expectedLogits[index]!),
        Math.abs(onnxScores[index]! - expectedScores[index]!),
      );
    }
    expect(largest).toBeLessThan(1e-5);
    // The trained ranker prefers the ordered dish of a group more often than chance (1 in 6).
    let first = 0;
    for (const group of groups) {
      const z = logits(mlp, group.rows, group.size);
      if (z.indexOf(Math.max(...z)) === 0) first += 1;
    }
    expect(first / groups.length).toBeGreaterThan(0.5);
  });
});
