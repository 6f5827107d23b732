import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURE_COUNT, FEATURE_NAMES } from '../../src/modules/recommendations/features.js';
import { cardPathOf, loadRanker } from '../../src/modules/recommendations/model.js';
import { createMlp, logits, toOnnx } from './mlp.js';
import { encodeOnnx } from './onnx.js';

/** The server's loader: the card must match the features, and a new file is served without a restart. */
function writeModel(
  path: string,
  seed: number,
  version: number,
  features: readonly string[] = FEATURE_NAMES,
) {
  const mlp = createMlp(FEATURE_COUNT, [4], seed);
  writeFileSync(path, encodeOnnx(toOnnx(mlp, { version, docString: '', metadata: {} })));
  writeFileSync(cardPathOf(path), JSON.stringify({ modelVersion: version, features }));
  return mlp;
}

describe('loadRanker', () => {
  const rows = Float32Array.from({ length: 3 * FEATURE_COUNT }, (_, index) => (index % 7) / 7);

  it('serves the model of its card, and swaps in a retrained file when it changes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ranker-')), 'model.onnx');
    const first = writeModel(path, 1, 1);
    const ranker = await loadRanker(path);
    expect(ranker.status()).toMatchObject({ loaded: true, version: '1', error: null });
    const before = await ranker.logits(rows, 3);
    expect(Array.from(before!)).toEqual(Array.from(logits(first, rows, 3)).map((z) => expect.closeTo(z, 5)));

    await new Promise((resolve) => setTimeout(resolve, 20)); // a later mtime
    const second = writeModel(path, 2, 2);
    await ranker.reloadIfChanged();
    expect(ranker.status().version).toBe('2');
    const after = await ranker.logits(rows, 3);
    expect(Array.from(after!)).toEqual(Array.from(logits(second, rows, 3)).map((z) => expect.closeTo(z, 5)));
    await ranker.close();
  });

  it('refuses a model trained on other features, and keeps serving the one it had', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ranker-')), 'model.onnx');
    writeModel(path, 1, 1, ['something_else']);
    const refused = await loadRanker(path);
    expect(refused.status()).toMatchObject({ loaded: false, version: null });
    expect(refused.status().error).toContain('other features');
    expect(await refused.logits(rows, 3)).toBeUndefined();

    writeModel(path, 1, 1);
    const ranker = await loadRanker(path);
    await new Promise((resolve) => setTimeout(resolve, 20));
    writeFileSync(path, 'not a model');
    await ranker.reloadIfChanged();
    expect(ranker.status()).toMatchObject({ loaded: true, version: '1' });
    expect(ranker.status().error).not.toBeNull();
    expect(await ranker.logits(rows, 3)).toHaveLength(3);
    await ranker.close();
  });
});
