/**
 * Kata 06 · 循环神经网络生成文本 · RNN text generation — the reference solution.
 *
 * A recurrent network written by hand, in the row-vector convention of TensorFlow.js (one example
 * per row): h_t = tanh(x_t W + h_{t-1} U + b) and the next-character logits y_t = h_t V + c.
 * Shapes: x_t [batch, vocab] (one-hot), h_t [batch, hidden], W [vocab, hidden],
 * U [hidden, hidden], b [hidden], V [hidden, vocab], c [vocab].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { normalRng } from "../../lib/random.ts";

/** The seed document's training text. */
export const TEXT = "hello world";

/** The weights of the RNN, as tensors: what the forward pass reads. */
export interface Weights {
  /** Input → hidden [vocab, hidden]. */
  W: tf.Tensor2D;
  /** Hidden → hidden, the recurrence [hidden, hidden]. */
  U: tf.Tensor2D;
  /** Hidden bias [hidden]. */
  b: tf.Tensor1D;
  /** Hidden → output logits [hidden, vocab]. */
  V: tf.Tensor2D;
  /** Output bias [vocab]. */
  c: tf.Tensor1D;
}

/** The same weights as trainable variables, updated in place by the optimizer. */
export interface Params extends Weights {
  W: tf.Variable<tf.Rank.R2>;
  U: tf.Variable<tf.Rank.R2>;
  b: tf.Variable<tf.Rank.R1>;
  V: tf.Variable<tf.Rank.R2>;
  c: tf.Variable<tf.Rank.R1>;
}

/** Next-character training pairs: inputs[t] is a character, targets[t] the one after it. */
export interface Examples {
  /** One-hot characters text[0..T-1], float32 [batch = 1, time = T, vocab]. */
  inputs: tf.Tensor3D;
  /** One-hot characters text[1..T], float32 [batch = 1, time = T, vocab]. */
  targets: tf.Tensor3D;
}

/** Every hidden state and every output of an unrolled forward pass. */
export interface RnnOutput {
  /** h_1 .. h_T [batch, time, hidden]. */
  hidden: tf.Tensor3D;
  /** y_t = h_t V + c for every t [batch, time, vocab]: next-character logits. */
  logits: tf.Tensor3D;
}

export interface TrainOptions {
  /** Hidden size (default 16). */
  hidden?: number;
  /** Adam steps on the whole text (default 100). */
  steps?: number;
  /** Adam's learning rate (default 0.05). */
  lr?: number;
  /** Seed of the initial weights. */
  seed: number;
}

/** The trained RNN, its vocabulary and the loss before each step. */
export interface TrainResult {
  params: Params;
  chars: string[];
  losses: number[];
}

/**
 * The vocabulary: every distinct character of `text`, once, sorted by code point. The order is the
 * same on every run, so index i means the same character everywhere (the seed's
 * `list(set(text))` gives a different order on each Python run).
 */
export function vocabulary(text: string): string[] {
  return [...new Set(text)].sort();
}

/** The index of every character of `text` in `chars`. */
export function encode(text: string, chars: readonly string[]): number[] {
  return [...text].map((ch) => {
    const i = chars.indexOf(ch);
    if (i < 0) throw new RangeError(`"${ch}" is not in the vocabulary [${chars.join("")}]`);
    return i;
  });
}

/** The characters of the indices `ids`. */
export function decode(ids: readonly number[], chars: readonly string[]): string {
  return ids.map((i) => chars[i]).join("");
}

/**
 * One-hot rows of the characters of `text`: float32 [length, vocab], a single 1 per row. A one-hot
 * row times W picks one row of W: that lookup is what an embedding is (kata 07).
 */
export function oneHot(text: string, chars: readonly string[]): tf.Tensor2D {
  return tf.tidy(() =>
    tf.oneHot(tf.tensor1d(encode(text, chars), "int32"), chars.length).toFloat() as tf.Tensor2D
  );
}

/**
 * Seeded random weights: W ~ N(0, 1/vocab), U ~ N(0, 1/hidden), V ~ N(0, 1/hidden), b = c = 0.
 * The 1/fan-in variances keep the pre-activations of order 1, where tanh is not saturated.
 */
export function initRnn(vocab: number, hidden: number, seed: number): Params {
  const normal = normalRng(`rnn_text:${seed}`);
  const matrix = (rows: number, cols: number) =>
    tf.tensor2d(Float32Array.from({ length: rows * cols }, () => normal() / Math.sqrt(rows)), [
      rows,
      cols,
    ]);
  return tf.tidy(() => ({
    W: tf.variable(matrix(vocab, hidden)),
    U: tf.variable(matrix(hidden, hidden)),
    b: tf.variable(tf.zeros<tf.Rank.R1>([hidden])),
    V: tf.variable(matrix(hidden, vocab)),
    c: tf.variable(tf.zeros<tf.Rank.R1>([vocab])),
  }));
}

