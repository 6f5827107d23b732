/**
 * The ranker: standardised features → Dense(ReLU) → Dense(ReLU) → Dense → sigmoid, trained in
 * TypeScript with a sampled softmax (each ordered dish against dishes drawn from its city) and
 * Adam, then written as ONNX (MatMul/Add/Relu/Sub/Mul/Sigmoid). `forward` here is the reference
 * the ONNX graph is tested against. Used by `npm run ml:train` (ml/train.ts) and by the daily
 * retrain job (ranker-retrain.ts), which trains with `trainYielding` so the event loop keeps
 * serving between batches.
 */
import type { OnnxModel } from './onnx-writer.js';

/** A seeded generator (mulberry32, the catalog fixtures' own): the same draws on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface Layer {
  inputs: number;
  outputs: number;
  /** Row-major [inputs][outputs], as ONNX MatMul takes it. */
  weights: Float32Array;
  bias: Float32Array;
}

export interface Mlp {
  features: number;
  mean: Float32Array;
  /** 1 / standard deviation (1 where a feature is constant). */
  scale: Float32Array;
  layers: Layer[];
}

/** One training group: the rows of one ordered dish (row 0) and its sampled negatives. */
export interface Group {
  rows: Float32Array;
  size: number;
}

export function createMlp(features: number, hidden: number[], seed: number): Mlp {
  const random = seededRandom(seed);
  const sizes = [features, ...hidden, 1];
  const layers: Layer[] = [];
  for (let index = 0; index + 1 < sizes.length; index += 1) {
    const inputs = sizes[index]!;
    const outputs = sizes[index + 1]!;
    const limit = Math.sqrt(6 / (inputs + outputs));
    layers.push({
      inputs,
      outputs,
      weights: Float32Array.from({ length: inputs * outputs }, () => (random() * 2 - 1) * limit),
      bias: new Float32Array(outputs),
    });
  }
  return { features, mean: new Float32Array(features), scale: new Float32Array(features).fill(1), layers };
}

/** Sets the standardisation from the training rows. */
export function fitScaler(mlp: Mlp, groups: Group[]): void {
  const n = mlp.features;
  const sum = new Float64Array(n);
  const squares = new Float64Array(n);
  let count = 0;
  for (const group of groups) {
    for (let r = 0; r < group.size; r += 1) {
      for (let f = 0; f < n; f += 1) {
        const value = group.rows[r * n + f]!;
        sum[f]! += value;
        squares[f]! += value * value;
      }
      count += 1;
    }
  }
  for (let f = 0; f < n; f += 1) {
    const mean = sum[f]! / count;
    const variance = squares[f]! / count - mean * mean;
    mlp.mean[f] = mean;
    mlp.scale[f] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 1;
  }
}

/** Logits of every row (before the sigmoid), in float32 steps like the ONNX runtime. */
export function logits(mlp: Mlp, rows: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  let activations = new Float32Array(mlp.features);
  for (let r = 0; r < count; r += 1) {
    for (let f = 0; f < mlp.features; f += 1) {
      activations[f] = Math.fround(Math.fround(rows[r * mlp.features + f]! - mlp.mean[f]!) * mlp.scale[f]!);
    }
    let current = activations;
    mlp.layers.forEach((layer, index) => {
      const next = new Float32Array(layer.outputs);
      for (let o = 0; o < layer.outputs; o += 1) {
        let total = 0;
        for (let i = 0; i < layer.inputs; i += 1)
          total += current[i]! * layer.weights[i * layer.outputs + o]!;
        total += layer.bias[o]!;
        next[o] = index + 1 < mlp.layers.length ? Math.max(0, total) : total;
      }
      current = next;
    });
    out[r] = current[0]!;
    activations = new Float32Array(mlp.features);
  }
  return out;
}

/** The model's output: sigmoid of the logit, per row. */
export function forward(mlp: Mlp, rows: Float32Array, count: number): Float32Array {
  return logits(mlp, rows, count).map((z) => 1 / (1 + Math.exp(-z)));
}

export interface TrainOptions {
  epochs: number;
  batchGroups: number;
  learningRate: number;
  l2: number;
  seed: number;
  log?: (line: string) => void;
}

