/**
 * Kata 04 · 多层感知机（MNIST 分类） · MLP on MNIST — the reference solution.
 *
 * A data loader (seeded shuffling per epoch, mini-batches, the last partial batch kept), the seed's
 * 784-128-10 multilayer perceptron with ReLU, the softmax cross-entropy computed stably from the
 * logits, a training loop with Adam, and accuracy on held-out digits. Names follow the math: `x` is
 * a batch of images [batch, 784], `logits` are z [batch, 10], `labels` the digits y [batch].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { permutation, seedSequence, uniform } from "../../lib/random.ts";
import { CLASSES, type MnistSplit, mnistTensors, PIXELS } from "../../lib/mnist.ts";

/** Units of the hidden layer (the seed's `Linear(784, 128)`). */
export const HIDDEN = 128;

/** One mini-batch: images x [batch, 784] float32 in [0, 1] and their digits y [batch] int32. */
export interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
}

/**
 * The parameters of z = relu(x·W1 + b1)·W2 + b2, updated in place by the optimizer:
 * W1 [784, 128], b1 [128], W2 [128, 10], b2 [10]; 101,770 numbers in all.
 */
export interface Params {
  w1: tf.Variable<tf.Rank.R2>;
  b1: tf.Variable<tf.Rank.R1>;
  w2: tf.Variable<tf.Rank.R2>;
  b2: tf.Variable<tf.Rank.R1>;
}

export interface TrainOptions {
  /** Passes over the training set (default 2). */
  epochs?: number;
  /** Images per mini-batch (default 64); the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Adam's learning rate (default 0.005). */
  lr?: number;
  /** Seeds the initial parameters and every epoch's shuffle. */
  seed: number;
}

/** The trained parameters and the loss of every step (before its update). */
export interface TrainResult {
  params: Params;
  losses: number[];
}

/**
 * One epoch of a data loader: the indices 0..n-1 in a seeded random order, cut into batches of
 * `batchSize`. The last batch holds the remainder (n mod batchSize) and is kept, not dropped. Every
 * epoch has its own order, the same on every run for the same (seed, epoch).
 */
export function batchIndices(
  n: number,
  batchSize: number,
  seed: number,
  epoch: number,
): number[][] {
  const order = permutation(n, `${seed}:epoch ${epoch}`);
  const batches: number[][] = [];
  for (let start = 0; start < n; start += batchSize) {
    batches.push(order.slice(start, start + batchSize));
  }
  return batches;
}

/**
 * The images and labels at `indices`, copied row by row into new tensors (the caller disposes
 * them). Copying in JavaScript replaces `tf.gather`, so no gather op is recorded anywhere near the
 * gradient.
 */
export function makeBatch(split: MnistSplit, indices: readonly number[]): Batch {
  const x = new Float32Array(indices.length * PIXELS);
  const y = new Int32Array(indices.length);
  indices.forEach((i, row) => {
    x.set(split.images.subarray(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
    y[row] = split.labels[i];
  });
  return { x: tf.tensor2d(x, [indices.length, PIXELS]), y: tf.tensor1d(y, "int32") };
}

/**
 * PyTorch's default for `nn.Linear(fanIn, fanOut)`: weights and biases uniform in
 * [-1/√fanIn, 1/√fanIn]. Each of the four tensors gets its own seed from `seedSequence(seed)`.
 */
export function initParams(seed: number): Params {
  const next = seedSequence(seed);
  const layer = (fanIn: number, fanOut: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return {
      w: tf.variable(uniform([fanIn, fanOut], { seed: next(), lo: -bound, hi: bound })),
      b: tf.variable(uniform([fanOut], { seed: next(), lo: -bound, hi: bound })),
    };
  };
  return tf.tidy(() => {
    const l1 = layer(PIXELS, HIDDEN), l2 = layer(HIDDEN, CLASSES);
    return {
      w1: l1.w as tf.Variable<tf.Rank.R2>,
      b1: l1.b as tf.Variable<tf.Rank.R1>,
      w2: l2.w as tf.Variable<tf.Rank.R2>,
      b2: l2.b as tf.Variable<tf.Rank.R1>,
    };
  });
}

/** The logits z = relu(x·W1 + b1)·W2 + b2: [batch, 784] → [batch, 128] → [batch, 10]. */
export function forward(params: Params, x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const h = tf.relu(tf.add(tf.matMul(x, params.w1), params.b1));
    return tf.add(tf.matMul(h, params.w2), params.b2);
  });
}

/**
 * log softmax(z) row by row: z_k − m − log Σ_j e^(z_j − m) with m = max_j z_j. After subtracting the
 * maximum, every exponent is ≤ 0 (no overflow) and the largest term of the sum is e^0 = 1 (the log
 * never sees 0).
 */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const shifted = tf.sub(logits, tf.max(logits, 1, true));
    return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
  });
}

/**
 * The softmax cross-entropy, averaged over the batch: L = −(1/n) Σ_i log softmax(z_i)[y_i]. The
 * one-hot mask picks each row's true class (no gather: nothing to differentiate but the logits).
 * Its gradient is ∂L/∂z = (softmax(z) − onehot(y)) / n.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const onehot = tf.oneHot(labels, logits.shape[1]);
    return tf.neg(tf.mean(tf.sum(tf.mul(onehot, logSoftmax(logits)), 1)));
  });
}

/** The fraction of rows whose largest logit is at the true digit. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): number {
  return tf.tidy(() =>
    tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32")).dataSync()[0]
  );
}

/**
 * One optimizer step on one batch: the optimizer differentiates the batch's mean cross-entropy with
 * respect to the four parameters and updates them in place. Returns the loss before the update and
 * leaves no tensor behind (the batch belongs to the caller).
 */
export function trainStep(params: Params, optimizer: tf.Optimizer, batch: Batch): number {
  const loss = optimizer.minimize(
    () => crossEntropy(forward(params, batch.x), batch.y),
    true,
    [params.w1, params.b1, params.w2, params.b2],
  )!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/**
 * Trains a fresh `initParams(seed)` with Adam: for each epoch, the batches of
 * `batchIndices(split.size, batchSize, seed, epoch)`, one `trainStep` each. Frees every batch and,
 * at the end, Adam's state.
 */
export function train(
  split: MnistSplit,
  { epochs = 2, batchSize = 64, lr = 0.005, seed }: TrainOptions,
): TrainResult {
  const params = initParams(seed);
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const indices of batchIndices(split.size, batchSize, seed, epoch)) {
      const batch = makeBatch(split, indices);
      losses.push(trainStep(params, optimizer, batch));
      tf.dispose([batch.x, batch.y]);
    }
  }
  optimizer.dispose();
  return { params, losses };
}

/** The accuracy of the model on every image of `split` (use the test part: held-out digits). */
export function evaluate(params: Params, split: MnistSplit): number {
  return tf.tidy(() => {
    const { x, y } = mnistTensors(split);
    return accuracy(forward(params, x), y);
  });
}