/**
 * Next-character examples from `text`: the inputs are its characters but the last, the targets
 * its characters but the first, both one-hot [1, length - 1, vocab].
 */
export function makeExamples(text: string, chars: readonly string[]): Examples {
  const all = [...text]; // characters, not UTF-16 units
  return tf.tidy(() => ({
    inputs: tf.expandDims(oneHot(all.slice(0, -1).join(""), chars), 0) as tf.Tensor3D,
    targets: tf.expandDims(oneHot(all.slice(1).join(""), chars), 0) as tf.Tensor3D,
  }));
}

/** One step of the recurrence: h_t = tanh(x_t W + h_{t-1} U + b), [batch, hidden]. */
export function rnnCell(x: tf.Tensor2D, hPrev: tf.Tensor2D, w: Weights): tf.Tensor2D {
  return tf.tidy(() => tf.tanh(tf.add(tf.add(tf.matMul(x, w.W), tf.matMul(hPrev, w.U)), w.b)));
}

/**
 * The RNN unrolled over time: h_t = rnnCell(x_t, h_{t-1}) for t = 1..T from h_0 = `h0`, and the
 * logits y_t = h_t V + c of every step. `xs` is [batch, time, vocab], `h0` [batch, hidden].
 */
export function rnnForward(xs: tf.Tensor3D, h0: tf.Tensor2D, w: Weights): RnnOutput {
  return tf.tidy(() => {
    const [batch, time] = xs.shape;
    const hidden = w.U.shape[0];
    const hs: tf.Tensor2D[] = [];
    let h = h0;
    for (const x of tf.unstack(xs, 1) as tf.Tensor2D[]) {
      h = rnnCell(x, h, w);
      hs.push(h);
    }
    const all = tf.stack(hs, 1) as tf.Tensor3D; // [batch, time, hidden]
    const flat = tf.add(tf.matMul(tf.reshape(all, [batch * time, hidden]), w.V), w.c);
    return { hidden: all, logits: tf.reshape(flat, [batch, time, -1]) as tf.Tensor3D };
  });
}

/**
 * Softmax cross-entropy averaged over every position of every sequence:
 * L = −(1/(batch·time)) Σ_{b,t} log softmax(logits[b, t])[target]. `targets` is one-hot, the
 * shape of `logits` [batch, time, vocab].
 */
export function sequenceLoss(logits: tf.Tensor3D, targets: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))));
}

/**
 * One Adam step on the examples, from h_0 = 0: the loss of the whole unrolled sequence,
 * differentiated through every time step (backpropagation through time). Returns the loss before
 * the update; leaves no tensor behind.
 */
export function trainStep(params: Params, examples: Examples, optimizer: tf.Optimizer): number {
  const loss = optimizer.minimize(
    () => {
      const [batch] = examples.inputs.shape;
      const h0 = tf.zeros<tf.Rank.R2>([batch, params.U.shape[0]]);
      return sequenceLoss(rnnForward(examples.inputs, h0, params).logits, examples.targets);
    },
    true,
    [params.W, params.U, params.b, params.V, params.c],
  )!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

/**
 * Greedy decoding: start from `first` and h_0 = 0, feed one character at a time, carry the hidden
 * state forward, and append the most likely next character, until the text is `length`
 * characters long (`first` included).
 */
export function greedyDecode(
  w: Weights,
  chars: readonly string[],
  first: string,
  length: number,
): string {
  return tf.tidy(() => {
    let h = tf.zeros<tf.Rank.R2>([1, w.U.shape[0]]);
    let ch = first;
    let out = first;
    for (let i = 1; i < length; i++) {
      h = rnnCell(oneHot(ch, chars), h, w); // carry h: it remembers every character so far
      const logits = tf.add(tf.matMul(h, w.V), w.c); // [1, vocab]
      ch = chars[tf.argMax(logits, 1).dataSync()[0]];
      out += ch;
    }
    return out;
  });
}

/**
 * The whole recipe: vocabulary, examples, seeded weights, `steps` Adam steps on the whole text.
 * Frees the examples and Adam's state; the caller owns the returned params.
 */
export function train(
  text: string,
  { hidden = 16, steps = 100, lr = 0.05, seed }: TrainOptions,
): TrainResult {
  const chars = vocabulary(text);
  const examples = makeExamples(text, chars);
  const params = initRnn(chars.length, hidden, seed);
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(trainStep(params, examples, optimizer));
  optimizer.dispose();
  tf.dispose([examples.inputs, examples.targets]);
  return { params, chars, losses };
}
