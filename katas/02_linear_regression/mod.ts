// deno-lint-ignore-file no-unused-vars
/**
 * Kata 02 · 线性回归 · Linear regression.
 *
 * Fill in every `// TODO:` (each is followed by `return todo(2, ...)`), then run
 * `deno test katas/02`. Read README.md or README.zh.md first; hints.md helps when you are stuck.
 *
 * The model ŷ = Xw + b, the mean squared error, its gradient written by hand, and plain gradient
 * descent. Names follow the math: `x` is X [n, features], `w` is w [features, 1], `b` is b.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { normalRng } from "../../lib/random.ts";
import { todo } from "../../lib/todo.ts";

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
  // TODO: return the matrix product of x [samples, features] and w [features, 1], plus b.
  // The result is [samples, 1]. Wrap the math in tf.tidy so no intermediate tensor survives.
  return todo(2, "predict");
}

/** L = (1/n) Σ (ŷᵢ - yᵢ)², a scalar. `pred` and `y` are both [samples, 1]. */
export function mse(pred: tf.Tensor2D, y: tf.Tensor2D): tf.Scalar {
  // TODO: return the mean over all samples of (pred - y)², a scalar (shape []).
  // Both inputs are [samples, 1]: do not squeeze one of them (see README: the [n, n] trap).
  return todo(2, "mse");
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
  // TODO: compute the residual r = predict(x, w, b) - y, then
  //   dw = (2/n)·Xᵀr, shape [features, 1] (the shape of w), and
  //   db = (2/n)·Σ r, a scalar,
  // with n = the number of samples. Write the formulas: no tf.grad here (the tests compare your
  // result with autodiff). Use tf.tidy and return { dw, db }.
  return todo(2, "mseGradients");
}

/** One step of gradient descent, in place: w ← w - lr·∂L/∂w, b ← b - lr·∂L/∂b. */
export function sgdStep(params: Params, grads: Gradients, lr: number): void {
  // TODO: assign w - lr·dw to params.w and b - lr·db to params.b (Variable.assign, in place),
  // inside tf.tidy so that the temporary results are freed.
  return todo(2, "sgdStep");
}

/** Forward, loss, hand gradient, update. Returns the loss before the update; leaks no tensor. */
export function trainStep(x: tf.Tensor2D, y: tf.Tensor2D, params: Params, lr: number): number {
  // TODO: inside one tf.tidy: the loss of the current params (predict, then mse), the gradients
  // (mseGradients), the update (sgdStep); return the loss as a plain number (dataSync()[0]).
  return todo(2, "trainStep");
}

/**
 * Gradient descent from w = 0, b = 0 for `steps` full-batch steps. With `standardize`, it trains
 * on z = (x - mean) / std and maps the line back: ŷ = z·w' + b' = x·(w'/std) + (b' - mean·w'/std).
 */
export function train(x: tf.Tensor2D, y: tf.Tensor2D, opts: TrainOptions): TrainResult {
  // TODO:
  // 1. params = initParams(number of features); losses = [].
  // 2. If opts.standardize, s = standardize(x) and train on s.z instead of x.
  // 3. Run opts.steps steps of trainStep with opts.lr, pushing each returned loss.
  // 4. Without standardize, return { w: params.w, b: params.b, losses }.
  //    With it, map the line back to the units of x: w = w'/std (std is [1, features]: transpose
  //    it to [features, 1]) and b = b' - mean·w; dispose params and s; return { w, b, losses }.
  return todo(2, "train");
}
