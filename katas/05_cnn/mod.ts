// deno-lint-ignore-file no-unused-vars
/**
 * Kata 05 · 卷积神经网络 · Convolutional network.
 *
 * Fill in every `// TODO:` (each is followed by `return todo(5, ...)`), then run
 * `deno test katas/05`. Read README.md or README.zh.md first; hints.md helps when you are stuck.
 *
 * The seed's CNN in TensorFlow.js's channels-last (NHWC) layout: conv 3×3, 1 → 16 channels, ReLU,
 * 2×2 max-pooling, flatten, dense 16·13·13 → 10. Images are [batch, height, width, channels]
 * = [batch, 28, 28, 1]; the conv kernel is [kernelHeight, kernelWidth, inChannels, outChannels]
 * = [3, 3, 1, 16]; the dense weight is [inputs, outputs] = [2704, 10].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { permutation, seedSequence, uniform } from "../../lib/random.ts";
import { CLASSES, IMAGE_SIZE, type MnistSplit, PIXELS } from "../../lib/mnist.ts";
import { todo } from "../../lib/todo.ts";

/** Output channels of the convolution (the seed's `Conv2d(1, 16, 3)`). */
export const FILTERS = 16;
/** Height and width of the convolution's kernel. */
export const KERNEL = 3;
/** Height, width and stride of the max-pooling window (the seed's `MaxPool2d(2)`). */
export const POOL = 2;

/**
 * How a layer pads its input: `"valid"` (no padding), `"same"` (TensorFlow's: pad so that the
 * output has ⌈n / stride⌉ positions) or a number p of zeros on every side (PyTorch's `padding=p`).
 */
export type Padding = "valid" | "same" | number;

/** The weights of the CNN, as tensors: what the forward pass reads. */
export interface Weights {
  /** Conv kernel [kernelHeight = 3, kernelWidth = 3, inChannels = 1, outChannels = 16]. */
  convW: tf.Tensor4D;
  /** Conv bias [16], one per output channel. */
  convB: tf.Tensor1D;
  /** Dense weight [inputs = 16·13·13 = 2704, classes = 10]. */
  denseW: tf.Tensor2D;
  /** Dense bias [10]. */
  denseB: tf.Tensor1D;
}

/** The same weights as trainable variables, updated in place by the optimizer. */
export interface Params extends Weights {
  convW: tf.Variable<tf.Rank.R4>;
  convB: tf.Variable<tf.Rank.R1>;
  denseW: tf.Variable<tf.Rank.R2>;
  denseB: tf.Variable<tf.Rank.R1>;
}

/** The output of every layer of the forward pass, in order. */
export interface Activations {
  /** After the convolution: [batch, 26, 26, 16]. */
  conv: tf.Tensor4D;
  /** After the ReLU: [batch, 26, 26, 16]. */
  relu: tf.Tensor4D;
  /** After the 2×2 max-pooling: [batch, 13, 13, 16]. */
  pool: tf.Tensor4D;
  /** Flattened, channels-last order: [batch, 2704]. */
  flat: tf.Tensor2D;
  /** The dense layer's output, one score per digit: [batch, 10]. */
  logits: tf.Tensor2D;
}

/**
 * The seed's model as PyTorch stores it (`model.state_dict()` of its `nn.Sequential`: layer 0 is
 * the `Conv2d`, layer 4 the `Linear`), channels first (NCHW).
 */
export interface TorchWeights {
  /** Conv weight [outChannels = 16, inChannels = 1, kernelHeight = 3, kernelWidth = 3]. */
  "0.weight": tf.Tensor4D;
  /** Conv bias [16]. */
  "0.bias": tf.Tensor1D;
  /** Linear weight [outputs = 10, inputs = 2704]; input i is channel ⌊i/169⌋, then row, column. */
  "4.weight": tf.Tensor2D;
  /** Linear bias [10]. */
  "4.bias": tf.Tensor1D;
}

/** One mini-batch: images x [batch, 28, 28, 1] float32 in [0, 1] and their digits y [batch] int32. */
export interface Batch {
  x: tf.Tensor4D;
  y: tf.Tensor1D;
}

export interface TrainOptions {
  /** Optimizer steps, one mini-batch each. */
  steps: number;
  /** Images per mini-batch (default 64). */
  batchSize?: number;
  /** Adam's learning rate (default 0.01); the last sixth of the steps run at a tenth of it. */
  lr?: number;
  /** Seeds the initial weights and the order of the batches. */
  seed: number;
}

/** The trained parameters and the loss of every step (before its update). */
export interface TrainResult {
  params: Params;
  losses: number[];
}

/**
 * Images stored flat, one row of 784 pixels each (row after row of the picture), as
 * [batch, height = 28, width = 28, channels = 1]: the NHWC layout `tf.conv2d` reads.
 */
