// deno-lint-ignore-file no-unused-vars
/**
 * Kata 01 · 环境配置与张量 · Setup and tensors.
 *
 * Fill in each `TODO`, then run `deno test katas/01`. Read README.zh.md or README.md first;
 * stuck? hints.md has three levels of hints. Write the shape of every tensor next to the line that
 * makes it: most mistakes in this dojo are shape mistakes.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { todo } from "../../lib/todo.ts";

/** The name of the backend TensorFlow.js is running on: `"wasm"`, or `"cpu"` with `--backend=cpu`. */
export function currentBackend(): string {
  // TODO: ask tf which backend is active (one call).
  return todo(1, "currentBackend");
}

/**
 * A 2-D float32 tensor of shape [rows, cols] from a list of equally long rows.
 * `fromRows([[1, 2, 3], [4, 5, 6]])` has shape [2, 3].
 */
export function fromRows(rows: number[][]): tf.Tensor2D {
  // TODO: make a 2-D tensor from `rows` (keep the default dtype, float32).
  return todo(1, "fromRows");
}

/**
 * The vector x of shape [n] as a column of shape [n, 1], same values in the same order.
 * This is the seed's `unsqueeze(1)`: a model's input is a matrix, one sample per row.
 */
export function toColumn(x: tf.Tensor1D): tf.Tensor2D {
  // TODO: reshape x from [n] to [n, 1].
  return todo(1, "toColumn");
}

/**
 * x + b for x [n, d] and b [d]: b is added to every row (broadcasting).
 */
export function addBias(x: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  // TODO: add b to x and let broadcasting repeat b over the n rows; no loop, no tile.
  return todo(1, "addBias");
}

/**
 * The mean of each column of x [rows, cols]: a vector of shape [cols].
 * Reducing over axis 0 (the rows) removes that axis.
 */
export function columnMeans(x: tf.Tensor2D): tf.Tensor1D {
  // TODO: take the mean of x over the right axis (which axis disappears?).
  return todo(1, "columnMeans");
}

/**
 * A linear layer, y = xW + b, for x [n, in], W [in, out] and b [out]; y is [n, out].
 * Leaves no tensor behind except y.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  // TODO: inside tf.tidy, multiply x by w (matrix product), then add b.
  return todo(1, "linear");
}

/**
 * How many elements of x (any shape) are strictly greater than 0, as an int32 scalar.
 * Leaves no tensor behind except the count.
 */
export function countPositive(x: tf.Tensor): tf.Scalar {
  // TODO: inside tf.tidy, compare x with 0, turn true/false into int32 1/0, and sum everything.
  return todo(1, "countPositive");
}

/**
 * The sum of the squares of every element of every tensor in xs, as a float32 scalar
 * (0 for an empty list). The tensors of xs stay alive; every intermediate is freed.
 */
export function sumOfSquares(xs: tf.Tensor[]): tf.Scalar {
  // TODO: inside tf.tidy, start from a scalar 0 and add the sum of the squares of each x.
  return todo(1, "sumOfSquares");
}
