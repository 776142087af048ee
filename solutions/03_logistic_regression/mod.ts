/**
 * Kata 03 · 逻辑回归（二分类） · Logistic regression — the reference solution.
 *
 * The model p = σ(z) with the logit z = Xw + b, the binary cross-entropy computed stably from the
 * logits, accuracy, and training with Adam. Names follow the math: `x` is X [samples, features],
 * `w` is w [features, 1], `b` is b, `z` are the logits [samples], `y` the 0/1 labels [samples].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import type { Dataset } from "../../lib/data.ts";
import { normalRng } from "../../lib/random.ts";

/** The parameters of z = Xw + b: w [features, 1] and the scalar b, updated in place. */
export interface Params {
  w: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R0>;
}

export interface TrainOptions {
  /** Full-batch Adam steps (default 100, as many as the seed's epochs). */
  steps?: number;
  /** Adam's learning rate (default 0.1; the seed uses PyTorch's default, 0.001). */
  lr?: number;
  /** Seed of the initial weights (see {@linkcode initParams}). */
  seed: number;
}

/** The trained parameters and the loss before each step. */
export interface TrainResult {
  params: Params;
  losses: number[];
}

/**
 * w ~ N(0, 0.1²) [features, 1], drawn from a seeded generator, and b = 0, as trainable variables.
 * Small random weights rather than zeros, so that no logit starts exactly at 0, where max(z, 0) and
 * |z| have a kink. (Not `tf.randomNormal(shape, mean, std, dtype, seed)`: it takes the seed 0 for
 * "no seed" and draws different numbers on every run.)
 */
export function initParams(features: number, seed: number): Params {
  const normal = normalRng(`logistic_regression:${seed}`);
  const w = Array.from({ length: features }, () => [0.1 * normal()]);
  // tf.tidy frees the two initial tensors; the variables keep their values.
  return tf.tidy(() => ({ w: tf.variable(tf.tensor2d(w)), b: tf.variable(tf.scalar(0)) }));
}

/** σ(z) = 1 / (1 + e^(−z)), element by element, any shape. e^1000 = ∞ gives 1/∞ = 0, not NaN. */
export function sigmoid<T extends tf.Tensor>(z: T): T {
  return tf.tidy(() => tf.div(1, tf.add(1, tf.exp(tf.neg(z)))));
}

/**
 * The logits z = Xw + b: [samples, features] @ [features, 1] + b gives [samples, 1], reshaped to
 * [samples] to line up with the labels y [samples] (z [n, 1] − y [n] would broadcast to [n, n]).
 */
export function predictLogits(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => tf.reshape(tf.add(tf.matMul(x, w), b), [-1]));
}

/**
 * The binary cross-entropy from logits, averaged over the samples:
 * ℓ(z, y) = max(z, 0) − z·y + log(1 + e^(−|z|)), the same number as
 * −[y·log σ(z) + (1 − y)·log(1 − σ(z))] without ever taking the log of 0: e^(−|z|) ≤ 1 cannot
 * overflow, and the log's argument stays in (1, 2]. Its gradient is ∂ℓ/∂z = σ(z) − y.
 */
export function bceWithLogits(z: tf.Tensor1D, y: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const loss = tf.add(tf.sub(tf.relu(z), tf.mul(z, y)), tf.log1p(tf.exp(tf.neg(tf.abs(z)))));
    return tf.mean(loss);
  });
}

/** The fraction of samples whose predicted class, 1 when z > 0 (p > 0.5) else 0, equals y. */
export function accuracy(z: tf.Tensor1D, y: tf.Tensor1D): number {
  return tf.tidy(() => {
    const predicted = tf.cast(tf.greater(z, 0), "float32");
    return tf.mean(tf.cast(tf.equal(predicted, y), "float32")).dataSync()[0];
  });
}

/**
 * One full-batch Adam step: the optimizer differentiates the mean BCE of the whole training set with
 * respect to w and b and updates them in place. Returns the loss before the update; leaves no
 * tensor behind.
 */
export function trainStep(data: Dataset, params: Params, optimizer: tf.Optimizer): number {
  const loss = optimizer.minimize(
    () => bceWithLogits(predictLogits(data.x, params.w, params.b), data.y),
    true,
    [params.w, params.b],
  )!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/** Adam from `initParams(features, seed)` for `steps` steps; frees Adam's state at the end. */
export function train(data: Dataset, { steps = 100, lr = 0.1, seed }: TrainOptions): TrainResult {
  const params = initParams(data.x.shape[1], seed);
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(trainStep(data, params, optimizer));
  optimizer.dispose();
  return { params, losses };
}
