import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/modules/catalog/fixtures.js';
import { cardPathOf } from '../../src/modules/recommendations/model.js';
import { loadRegressionModel } from '../../src/modules/recommendations/regression-model.js';
import { encodeOnnx } from './onnx.js';
import { fitRidge, predictRidge, ridgeToOnnx, type Ridge } from './ridge.js';

/** y = 3 + 2·x0 − 0.5·x1 (+ a constant column the fit must ignore), with a little noise. */
function linearData(count: number, seed: number) {
  const random = seededRandom(seed);
  const rows = new Float32Array(count * 3);
  const targets = new Float64Array(count);
  for (let r = 0; r < count; r += 1) {
    const x0 = random() * 10;
    const x1 = random() * 4 - 2;
    rows.set([x0, x1, 7], r * 3);
    targets[r] = 3 + 2 * x0 - 0.5 * x1 + (random() - 0.5) * 0.01;
  }
  return { rows, targets };
}

function writeModel(path: string, model: Ridge, version: number, features: string[]) {
  const meta = { graphName: 'test', output: 'minutes', version, docString: '', metadata: {} };
  writeFileSync(path, encodeOnnx(ridgeToOnnx(model, meta)));
  writeFileSync(cardPathOf(path), JSON.stringify({ modelVersion: version, features }));
}

describe('ridge regression', () => {
  it('recovers a linear law, and its ONNX graph computes what the TypeScript does', async () => {
    const { rows, targets } = linearData(2_000, 3);
    const model = fitRidge(rows, targets, 3, 1e-8);
    const probe = Float32Array.of(0, 0, 7, 1, 0, 7, 0, 1, 7, 5, -2, 7);
    const predicted = predictRidge(model, probe, 4);
    expect(Array.from(predicted)).toEqual([3, 5, 2.5, 14].map((value) => expect.closeTo(value, 2)));

    const bytes = encodeOnnx(
      ridgeToOnnx(model, { graphName: 'test', output: 'minutes', version: 1, docString: '', metadata: {} }),
    );
    const session = await ort.InferenceSession.create(bytes);
    expect(session.outputNames).toEqual(['minutes']);
    const out = await session.run({ features: new ort.Tensor('float32', probe, [4, 3]) });
    expect(Array.from(out.minutes!.data as Float32Array)).toEqual(
      Array.from(predicted).map((value) => expect.closeTo(value, 4)),
    );
    await session.release();
  });

  it('is served by the server’s loader, which checks the card and swaps in a retrained file', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ridge-')), 'preparation.onnx');
    const names = ['a', 'b', 'c'];
    const first = linearData(500, 1);
    writeModel(path, fitRidge(first.rows, first.targets, 3, 1e-6), 1, names);
    const model = await loadRegressionModel(path, names, 'minutes');
    expect(model.status()).toMatchObject({ loaded: true, version: '1', error: null });
    const one = await model.predict(Float32Array.of(1, 0, 7), 1);
    expect(one![0]).toBeCloseTo(5, 1);

    await new Promise((resolve) => setTimeout(resolve, 20)); // a later mtime
    const doubled = { ...first, targets: first.targets.map((y) => 2 * y) };
    writeModel(path, fitRidge(doubled.rows, doubled.targets, 3, 1e-6), 2, names);
    await model.reloadIfChanged();
    expect(model.status().version).toBe('2');
    expect((await model.predict(Float32Array.of(1, 0, 7), 1))![0]).toBeCloseTo(10, 1);

    // A broken file keeps the version that works.
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(path, Buffer.from('not onnx'));
    await model.reloadIfChanged();
    expect(model.status()).toMatchObject({ loaded: true, version: '2' });
    expect(model.status().error).not.toBeNull();
    await model.close();

    // A card with other features is refused.
    const other = join(mkdtempSync(join(tmpdir(), 'ridge-')), 'preparation.onnx');
    writeModel(other, fitRidge(first.rows, first.targets, 3, 1e-6), 1, ['a', 'b', 'x']);
    const refused = await loadRegressionModel(other, names, 'minutes');
    expect(refused.status()).toMatchObject({ loaded: false });
    expect(refused.status().error).toContain('other features');
    expect(await refused.predict(Float32Array.of(1, 0, 7), 1)).toBeUndefined();
  });
});