export function toImages(flat: tf.Tensor2D): tf.Tensor4D {
  // TODO: reshape `flat` [batch, 784] to [batch, 28, 28, 1] (IMAGE_SIZE = 28). Each row of 784
  // pixels is the picture row after row, so the first 28 values are its top row. The last axis,
  // of size 1, is the channel (grey): tf.conv2d needs it, even for one channel. Not [batch, 1, 28,
  // 28]: that is PyTorch's channels-first layout (NCHW); TensorFlow.js is channels-last (NHWC).
  return todo(5, "toImages");
}

/**
 * The output size of a convolution or pooling layer along one axis: an input of `n` positions, a
 * window of `k`, a stride `s`. With p zeros of padding on each side, ⌊(n + 2p − k) / s⌋ + 1;
 * `"valid"` is p = 0; TensorFlow's `"same"` is ⌈n / s⌉ (it pads just enough, unevenly if need be).
 */
export function outputSize(n: number, k: number, stride: number, padding: Padding): number {
  // TODO: the number of positions a window of size k fits into, stepping by `stride`:
  //   padding "same":   Math.ceil(n / stride)                  (TensorFlow's definition)
  //   otherwise:        Math.floor((n + 2 * p - k) / stride) + 1
  //                     with p = 0 for "valid" and p = padding when it is a number.
  // The seed's model: outputSize(28, 3, 1, "valid") = 26, then outputSize(26, 2, 2, "valid") = 13.
  return todo(5, "outputSize");
}

/**
 * Seeded weights, PyTorch's default for `Conv2d` and `Linear`: every weight and bias uniform in
 * [−1/√fanIn, 1/√fanIn], where fanIn is the number of inputs of one output (3·3·1 = 9 for the
 * conv, 2704 for the dense layer). Each tensor gets its own seed from `seedSequence(seed)`.
 */
export function initParams(seed: number): Params {
  // TODO: four seeded tf.variables, PyTorch's default init (uniform in ±1/√fanIn):
  //   convW [KERNEL, KERNEL, 1, FILTERS] = [3, 3, 1, 16] and convB [16]: fanIn = 3·3·1 = 9
  //   denseW [flat, CLASSES] = [2704, 10] and denseB [10]:                  fanIn = flat = 2704
  // where flat = pooled · pooled · FILTERS and pooled comes from outputSize twice (28 → 26 → 13):
  // compute it, do not type 2704. Draw each tensor with uniform(shape, { seed: next(), lo, hi })
  // from lib/random.ts, with next = seedSequence(seed): one new seed per tensor. Wrap it in tf.tidy
  // (it frees the drawn tensors once tf.variable has copied them).
  return todo(5, "initParams");
}

/**
 * The convolution: a 3×3 "valid" convolution with stride 1 of `x` [batch, h, w, inChannels] by
 * `w` [3, 3, inChannels, outChannels], plus the bias `b` [outChannels] on every position.
 * [batch, h, w, in] → [batch, h − 2, w − 2, out].
 */
export function convLayer(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  // TODO: tf.conv2d(x, w, 1, "valid") — stride 1, no padding — then add b (it broadcasts over
  // the last axis, the channels). Wrap it in tf.tidy.
  return todo(5, "convLayer");
}

/** 2×2 max-pooling with stride 2, "valid": [batch, h, w, c] → [batch, ⌊h/2⌋, ⌊w/2⌋, c]. */
export function poolLayer(x: tf.Tensor4D): tf.Tensor4D {
  // TODO: tf.maxPool(x, POOL, POOL, "valid"): 2×2 windows, stride 2. TensorFlow.js wants the
  // stride spelled out; PyTorch's MaxPool2d(2) takes it equal to the window by default.
  return todo(5, "poolLayer");
}

/**
 * The seed's model, layer by layer: conv → ReLU → max-pool → flatten → dense. `x` is
 * [batch, 28, 28, 1]; see {@linkcode Activations} for every shape.
 */
export function forwardLayers(w: Weights, x: tf.Tensor4D): Activations {
  // TODO: inside one tf.tidy, each layer from the one before:
  //   conv   = convLayer(x, w.convW, w.convB)      [batch, 26, 26, 16]
  //   relu   = tf.relu(conv)                       [batch, 26, 26, 16]
  //   pool   = poolLayer(relu)                     [batch, 13, 13, 16]
  //   flat   = pool reshaped to [batch, -1]        [batch, 2704]  (plain reshape: no transpose)
  //   logits = flat · w.denseW + w.denseB          [batch, 10]
  // and return all five: { conv, relu, pool, flat, logits }.
  return todo(5, "forwardLayers");
}

/** The logits [batch, 10] of the model (the last of {@linkcode forwardLayers}). */
export function forward(w: Weights, x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => forwardLayers(w, x).logits);
}

