/**
 * Kata 05 · 卷积神经网络 · Convolutional network — the reference solution.
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
  return tf.reshape(flat, [flat.shape[0], IMAGE_SIZE, IMAGE_SIZE, 1]);
}

/**
 * The output size of a convolution or pooling layer along one axis: an input of `n` positions, a
 * window of `k`, a stride `s`. With p zeros of padding on each side, ⌊(n + 2p − k) / s⌋ + 1;
 * `"valid"` is p = 0; TensorFlow's `"same"` is ⌈n / s⌉ (it pads just enough, unevenly if need be).
 */
export function outputSize(n: number, k: number, stride: number, padding: Padding): number {
  if (padding === "same") return Math.ceil(n / stride);
  const p = padding === "valid" ? 0 : padding;
  return Math.floor((n + 2 * p - k) / stride) + 1;
}

/**
 * Seeded weights, PyTorch's default for `Conv2d` and `Linear`: every weight and bias uniform in
 * [−1/√fanIn, 1/√fanIn], where fanIn is the number of inputs of one output (3·3·1 = 9 for the
 * conv, 2704 for the dense layer). Each tensor gets its own seed from `seedSequence(seed)`.
 */
export function initParams(seed: number): Params {
  const next = seedSequence(seed);
  const convSize = outputSize(IMAGE_SIZE, KERNEL, 1, "valid"); // 26
  const pooled = outputSize(convSize, POOL, POOL, "valid"); // 13
  const flat = pooled * pooled * FILTERS; // 2704
  const u = (shape: number[], fanIn: number) => {
    const bound = 1 / Math.sqrt(fanIn);
    return uniform(shape, { seed: next(), lo: -bound, hi: bound });
  };
  const convFanIn = KERNEL * KERNEL * 1;
  return tf.tidy(() => ({
    convW: tf.variable(u([KERNEL, KERNEL, 1, FILTERS], convFanIn) as tf.Tensor4D),
    convB: tf.variable(u([FILTERS], convFanIn) as tf.Tensor1D),
    denseW: tf.variable(u([flat, CLASSES], flat) as tf.Tensor2D),
    denseB: tf.variable(u([CLASSES], flat) as tf.Tensor1D),
  }));
}

/**
 * The convolution: a 3×3 "valid" convolution with stride 1 of `x` [batch, h, w, inChannels] by
 * `w` [3, 3, inChannels, outChannels], plus the bias `b` [outChannels] on every position.
 * [batch, h, w, in] → [batch, h − 2, w − 2, out].
 */
export function convLayer(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D): tf.Tensor4D {
  return tf.tidy(() => tf.add(tf.conv2d(x, w, 1, "valid"), b));
}

/** 2×2 max-pooling with stride 2, "valid": [batch, h, w, c] → [batch, ⌊h/2⌋, ⌊w/2⌋, c]. */
export function poolLayer(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, POOL, POOL, "valid");
}

/**
 * The seed's model, layer by layer: conv → ReLU → max-pool → flatten → dense. `x` is
 * [batch, 28, 28, 1]; see {@linkcode Activations} for every shape.
 */
export function forwardLayers(w: Weights, x: tf.Tensor4D): Activations {
  return tf.tidy(() => {
    const conv = convLayer(x, w.convW, w.convB);
    const relu = tf.relu(conv);
    const pool = poolLayer(relu);
    const flat = tf.reshape(pool, [pool.shape[0], -1]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(flat, w.denseW), w.denseB) as tf.Tensor2D;
    return { conv, relu, pool, flat, logits };
  });
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
  const loss = optimizer.minimize(
    () => crossEntropy(forward(params, batch.x), batch.y),
    true,
    [params.convW, params.convB, params.denseW, params.denseB],
  )!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/**
 * Weights trained in PyTorch (channels first), rearranged for this model (channels last):
 * the same function, so `forward` gives the logits PyTorch gives on the same image.
 */
export function fromTorch(t: TorchWeights): Weights {
  return tf.tidy(() => {
    const [classes, inputs] = t["4.weight"].shape;
    const filters = t["0.weight"].shape[0];
    const side = Math.round(Math.sqrt(inputs / filters));
    // [out, in, kh, kw] → [kh, kw, in, out]
    const convW = tf.transpose(t["0.weight"], [2, 3, 1, 0]) as tf.Tensor4D;
    // Column i of PyTorch's [10, 2704] is (channel, row, col); ours is (row, col, channel).
    const denseW = tf.reshape(
      tf.transpose(tf.reshape(t["4.weight"], [classes, filters, side, side]), [2, 3, 1, 0]),
      [inputs, classes],
    ) as tf.Tensor2D;
    return { convW, convB: t["0.bias"].clone(), denseW, denseB: t["4.bias"].clone() };
  });
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
