// deno-lint-ignore-file no-unused-vars
/**
 * Kata 04 · 多层感知机（MNIST 分类） · MLP on MNIST.
 *
 * Fill in every `// TODO:` (each is followed by `return todo(4, ...)`), then run
 * `deno test katas/04`. Read README.md or README.zh.md first; hints.md helps when you are stuck.
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
import { todo } from "../../lib/todo.ts";

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
  // TODO: order = permutation(n, a seed string made of seed AND epoch, e.g. `${seed}:epoch ${epoch}`)
  // (lib/random.ts; never Math.random or tf.util.shuffle). Then cut it into slices of batchSize:
  // order.slice(0, batchSize), order.slice(batchSize, 2 * batchSize), ... up to n. The last slice
  // may be shorter: keep it. Return the list of slices.
  return todo(4, "batchIndices");
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
  // TODO: next = seedSequence(seed). For each layer (784 → 128, then 128 → 10), bound = 1/√fanIn:
  //   w = tf.variable(uniform([fanIn, fanOut], { seed: next(), lo: -bound, hi: bound }))
  //   b = tf.variable(uniform([fanOut], { seed: next(), lo: -bound, hi: bound }))
  // Call next() once per tensor: one seed for all four would fill them with the same numbers.
  // Inside tf.tidy (it frees the uniform tensors; variables survive). Return { w1, b1, w2, b2 }
  // (cast each, e.g. `as tf.Variable<tf.Rank.R2>`).
  return todo(4, "initParams");
}

/** The logits z = relu(x·W1 + b1)·W2 + b2: [batch, 784] → [batch, 128] → [batch, 10]. */
export function forward(params: Params, x: tf.Tensor2D): tf.Tensor2D {
  // TODO: in tf.tidy: h = relu(x·W1 + b1) [batch, 128] (tf.matMul, tf.add, tf.relu), then return
  // h·W2 + b2 [batch, 10]. The logits, not probabilities: no softmax here.
  return todo(4, "forward");
}

/**
 * log softmax(z) row by row: z_k − m − log Σ_j e^(z_j − m) with m = max_j z_j. After subtracting the
 * maximum, every exponent is ≤ 0 (no overflow) and the largest term of the sum is e^0 = 1 (the log
 * never sees 0).
 */
export function logSoftmax(logits: tf.Tensor2D): tf.Tensor2D {
  // TODO: in tf.tidy: m = the maximum of each row, kept as a column [batch, 1]
  // (tf.max(logits, 1, true)); shifted = logits − m; return shifted − log(Σ_j exp(shifted)) with
  // the sum over axis 1, also kept as a column. Not tf.logSoftmax: write it.
  return todo(4, "logSoftmax");
}

/**
 * The softmax cross-entropy, averaged over the batch: L = −(1/n) Σ_i log softmax(z_i)[y_i]. The
 * one-hot mask picks each row's true class (no gather: nothing to differentiate but the logits).
 * Its gradient is ∂L/∂z = (softmax(z) − onehot(y)) / n.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  // TODO: in tf.tidy: onehot = tf.oneHot(labels, number of classes) [batch, classes]; multiply it
  // with logSoftmax(logits), sum over axis 1 (each row keeps log p of its true class), take the
  // mean over the batch and negate. Not tf.losses.softmaxCrossEntropy: the tests compare with it.
  return todo(4, "crossEntropy");
}

/** The fraction of rows whose largest logit is at the true digit. */
export function accuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): number {
  // TODO: in tf.tidy: tf.argMax(logits, 1) gives each row's predicted digit (int32); compare with
  // tf.equal to the labels, cast to float32, take the mean, and return it as a plain number.
  return todo(4, "accuracy");
}

/**
 * One optimizer step on one batch: the optimizer differentiates the batch's mean cross-entropy with
 * respect to the four parameters and updates them in place. Returns the loss before the update and
 * leaves no tensor behind (the batch belongs to the caller).
 */
export function trainStep(params: Params, optimizer: tf.Optimizer, batch: Batch): number {
  // TODO: loss = optimizer.minimize(() => crossEntropy(forward(params, batch.x), batch.y), true,
  // [params.w1, params.b1, params.w2, params.b2])! — `true` returns the loss. Read its value
  // (dataSync()[0]), dispose the loss tensor, return the number. Do not dispose the batch.
  return todo(4, "trainStep");
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
  // TODO:
  // 1. params = initParams(seed); optimizer = tf.train.adam(lr); losses = [].
  // 2. For epoch = 0 .. epochs-1, for each index list of batchIndices(split.size, batchSize, seed,
  //    epoch): batch = makeBatch(split, indices); push trainStep(params, optimizer, batch);
  //    dispose batch.x and batch.y.
  // 3. optimizer.dispose() (frees Adam's moment estimates); return { params, losses }.
  return todo(4, "train");
}

/** The accuracy of the model on every image of `split` (use the test part: held-out digits). */
export function evaluate(params: Params, split: MnistSplit): number {
  // TODO: in tf.tidy: { x, y } = mnistTensors(split) (all its images [n, 784] and labels [n]);
  // return accuracy(forward(params, x), y). tf.tidy frees x, y and the logits.
  return todo(4, "evaluate");
}
