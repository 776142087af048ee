// deno-lint-ignore-file no-unused-vars
/**
 * Kata 03 · 逻辑回归（二分类） · Logistic regression.
 *
 * Fill in each `TODO`, then run `deno test katas/03`. Read README.zh.md or README.md first;
 * stuck? hints.md has three levels of hints. Names follow the math: `x` is X [samples, features],
 * `w` is w [features, 1], `b` is b, `z` are the logits [samples], `y` the 0/1 labels [samples].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { todo } from "../../lib/todo.ts";
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
 * Given: w ~ N(0, 0.1²) [features, 1], drawn from a seeded generator, and b = 0, as trainable
 * variables. Small random weights rather than zeros, so that no logit starts exactly at 0, where
 * max(z, 0) and |z| have a kink. (Not `tf.randomNormal(shape, mean, std, dtype, seed)`: it takes
 * the seed 0 for "no seed" and draws different numbers on every run.)
 */
export function initParams(features: number, seed: number): Params {
  const normal = normalRng(`logistic_regression:${seed}`);
  const w = Array.from({ length: features }, () => [0.1 * normal()]);
  // tf.tidy frees the two initial tensors; the variables keep their values.
  return tf.tidy(() => ({ w: tf.variable(tf.tensor2d(w)), b: tf.variable(tf.scalar(0)) }));
}

/** σ(z) = 1 / (1 + e^(−z)), element by element, any shape. e^1000 = ∞ gives 1/∞ = 0, not NaN. */
export function sigmoid<T extends tf.Tensor>(z: T): T {
  // TODO: inside tf.tidy, write 1 / (1 + e^(−z)) with tf.neg, tf.exp, tf.add and tf.div (tf.sigmoid
  // exists; write it yourself once). Not e^z / (1 + e^z): at z = 100 that is ∞/∞ = NaN.
  return todo(3, "sigmoid");
}

/**
 * The logits z = Xw + b: [samples, features] @ [features, 1] + b gives [samples, 1], reshaped to
 * [samples] to line up with the labels y [samples] (z [n, 1] − y [n] would broadcast to [n, n]).
 */
export function predictLogits(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Scalar): tf.Tensor1D {
  // TODO: inside tf.tidy, kata 02's Xw + b (tf.matMul, tf.add), then reshape [samples, 1] to
  // [samples].
  return todo(3, "predictLogits");
}

/**
 * The binary cross-entropy from logits, averaged over the samples:
 * ℓ(z, y) = max(z, 0) − z·y + log(1 + e^(−|z|)), the same number as
 * −[y·log σ(z) + (1 − y)·log(1 − σ(z))] without ever taking the log of 0: e^(−|z|) ≤ 1 cannot
 * overflow, and the log's argument stays in (1, 2]. Its gradient is ∂ℓ/∂z = σ(z) − y.
 */
export function bceWithLogits(z: tf.Tensor1D, y: tf.Tensor1D): tf.Scalar {
  // TODO: inside tf.tidy, the formula above term by term (tf.relu for max(z, 0), tf.abs, tf.exp,
  // tf.log1p), then the mean. Never call sigmoid here, and never take a log of a probability.
  return todo(3, "bceWithLogits");
}

/** The fraction of samples whose predicted class, 1 when z > 0 (p > 0.5) else 0, equals y. */
export function accuracy(z: tf.Tensor1D, y: tf.Tensor1D): number {
  // TODO: inside tf.tidy, threshold the logits at 0 (tf.greater), compare with y (cast both to the
  // same dtype), take the mean, and return it as a plain number (dataSync()[0]).
  return todo(3, "accuracy");
}

/**
 * One full-batch Adam step: the optimizer differentiates the mean BCE of the whole training set with
 * respect to w and b and updates them in place. Returns the loss before the update; leaves no
 * tensor behind.
 */
export function trainStep(data: Dataset, params: Params, optimizer: tf.Optimizer): number {
  // TODO: optimizer.minimize(() => loss of predictLogits(data.x, w, b) against data.y, true,
  // [w, b]) returns the loss as a tensor: read its number, dispose it, return the number.
  return todo(3, "trainStep");
}

/** Adam from `initParams(features, seed)` for `steps` steps; frees Adam's state at the end. */
export function train(data: Dataset, { steps = 100, lr = 0.1, seed }: TrainOptions): TrainResult {
  // TODO: initParams(number of features, seed), tf.train.adam(lr), call trainStep `steps` times
  // collecting the losses, dispose the optimizer (its m and v are tensors), return params and
  // losses.
  return todo(3, "train");
}
