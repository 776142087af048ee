/**
 * Small seeded data sets made on the spot: nothing is downloaded.
 *
 * @example
 * ```ts
 * import { makeClassification, trainTestSplit } from "./data.ts";
 * const data = makeClassification({ nSamples: 200, seed: 1 });
 * const { train, test } = trainTestSplit(data, { testFraction: 0.25, seed: 1 });
 * console.log(train.x.shape, test.y.shape); // [150, 2] [50]
 * ```
 * @module
 */
import { tf } from "./tf.ts";
import { normalRng, permutation, rng } from "./random.ts";

/** Features `x` [samples, features] and float 0/1 labels `y` [samples]. */
export interface Dataset {
  x: tf.Tensor2D;
  y: tf.Tensor1D;
}

export interface ClassificationOptions {
  nSamples?: number;
  nFeatures?: number;
  /** Half the distance between cluster centres along each axis (sklearn's `class_sep`). */
  classSep?: number;
  /** Gaussian clusters per class; with more than one, a class need not be linearly separable. */
  clustersPerClass?: number;
  /** Fraction of labels replaced by a random class: label noise (sklearn's `flip_y`). */
  flipY?: number;
  seed: number;
}

/**
 * A two-class problem in the spirit of scikit-learn's `make_classification`: each class is one or
 * more Gaussian clusters centred on distinct vertices of a hypercube with sides `2 * classSep`,
 * each cluster stretched by its own random linear map; a fraction `flipY` of the labels is then
 * randomised. Classes are balanced, samples shuffled, and the same seed gives the same data.
 * Unlike the seed document's call, which has no `random_state`, every run here is reproducible.
 */
export function makeClassification(opts: ClassificationOptions): Dataset {
  const { nSamples = 1000, nFeatures = 2, classSep = 1, clustersPerClass = 1, flipY = 0.01 } = opts;
  const nClusters = 2 * clustersPerClass;
  if (nClusters > 2 ** nFeatures) {
    throw new RangeError(
      `makeClassification: ${nClusters} clusters need at least ${
        Math.ceil(Math.log2(nClusters))
      } ` +
        `features, got ${nFeatures}`,
    );
  }
  const u = rng(`classification:${opts.seed}`);
  const z = normalRng(`classification-normal:${opts.seed}`);
  const vertices = permutation(2 ** nFeatures, `vertices:${opts.seed}`).slice(0, nClusters);
  const x = new Float32Array(nSamples * nFeatures);
  const y = new Float32Array(nSamples);
  let row = 0;
  for (let k = 0; k < nClusters; k++) {
    const centre = Array.from(
      { length: nFeatures },
      (_, d) => ((vertices[k] >> d) & 1 ? 1 : -1) * classSep,
    );
    const a = Array.from({ length: nFeatures * nFeatures }, () => 2 * u() - 1);
    const count = Math.floor(nSamples / nClusters) + (k < nSamples % nClusters ? 1 : 0);
    for (let s = 0; s < count; s++, row++) {
      const noise = Array.from({ length: nFeatures }, z);
      for (let d = 0; d < nFeatures; d++) {
        let v = centre[d];
        for (let e = 0; e < nFeatures; e++) v += noise[e] * a[e * nFeatures + d];
        x[row * nFeatures + d] = v;
      }
      y[row] = k % 2;
    }
  }
  for (let i = 0; i < nSamples; i++) if (u() < flipY) y[i] = u() < 0.5 ? 0 : 1;
  const order = permutation(nSamples, `order:${opts.seed}`);
  const xs = new Float32Array(x.length), ys = new Float32Array(nSamples);
  order.forEach((from, to) => {
    xs.set(x.subarray(from * nFeatures, (from + 1) * nFeatures), to * nFeatures);
    ys[to] = y[from];
  });
  return { x: tf.tensor2d(xs, [nSamples, nFeatures]), y: tf.tensor1d(ys) };
}

/** Splits a data set into disjoint train and test parts after a seeded shuffle. */
export function trainTestSplit(
  data: Dataset,
  { testFraction = 0.2, seed }: { testFraction?: number; seed: number },
): { train: Dataset; test: Dataset } {
  const n = data.y.shape[0];
  const nTest = Math.round(n * testFraction);
  if (!(nTest >= 1 && nTest < n)) {
    throw new RangeError(
      `trainTestSplit: testFraction ${testFraction} of ${n} samples leaves a part empty`,
    );
  }
  const order = permutation(n, `split:${seed}`);
  const part = (idx: number[]): Dataset =>
    tf.tidy(() => {
      const i = tf.tensor1d(idx, "int32");
      return { x: tf.gather(data.x, i) as tf.Tensor2D, y: tf.gather(data.y, i) as tf.Tensor1D };
    });
  return { train: part(order.slice(nTest)), test: part(order.slice(0, nTest)) };
}
