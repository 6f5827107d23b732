/**
 * The ONNX ranker, through onnxruntime-node. Loading never throws: a missing or broken file leaves
 * `session` undefined and the error in `status()`, and the service ranks by popularity instead.
 * `reloadIfChanged` swaps in a new file (a retrain) without a restart, keeping the old session if
 * the new one does not load.
 */
import { readFile, stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { FEATURE_COUNT, FEATURE_NAMES } from './features.js';

export interface RankerStatus {
  path: string;
  loaded: boolean;
  version: string | null;
  error: string | null;
  loadedAt: string | null;
}

export interface Ranker {
  /** Logits of `count` rows, or undefined when no model is loaded. */
  logits(rows: Float32Array, count: number): Promise<Float32Array | undefined>;
  reloadIfChanged(): Promise<void>;
  status(): RankerStatus;
  close(): Promise<void>;
}

export async function loadRanker(path: string): Promise<Ranker> {
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
      // The model card beside the file names the version and the features it was trained on
      // (onnxruntime-node does not expose the model's metadata_props).
      const card = JSON.parse(await readFile(cardPathOf(path), 'utf8')) as {
        modelVersion?: unknown;
        features?: unknown;
      };
      if (JSON.stringify(card.features) !== JSON.stringify(FEATURE_NAMES)) {
        throw new Error('the model card names other features than this server computes');
      }
      // One thread: a 27→32→16→1 MLP over a few hundred rows is faster than waking a pool, and
      // the pool's spinning threads would take CPU from the event loop.
      const next = await ort.InferenceSession.create(path, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
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
    async logits(rows, count) {
      if (session === undefined) return undefined;
      const output = await session.run({ features: new ort.Tensor('float32', rows, [count, FEATURE_COUNT]) });
      return output.logit!.data as Float32Array;
    },
    reloadIfChanged: load,
    status: () => ({ path, loaded: session !== undefined, version, error, loadedAt }),
    async close() {
      await session?.release();
      session = undefined;
    },
  };
}

/** `ml/model/recommendations.onnx` → `ml/model/recommendations.card.json`. */
export function cardPathOf(modelPath: string): string {
  return `${modelPath.replace(/\.onnx$/, '')}.card.json`;
}
