/**
 * Kata 02 · 线性回归 · Linear regression — the reference solution.
 *
 * The model ŷ = Xw + b, the mean squared error, its gradient written by hand, and plain gradient
 * descent. Names follow the math: `x` is X [n, features], `w` is w [features, 1], `b` is b.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { normalRng } from "../../lib/random.ts";

/** Inputs X [samples, features] and targets y [samples, 1]. */
export interface Data {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** The parameters of ŷ = Xw + b: w [features, 1] and the scalar b, updated in place. */
export interface Params {
  w: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R0>;
}

/** ∂L/∂w [features, 1] and ∂L/∂b (a scalar): the same shapes as w and b. */
export interface Gradients {
  dw: tf.Tensor2D;
  db: tf.Scalar;
}

/** X rescaled column by column to mean 0 and standard deviation 1: z = (x - mean) / std. */
export interface Standardized {
  z: tf.Tensor2D;
  /** [1, features] */
  mean: tf.Tensor2D;
  /** [1, features] */
  std: tf.Tensor2D;
}

export interface TrainOptions {
  /** Full-batch gradient-descent steps (the seed's "epochs"). */
  steps: number;
  /** Learning rate. */
  lr: number;
  /** Train on standardised x, then map w and b back to the units of x (default false). */
  standardize?: boolean;
}

/** The trained line in the units of the original x, and the loss before each step. */
export interface TrainResult {
  w: tf.Tensor2D;
  b: tf.Scalar;
  losses: number[];
}

/**
 * The seed's data, made reproducible: x = 0, 0.1, ..., 9.9 and y = 3x + 2 + noise with noise drawn
 * from N(0, 0.5²) by a seeded generator. Both are [100, 1]: one sample per row, one feature.
 */
export function makeData(seed: number): Data {
  const n = 100;
  const noise = normalRng(`linear_regression:${seed}`);
  const x = Float32Array.from({ length: n }, (_, i) => i * 0.1);
  const y = x.map((xi) => 3 * xi + 2 + 0.5 * noise());
  return { x: tf.tensor2d(x, [n, 1]), y: tf.tensor2d(y, [n, 1]) };
}

/** w = 0 [features, 1] and b = 0, as trainable variables. */
export function initParams(features: number): Params {
  // tf.tidy frees the zeros the variables were copied from; it never disposes variables.
  return tf.tidy(() => ({
    w: tf.variable(tf.zeros<tf.Rank.R2>([features, 1])),
    b: tf.variable(tf.scalar(0)),
  }));
}

/** Rescales each column of x to mean 0 and standard deviation 1 (the population std). */
export function standardize(x: tf.Tensor2D): Standardized {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0, true);
    const std = tf.sqrt(variance) as tf.Tensor2D;
    const z: tf.Tensor2D = tf.div(tf.sub(x, mean), std);
    return { z, mean: mean as tf.Tensor2D, std };
  });
}

/** ŷ = Xw + b: [samples, features] @ [features, 1] + scalar → [samples, 1]. */
export function predict(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Scalar): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.matMul(x, w), b));
}

/** L = (1/n) Σ (ŷᵢ - yᵢ)², a scalar. `pred` and `y` are both [samples, 1]. */
export function mse(pred: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(pred, y))));
}

/**
 * The gradient of L = mse(Xw + b, y), by hand: with the residual r = ŷ - y [samples, 1],
 * ∂L/∂w = (2/n) Xᵀr [features, 1] and ∂L/∂b = (2/n) Σ rᵢ.
 */
export function mseGradients(
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  w: tf.Tensor2D,
  b: tf.Scalar,
): Gradients {
  return tf.tidy(() => {
    const n = x.shape[0];
    const r = tf.sub(predict(x, w, b), y); // residual ŷ - y [samples, 1]
    const dw: tf.Tensor2D = tf.mul(2 / n, tf.matMul(tf.transpose(x), r));
    const db: tf.Scalar = tf.mul(2 / n, tf.sum(r));
    return { dw, db };
  });
}

/** One step of gradient descent, in place: w ← w - lr·∂L/∂w, b ← b - lr·∂L/∂b. */
export function sgdStep(params: Params, grads: Gradients, lr: number): void {
  tf.tidy(() => {
    params.w.assign(tf.sub(params.w, tf.mul(lr, grads.dw)));
    params.b.assign(tf.sub(params.b, tf.mul(lr, grads.db)));
  });
}

/** Forward, loss, hand gradient, update. Returns the loss before the update; leaks no tensor. */
export function trainStep(x: tf.Tensor2D, y: tf.Tensor2D, params: Params, lr: number): number {
  return tf.tidy(() => {
    const loss = mse(predict(x, params.w, params.b), y);
    sgdStep(params, mseGradients(x, y, params.w, params.b), lr);
    return loss.dataSync()[0];
  });
}

/**
 * Gradient descent from w = 0, b = 0 for `steps` full-batch steps. With `standardize`, it trains
 * on z = (x - mean) / std and maps the line back: ŷ = z·w' + b' = x·(w'/std) + (b' - mean·w'/std).
 */
export function train(x: tf.Tensor2D, y: tf.Tensor2D, opts: TrainOptions): TrainResult {
  const { steps, lr, standardize: rescale = false } = opts;
  const params = initParams(x.shape[1]);
  const s = rescale ? standardize(x) : undefined;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(trainStep(s ? s.z : x, y, params, lr));
  if (!s) return { w: params.w, b: params.b, losses };
  const [w, b] = tf.tidy(() => {
    const w: tf.Tensor2D = tf.div(params.w, tf.transpose(s.std)); // w'/std [features, 1]
    const b: tf.Scalar = tf.sub(params.b, tf.sum(tf.matMul(s.mean, w))); // b' - mean·w
    return [w, b] as const;
  });
  tf.dispose([params.w, params.b, s.z, s.mean, s.std]);
  return { w, b, losses };
}
