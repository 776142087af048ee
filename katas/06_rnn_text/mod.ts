// deno-lint-ignore-file no-unused-vars
/**
 * Kata 06 · 循环神经网络生成文本 · RNN text generation.
 *
 * Fill in every `// TODO:` (each is followed by `return todo(6, ...)`), then run
 * `deno test katas/06`. Read README.md or README.zh.md first; hints.md helps when you are stuck.
 *
 * A recurrent network written by hand, in the row-vector convention of TensorFlow.js (one example
 * per row): h_t = tanh(x_t W + h_{t-1} U + b) and the next-character logits y_t = h_t V + c.
 * Shapes: x_t [batch, vocab] (one-hot), h_t [batch, hidden], W [vocab, hidden],
 * U [hidden, hidden], b [hidden], V [hidden, vocab], c [vocab].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { normalRng } from "../../lib/random.ts";
import { todo } from "../../lib/todo.ts";

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
  // TODO: every distinct character of `text` once, sorted (code-point order), as an array:
  // a Set drops the repeats, spreading it ([...set]) makes an array, .sort() orders it. Do not
  // keep the order of first appearance: the index of a character must not depend on chance.
  return todo(6, "vocabulary");
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
  // TODO: next-character pairs. With the characters of `text` as c_0 .. c_T:
  //   inputs  = one-hot of c_0 .. c_{T-1}  (all but the last)
  //   targets = one-hot of c_1 .. c_T      (all but the first)
  // Use the given oneHot(str, chars) → [T, vocab] and add the batch axis in front
  // (tf.expandDims(..., 0)) → [1, T, vocab]. Wrap it in tf.tidy; return { inputs, targets }.
  return todo(6, "makeExamples");
}

/** One step of the recurrence: h_t = tanh(x_t W + h_{t-1} U + b), [batch, hidden]. */
export function rnnCell(x: tf.Tensor2D, hPrev: tf.Tensor2D, w: Weights): tf.Tensor2D {
  // TODO: tanh(x·W + hPrev·U + b). x is [batch, vocab], hPrev [batch, hidden]: tf.matMul(x, w.W)
  // and tf.matMul(hPrev, w.U) are both [batch, hidden]; add them and b (broadcast to every row),
  // then tf.tanh. Wrap it in tf.tidy.
  return todo(6, "rnnCell");
}

/**
 * The RNN unrolled over time: h_t = rnnCell(x_t, h_{t-1}) for t = 1..T from h_0 = `h0`, and the
 * logits y_t = h_t V + c of every step. `xs` is [batch, time, vocab], `h0` [batch, hidden].
 */
export function rnnForward(xs: tf.Tensor3D, h0: tf.Tensor2D, w: Weights): RnnOutput {
  // TODO: unroll the recurrence over the time axis (axis 1), inside one tf.tidy:
  // 1. h = h0; for each t, x_t = xs[:, t, :] as [batch, vocab] (tf.unstack(xs, 1) gives them all);
  //    h = rnnCell(x_t, h, w) — the NEW h is the hPrev of the next step — and keep every h.
  // 2. hidden = tf.stack(the hs, 1) → [batch, time, hidden].
  // 3. logits = hidden·V + c for every step: reshape hidden to [batch·time, hidden], matMul with
  //    w.V, add w.c, reshape to [batch, time, vocab].
  // Return { hidden, logits }. Compute it all with tf ops (no dataSync/arraySync of h): the
  // gradient must flow back through every step.
  return todo(6, "rnnForward");
}

/**
 * Softmax cross-entropy averaged over every position of every sequence:
 * L = −(1/(batch·time)) Σ_{b,t} log softmax(logits[b, t])[target]. `targets` is one-hot, the
 * shape of `logits` [batch, time, vocab].
 */
export function sequenceLoss(logits: tf.Tensor3D, targets: tf.Tensor3D): tf.Scalar {
  // TODO: −mean over batch and time of Σ_vocab targets · log softmax(logits):
  // tf.logSoftmax(logits) along the last axis, multiply by the one-hot targets, sum over the last
  // axis (that picks the log-probability of the right character), take the mean of what is left
  // ([batch, time]) and negate. (tf.losses.softmaxCrossEntropy(targets, logits) gives the same.)
  return todo(6, "sequenceLoss");
}

/**
 * One Adam step on the examples, from h_0 = 0: the loss of the whole unrolled sequence,
 * differentiated through every time step (backpropagation through time). Returns the loss before
 * the update; leaves no tensor behind.
 */
export function trainStep(params: Params, examples: Examples, optimizer: tf.Optimizer): number {
  // TODO: const loss = optimizer.minimize(() => { ... }, true, [params.W, params.U, params.b,
  // params.V, params.c])!, where the function builds h0 = zeros [batch, hidden], runs
  // rnnForward(examples.inputs, h0, params) and returns sequenceLoss(its logits, examples.targets).
  // Read the number (loss.dataSync()[0]), dispose the loss tensor, return the number.
  return todo(6, "trainStep");
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
  // TODO: inside tf.tidy: h = zeros [1, hidden]; text = first; ch = first. Then, until the text
  // has `length` characters: h = rnnCell(oneHot(ch, chars), h, w) (carry h!), logits = h·V + c
  // [1, vocab], ch = chars[index of the largest logit] (tf.argMax(logits, 1).dataSync()[0]),
  // text += ch. Return the text.
  return todo(6, "greedyDecode");
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