/** Sampled-softmax training with Adam. Returns the mean loss of each epoch. */
export function train(mlp: Mlp, groups: Group[], options: TrainOptions): number[] {
  const trainer = createTrainer(mlp, groups, options);
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    trainer.shuffle();
    for (let start = 0; start < groups.length; start += options.batchGroups) trainer.batch(start);
    trainer.endEpoch(epoch);
  }
  return trainer.losses;
}

/**
 * The same training, giving the event loop a turn after every `batchesPerTurn` batches: the
 * retrain job trains inside an API process, whose requests must not wait seconds for it. The
 * weights come out the same as `train`'s.
 */
export async function trainYielding(
  mlp: Mlp,
  groups: Group[],
  options: TrainOptions & { batchesPerTurn?: number },
): Promise<number[]> {
  const trainer = createTrainer(mlp, groups, options);
  const perTurn = options.batchesPerTurn ?? 4;
  let batches = 0;
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    trainer.shuffle();
    for (let start = 0; start < groups.length; start += options.batchGroups) {
      trainer.batch(start);
      batches += 1;
      if (batches % perTurn === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    trainer.endEpoch(epoch);
  }
  return trainer.losses;
}

/** Adam's state over the layers, and one batch's forward, backward and update. */
function createTrainer(mlp: Mlp, groups: Group[], options: TrainOptions) {
  const random = seededRandom(options.seed);
  const params = mlp.layers.flatMap((layer) => [layer.weights, layer.bias]);
  const grads = params.map((p) => new Float64Array(p.length));
  const m = params.map((p) => new Float64Array(p.length));
  const v = params.map((p) => new Float64Array(p.length));
  let step = 0;
  const beta1 = 0.9;
  const beta2 = 0.999;
  const n = mlp.features;
  const L = mlp.layers.length;
  const losses: number[] = [];
  const order = groups.map((_, index) => index);
  let lossSum = 0;

  function shuffle(): void {
    for (let index = order.length - 1; index > 0; index -= 1) {
      const other = Math.floor(random() * (index + 1));
      [order[index], order[other]] = [order[other]!, order[index]!];
    }
    lossSum = 0;
  }

  function endEpoch(epoch: number): void {
    losses.push(lossSum / order.length);
    options.log?.(`epoch ${epoch + 1}: loss ${(lossSum / order.length).toFixed(4)}`);
  }

  function batch(start: number): void {
    for (const g of grads) g.fill(0);
    const end = Math.min(order.length, start + options.batchGroups);
    for (let gi = start; gi < end; gi += 1) {
      const group = groups[order[gi]!]!;
      // Forward every row, keeping activations.
      const acts: Float64Array[][] = [];
      const zs = new Float64Array(group.size);
      for (let r = 0; r < group.size; r += 1) {
        const layerActs: Float64Array[] = [];
        let current = new Float64Array(n);
        for (let f = 0; f < n; f += 1) current[f] = (group.rows[r * n + f]! - mlp.mean[f]!) * mlp.scale[f]!;
        layerActs.push(current);
        for (let l = 0; l < L; l += 1) {
          const layer = mlp.layers[l]!;
          const next = new Float64Array(layer.outputs);
          for (let o = 0; o < layer.outputs; o += 1) {
            let total = layer.bias[o]!;
            for (let i = 0; i < layer.inputs; i += 1)
              total += current[i]! * layer.weights[i * layer.outputs + o]!;
            next[o] = l + 1 < L ? Math.max(0, total) : total;
          }
          layerActs.push(next);
          current = next;
        }
        acts.push(layerActs);
        zs[r] = current[0]!;
      }
      // Softmax over the group; row 0 is the ordered dish.
      let max = -Infinity;
      for (const z of zs) max = Math.max(max, z);
      let denominator = 0;
      for (const z of zs) denominator += Math.exp(z - max);
      lossSum += -(zs[0]! - max - Math.log(denominator));
      for (let r = 0; r < group.size; r += 1) {
        let delta = new Float64Array([Math.exp(zs[r]! - max) / denominator - (r === 0 ? 1 : 0)]);
        for (let l = L - 1; l >= 0; l -= 1) {
          const layer = mlp.layers[l]!;
          const input = acts[r]![l]!;
          const gw = grads[2 * l]!;
          const gb = grads[2 * l + 1]!;
          const previous = new Float64Array(layer.inputs);
          for (let o = 0; o < layer.outputs; o += 1) {
            const d = delta[o]!;
            if (d === 0) continue;
            gb[o]! += d;
            for (let i = 0; i < layer.inputs; i += 1) {
              gw[i * layer.outputs + o]! += d * input[i]!;
              previous[i]! += d * layer.weights[i * layer.outputs + o]!;
            }
          }
          if (l > 0) for (let i = 0; i < layer.inputs; i += 1) if (input[i]! <= 0) previous[i] = 0;
          delta = previous;
        }
      }
    }
    step += 1;
    const batch = end - start;
    const correction1 = 1 - Math.pow(beta1, step);
    const correction2 = 1 - Math.pow(beta2, step);
    params.forEach((p, pi) => {
      const g = grads[pi]!;
      const mp = m[pi]!;
      const vp = v[pi]!;
      const decay = pi % 2 === 0 ? options.l2 : 0;
      for (let k = 0; k < p.length; k += 1) {
        const gradient = g[k]! / batch + decay * p[k]!;
        mp[k] = beta1 * mp[k]! + (1 - beta1) * gradient;
        vp[k] = beta2 * vp[k]! + (1 - beta2) * gradient * gradient;
        p[k] =
          p[k]! - (options.learningRate * (mp[k]! / correction1)) / (Math.sqrt(vp[k]! / correction2) + 1e-8);
      }
    });
  }

  return { shuffle, batch, endEpoch, losses };
}

/** The ONNX graph of `mlp`: input `features` [batch, F] → outputs `score` and `logit` [batch, 1]. */
export function toOnnx(
  mlp: Mlp,
  meta: { version: number; docString: string; metadata: Record<string, string> },
): OnnxModel {
  const nodes: OnnxModel['nodes'] = [
    { opType: 'Sub', inputs: ['features', 'mean'], outputs: ['centred'], name: 'centre' },
    { opType: 'Mul', inputs: ['centred', 'scale'], outputs: ['h0'], name: 'scale' },
  ];
  const initializers: OnnxModel['initializers'] = [
    { name: 'mean', dims: [mlp.features], values: mlp.mean },
    { name: 'scale', dims: [mlp.features], values: mlp.scale },
  ];
  mlp.layers.forEach((layer, index) => {
    const last = index + 1 === mlp.layers.length;
    initializers.push(
      { name: `w${index + 1}`, dims: [layer.inputs, layer.outputs], values: layer.weights },
      { name: `b${index + 1}`, dims: [layer.outputs], values: layer.bias },
    );
    nodes.push(
      {
        opType: 'MatMul',
        inputs: [`h${index}`, `w${index + 1}`],
        outputs: [`m${index + 1}`],
        name: `matmul${index + 1}`,
      },
      {
        opType: 'Add',
        inputs: [`m${index + 1}`, `b${index + 1}`],
        outputs: [last ? 'logit' : `a${index + 1}`],
        name: `add${index + 1}`,
      },
    );
    if (!last)
      nodes.push({
        opType: 'Relu',
        inputs: [`a${index + 1}`],
        outputs: [`h${index + 1}`],
        name: `relu${index + 1}`,
      });
  });
  nodes.push({ opType: 'Sigmoid', inputs: ['logit'], outputs: ['score'], name: 'sigmoid' });
  return {
    graphName: 'recommendation_ranker',
    producer: 'food-delivery-backend ml/',
    modelVersion: meta.version,
    docString: meta.docString,
    metadata: meta.metadata,
    inputs: [{ name: 'features', shape: ['batch', mlp.features] }],
    // The logit ranks (a sigmoid near 1 ties in float32); the score is its probability.
    outputs: [
      { name: 'score', shape: ['batch', 1] },
      { name: 'logit', shape: ['batch', 1] },
    ],
    initializers,
    nodes,
  };
}
