/**
 * A regression model from `ml/` (preparation time), through onnxruntime-node: one input
 * `features` [batch, n], one output [batch, 1]. Like the ranker (model.ts), loading never throws:
 * a missing or broken file, or a card naming other features than the server computes, leaves the
 * model unloaded with the reason in `status()`; `reloadIfChanged` swaps in a retrained file and
 * keeps the old session when the new one does not load.
 */
import { readFile, stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { cardPathOf, type RankerStatus } from './model.js';

export type RegressionStatus = RankerStatus;

export interface RegressionModel {
  /** One value per row, or undefined when no model is loaded. */
  predict(rows: Float32Array, count: number): Promise<Float32Array | undefined>;
  reloadIfChanged(): Promise<void>;
  status(): RegressionStatus;
  close(): Promise<void>;
}

export async function loadRegressionModel(
  path: string,
  featureNames: readonly string[],
  output: string,
): Promise<RegressionModel> {
  let session: ort.InferenceSession | undefined;
  let version: string | null = null;
  let error: string | null = null;
  let loadedAt: string | null = null;
  let mtime = -1;

  async function load(): Promise<void> {
    try {
      const info = await stat(path);
      if (info.mtimeMs === mtime) return;
      mtime = info.mtimeMs;
      const card = JSON.parse(await readFile(cardPathOf(path), 'utf8')) as {
        modelVersion?: unknown;
        features?: unknown;
      };
      if (JSON.stringify(card.features) !== JSON.stringify(featureNames)) {
        throw new Error('the model card names other features than this server computes');
      }
      const next = await ort.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
      if (!next.outputNames.includes(output)) {
        await next.release();
        throw new Error(`the model has no output named ${output}`);
      }
      const previous = session;
      session = next;
      version = String(card.modelVersion);
      error = null;
      loadedAt = new Date().toISOString();
      await previous?.release();
    } catch (cause) {
      error = cause instanceof Error ? cause.message : String(cause);
    }
  }

  await load();
  return {
    async predict(rows, count) {
      if (session === undefined) return undefined;
      const result = await session.run({
        features: new ort.Tensor('float32', rows, [count, featureNames.length]),
      });
      return result[output]!.data as Float32Array;
    },
    reloadIfChanged: load,
    status: () => ({ path, loaded: session !== undefined, version, error, loadedAt }),
    async close() {
      await session?.release();
      session = undefined;
    },
  };
}
