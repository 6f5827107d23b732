/**
 * Ridge regression (least squares with an L2 penalty, closed form) and its ONNX graph: the
 * preparation-time and demand models. Features are standardised (the scaler is baked into the
 * graph, like the ranker's), the normal equations are solved by Gaussian elimination with partial
 * pivoting: a few dozen features, so exact and instant.
 */
import type { OnnxModel } from './onnx-writer.js';

export interface Ridge {
  features: number;
  mean: Float32Array;
  scale: Float32Array;
  weights: Float32Array;
  bias: number;
}

/** Fits `rows` (count × features, row-major) to `targets`; `lambda` is per row (scaled by count). */
export function fitRidge(rows: Float32Array, targets: Float64Array, features: number, lambda: number): Ridge {
  const count = targets.length;
  const mean = new Float64Array(features);
  const sq = new Float64Array(features);
  for (let r = 0; r < count; r += 1)
    for (let f = 0; f < features; f += 1) {
      const v = rows[r * features + f]!;
      mean[f] = mean[f]! + v;
      sq[f] = sq[f]! + v * v;
    }
  const scale = new Float64Array(features);
  for (let f = 0; f < features; f += 1) {
    mean[f] = mean[f]! / count;
    const variance = sq[f]! / count - mean[f]! ** 2;
    scale[f] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 0;
  }
  let yMean = 0;
  for (const y of targets) yMean += y;
  yMean /= count;
  // A = XᵀX + λnI, b = Xᵀ(y − ȳ) over standardised X.
  const a = Array.from({ length: features }, () => new Float64Array(features + 1));
  const x = new Float64Array(features);
  for (let r = 0; r < count; r += 1) {
    for (let f = 0; f < features; f += 1) x[f] = (rows[r * features + f]! - mean[f]!) * scale[f]!;
    const y = targets[r]! - yMean;
    for (let i = 0; i < features; i += 1) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = a[i]!;
      for (let j = 0; j < features; j += 1) row[j] = row[j]! + xi * x[j]!;
      row[features] = row[features]! + xi * y;
    }
  }
  for (let i = 0; i < features; i += 1) a[i]![i] = a[i]![i]! + lambda * count + (scale[i] === 0 ? 1 : 0);
  const w = solve(a, features);
  return {
    features,
    mean: Float32Array.from(mean),
    scale: Float32Array.from(scale),
    weights: Float32Array.from(w),
    bias: yMean,
  };
}

function solve(a: Float64Array[], n: number): Float64Array {
  for (let col = 0; col < n; col += 1) {
    let pivot = col;
    for (let r = col + 1; r < n; r += 1) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const head = a[col]!;
    for (let r = col + 1; r < n; r += 1) {
      const row = a[r]!;
      const factor = row[col]! / head[col]!;
      if (factor === 0) continue;
      for (let c = col; c <= n; c += 1) row[c] = row[c]! - factor * head[c]!;
    }
  }
  const w = new Float64Array(n);
  for (let r = n - 1; r >= 0; r -= 1) {
    let sum = a[r]![n]!;
    for (let c = r + 1; c < n; c += 1) sum -= a[r]![c]! * w[c]!;
    w[r] = sum / a[r]![r]!;
  }
  return w;
}

/** The model's outputs for `count` rows (what the ONNX graph computes, in float32). */
export function predictRidge(model: Ridge, rows: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let r = 0; r < count; r += 1) {
    let sum = model.bias;
    for (let f = 0; f < model.features; f += 1)
      sum += (rows[r * model.features + f]! - model.mean[f]!) * model.scale[f]! * model.weights[f]!;
    out[r] = sum;
  }
  return out;
}

/** features → (x − mean) · scale → MatMul w → + b → `output` ([batch, 1]). */
export function ridgeToOnnx(
  model: Ridge,
  meta: {
    graphName: string;
    output: string;
    version: number;
    docString: string;
    metadata: Record<string, string>;
  },
): OnnxModel {
  return {
    graphName: meta.graphName,
    producer: 'food-delivery-backend ml/',
    modelVersion: meta.version,
    docString: meta.docString,
    metadata: meta.metadata,
    inputs: [{ name: 'features', shape: ['batch', model.features] }],
    outputs: [{ name: meta.output, shape: ['batch', 1] }],
    initializers: [
      { name: 'mean', dims: [model.features], values: model.mean },
      { name: 'scale', dims: [model.features], values: model.scale },
      { name: 'w', dims: [model.features, 1], values: model.weights },
      { name: 'b', dims: [1], values: Float32Array.of(model.bias) },
    ],
    nodes: [
      { opType: 'Sub', inputs: ['features', 'mean'], outputs: ['centred'], name: 'centre' },
      { opType: 'Mul', inputs: ['centred', 'scale'], outputs: ['scaled'], name: 'scale' },
      { opType: 'MatMul', inputs: ['scaled', 'w'], outputs: ['product'], name: 'matmul' },
      { opType: 'Add', inputs: ['product', 'b'], outputs: [meta.output], name: 'add' },
    ],
  };
}
