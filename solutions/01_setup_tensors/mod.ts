/**
 * Kata 01 · 环境配置与张量 · Setup and tensors: the reference solution.
 *
 * Each function is one or two TensorFlow.js calls. The point is the shapes: write them next to
 * every line and the code follows.
 * @module
 */
import { tf } from "../../lib/tf.ts";

/** The name of the backend TensorFlow.js is running on: `"wasm"`, or `"cpu"` with `--backend=cpu`. */
export function currentBackend(): string {
  return tf.getBackend();
}

/**
 * A 2-D float32 tensor of shape [rows, cols] from a list of equally long rows.
 * `fromRows([[1, 2, 3], [4, 5, 6]])` has shape [2, 3].
 */
export function fromRows(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows); // numbers become float32 unless told otherwise
}

/**
 * The vector x of shape [n] as a column of shape [n, 1], same values in the same order.
 * This is the seed's `unsqueeze(1)`: a model's input is a matrix, one sample per row.
 */
export function toColumn(x: tf.Tensor1D): tf.Tensor2D {
  const [n] = x.shape;
  return tf.reshape(x, [n, 1]);
}

/**
 * x + b for x [n, d] and b [d]: b is added to every row (broadcasting).
 */
export function addBias(x: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(x, b); // [n, d] + [d] → [n, d]
}

/**
 * The mean of each column of x [rows, cols]: a vector of shape [cols].
 * Reducing over axis 0 (the rows) removes that axis.
 */
export function columnMeans(x: tf.Tensor2D): tf.Tensor1D {
  return tf.mean(x, 0);
}

/**
 * A linear layer, y = xW + b, for x [n, in], W [in, out] and b [out]; y is [n, out].
 * Leaves no tensor behind except y.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const xw = tf.matMul(x, w); // [n, in] @ [in, out] → [n, out]
    return tf.add(xw, b); // + [out], broadcast over the n rows
  });
}

/**
 * How many elements of x (any shape) are strictly greater than 0, as an int32 scalar.
 * Leaves no tensor behind except the count.
 */
export function countPositive(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const positive = tf.greater(x, 0); // bool, same shape as x
    return tf.sum(tf.cast(positive, "int32")); // true → 1, false → 0; sum over every axis
  });
}

/**
 * The sum of the squares of every element of every tensor in xs, as a float32 scalar
 * (0 for an empty list). The tensors of xs stay alive; every intermediate is freed.
 */
export function sumOfSquares(xs: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    let total: tf.Scalar = tf.scalar(0);
    for (const x of xs) total = tf.add(total, tf.sum(tf.square(x)));
    return total; // tidy keeps the returned tensor and frees the rest
  });
}