/**
 * The softmax cross-entropy of kata 04, averaged over the batch: −(1/n) Σ_i log softmax(z_i)[y_i],
 * here with TensorFlow.js's own `tf.losses.softmaxCrossEntropy` on one-hot labels.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(labels, logits.shape[1]), logits) as tf.Scalar
  );
}

/**
 * One optimizer step on one batch: the optimizer differentiates the batch's mean cross-entropy
 * with respect to the four parameters and updates them in place. Returns the loss before the
 * update and leaves no tensor behind (the batch belongs to the caller).
 */
export function trainStep(params: Params, optimizer: tf.Optimizer, batch: Batch): number {
  // TODO: const loss = optimizer.minimize(() => crossEntropy(forward(params, batch.x), batch.y),
  // true, [the four variables of params])!. Read the number (loss.dataSync()[0]), dispose the
  // loss tensor, return the number.
  return todo(5, "trainStep");
}

/**
 * Weights trained in PyTorch (channels first), rearranged for this model (channels last):
 * the same function, so `forward` gives the logits PyTorch gives on the same image.
 */
export function fromTorch(t: TorchWeights): Weights {
  // TODO: inside tf.tidy, rearrange PyTorch's (channels-first) weights for this model:
  // 1. convW: t["0.weight"] is [out, in, kh, kw]; ours is [kh, kw, in, out]: tf.transpose with
  //    perm [2, 3, 1, 0].
  // 2. denseW: t["4.weight"] is [10, 2704] and its input i is (channel, row, col) — PyTorch
  //    flattens [16, 13, 13]. Ours is [2704, 10] with input (row, col, channel). So reshape to
  //    [10, 16, 13, 13], transpose to [13, 13, 16, 10], reshape to [2704, 10]. (A plain transpose
  //    to [2704, 10] has the right shape and the wrong order.) Read the sizes from the shapes.
  // 3. The biases are the same: return clones (t["0.bias"].clone()), so the caller owns them.
  // Return { convW, convB, denseW, denseB }.
  return todo(5, "fromTorch");
}

/** The images and labels at `indices`, copied into new tensors (the caller disposes them). */
export function makeBatch(split: MnistSplit, indices: readonly number[]): Batch {
  const pixels = new Float32Array(indices.length * PIXELS);
  const y = new Int32Array(indices.length);
  indices.forEach((i, row) => {
    pixels.set(split.images.subarray(i * PIXELS, (i + 1) * PIXELS), row * PIXELS);
    y[row] = split.labels[i];
  });
  return tf.tidy(() => ({
    x: toImages(tf.tensor2d(pixels, [indices.length, PIXELS])),
    y: tf.tensor1d(y, "int32"),
  }));
}

/**
 * `steps` batches of `batchSize` indices: a seeded shuffle of the split, cut in order; when it runs
 * out, a new shuffle (a new epoch). The same on every run for the same seed.
 */
export function batchIndices(
  n: number,
  batchSize: number,
  steps: number,
  seed: number,
): number[][] {
  const batches: number[][] = [];
  let order: number[] = [], at = n, epoch = 0;
  while (batches.length < steps) {
    if (at + batchSize > n) [order, at] = [permutation(n, `cnn:${seed}:epoch ${epoch++}`), 0];
    batches.push(order.slice(at, at + batchSize));
    at += batchSize;
  }
  return batches;
}

/**
 * Trains a fresh `initParams(seed)` with Adam for `steps` mini-batches of `batchSize` images from
 * `split`: at `lr` first, then, for the last sixth of the steps, at `lr / 10` with a new Adam (a
 * smaller step settles into the minimum that the large one keeps jumping around). Frees every batch
 * and, at the end, Adam's state.
 */
export function train(
  split: MnistSplit,
  { steps, batchSize = 64, lr = 0.01, seed }: TrainOptions,
): TrainResult {
  const params = initParams(seed);
  const slowFrom = steps - Math.floor(steps / 6);
  let optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  batchIndices(split.size, batchSize, steps, seed).forEach((indices, step) => {
    if (step === slowFrom) {
      optimizer.dispose();
      optimizer = tf.train.adam(lr / 10);
    }
    const batch = makeBatch(split, indices);
    losses.push(trainStep(params, optimizer, batch));
    tf.dispose([batch.x, batch.y]);
  });
  optimizer.dispose();
  return { params, losses };
}

/**
 * The fraction of the images of `split` whose largest logit is the true digit. Works through the
 * split 500 images at a time: the conv output of all 2,000 test images at once would take 86 MB.
 */
export function evaluate(w: Weights, split: MnistSplit): number {
  let correct = 0;
  for (let start = 0; start < split.size; start += 500) {
    const indices = Array.from({ length: Math.min(500, split.size - start) }, (_, i) => start + i);
    correct += tf.tidy(() => {
      const batch = makeBatch(split, indices);
      const predicted = tf.argMax(forward(w, batch.x), 1);
      return tf.sum(tf.cast(tf.equal(predicted, batch.y), "int32")).dataSync()[0];
    });
  }
  return correct / split.size;
}
