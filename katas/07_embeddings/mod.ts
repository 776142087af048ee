// deno-lint-ignore-file no-unused-vars
/**
 * Kata 07 · 词嵌入 · Embeddings.
 *
 * Fill in every `// TODO:` (each is followed by `return todo(7, ...)`), then run
 * `deno test katas/07`. Read README.md or README.zh.md first; hints.md helps when you are stuck.
 *
 * An embedding is a table E [vocab, dim] whose row i is the vector of token i. Looking tokens up is
 * a gather, E[ids]; it equals the product onehot(ids)·E without the multiplications, and its
 * gradient lands only in the rows that were looked up. Trained on a tiny seeded corpus, the rows of
 * words used in the same contexts end up pointing the same way. Names follow the math: `table` is
 * E [vocab, dim], `ids` are integer token ids of any shape, e.g. [batch, time].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { normalRng, rng } from "../../lib/random.ts";
import { todo } from "../../lib/todo.ts";

/** The parameters of the skip-gram model: an embedding table and the layer that scores neighbours. */
export interface Params {
  /** E [vocab, dim]: row i is the vector of token i. */
  table: tf.Variable<tf.Rank.R2>;
  /** W [dim, vocab]: turns a vector into a score for every token of the vocabulary. */
  w: tf.Variable<tf.Rank.R2>;
  /** b [vocab]. */
  b: tf.Variable<tf.Rank.R1>;
}

/** Skip-gram training pairs: predict `contexts[k]` from `centers[k]`. Both int32 [pairs]. */
export interface Pairs {
  centers: tf.Tensor1D;
  contexts: tf.Tensor1D;
}

/** A tokenised corpus: the vocabulary (index = id), the token ids, and the text they spell. */
export interface Corpus {
  vocab: string[];
  ids: number[];
  text: string;
}

export interface TrainOptions {
  /** Embedding size (default 8). */
  dim?: number;
  /** Full-batch Adam steps (default 80). */
  steps?: number;
  /** Adam's learning rate (default 0.05). */
  lr?: number;
  /** Standard deviation of the initial table (default 0.1; PyTorch's nn.Embedding uses 1). */
  std?: number;
  /** Seed of the initial parameters. */
  seed: number;
}

/** The trained parameters and the loss before each step. */
export interface TrainResult {
  params: Params;
  losses: number[];
}

/**
 * Given: the words of the toy language, by group. Every sentence is a determiner, then either an
 * animal and an animal verb or a vehicle and a vehicle verb, then "." ("the cat sleeps .", "a bus
 * honks ."). Words of one group are interchangeable: they appear in exactly the same contexts.
 */
export const GROUPS = {
  determiners: ["the", "a"],
  animals: ["cat", "dog", "horse", "bird"],
  vehicles: ["car", "bus", "truck", "train"],
  animalVerbs: ["runs", "sleeps", "eats", "jumps"],
  vehicleVerbs: ["stops", "honks", "parks", "brakes"],
} as const;

/** Given: the vocabulary, "." first, then the groups in order: 19 tokens. */
export const VOCAB: readonly string[] = [".", ...Object.values(GROUPS).flat()];

/**
 * Given: `sentences` random sentences of the toy language (see {@linkcode GROUPS}), drawn with a
 * seeded generator, as token ids of {@linkcode VOCAB}.
 */
export function makeCorpus(seed: number, sentences = 200): Corpus {
  const u = rng(`embeddings:${seed}`);
  const pick = (words: readonly string[]) => words[Math.floor(u() * words.length)];
  const words: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const animal = u() < 0.5;
    words.push(
      pick(GROUPS.determiners),
      pick(animal ? GROUPS.animals : GROUPS.vehicles),
      pick(animal ? GROUPS.animalVerbs : GROUPS.vehicleVerbs),
      ".",
    );
  }
  const vocab = VOCAB.slice();
  return { vocab, ids: words.map((w) => vocab.indexOf(w)), text: words.join(" ") };
}

/**
 * Given: the skip-gram pairs of a token sequence: every token as a center, with each token at most
 * `window` places before or after it as a context. Sentences run on into each other, as in a
 * stream of text.
 */
export function skipGramPairs(ids: readonly number[], window = 1): Pairs {
  const centers: number[] = [], contexts: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = Math.max(0, i - window); j <= Math.min(ids.length - 1, i + window); j++) {
      if (j !== i) centers.push(ids[i]), contexts.push(ids[j]);
    }
  }
  return {
    centers: tf.tensor1d(centers, "int32"),
    contexts: tf.tensor1d(contexts, "int32"),
  };
}

/**
 * Given: E ~ N(0, std²) [vocab, dim], W ~ N(0, 1/dim) [dim, vocab] and b = 0, from a seeded
 * generator, as trainable variables. The default std is 0.1, not PyTorch's 1: see README.
 */
export function initParams(
  vocab: number,
  dim: number,
  { seed, std = 0.1 }: { seed: number; std?: number },
): Params {
  const normal = normalRng(`embeddings-init:${seed}`);
  const table = Float32Array.from({ length: vocab * dim }, () => std * normal());
  const w = Float32Array.from({ length: dim * vocab }, () => normal() / Math.sqrt(dim));
  // tf.tidy frees the initial tensors; the variables keep their values.
  return tf.tidy(() => ({
    table: tf.variable(tf.tensor2d(table, [vocab, dim])),
    w: tf.variable(tf.tensor2d(w, [dim, vocab])),
    b: tf.variable(tf.zeros<tf.Rank.R1>([vocab])),
  }));
}

/**
 * Throws unless `ids` is an int32 tensor whose every value lies in [0, vocab): a TypeError for
 * another dtype, a RangeError naming the first bad id, where it is, and the vocabulary size.
 */
export function checkIds(ids: tf.Tensor, vocab: number): void {
  // TODO: two checks, in this order.
  // 1. ids.dtype must be "int32": otherwise throw a TypeError that says so (ids are row numbers).
  // 2. Every id must lie in [0, vocab). Read the values with ids.dataSync() and find the first bad
  //    one; throw a RangeError whose message names that id, where it is (the flat index turned
  //    into [i, j, ...] is kindest) and the vocabulary size, e.g.
  //    "token id 12 at ids[1, 0] is outside the vocabulary: ids must be in [0, 10)".
  // Return nothing when all is well.
  return todo(7, "checkIds");
}

/** The lookup E[ids]: ids [...shape] → [...shape, dim], e.g. [batch, time] → [batch, time, dim]. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  // TODO: check the ids against the number of rows of the table (checkIds), then look the rows
  // up with tf.gather(table, ids): it takes ids of any shape and returns [...ids.shape, dim].
  return todo(7, "embed");
}

/** The same vectors as {@linkcode embed}, computed as onehot(ids) [..., vocab] · E [vocab, dim]. */
export function oneHotEmbed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  // TODO: check the ids (checkIds), then inside tf.tidy:
  // 1. flatten the ids to [n] and make one-hot rows with tf.oneHot(ids, vocab): [n, vocab], int32,
  //    so cast them to float32;
  // 2. multiply: [n, vocab] · E [vocab, dim] = [n, dim] (tf.matMul);
  // 3. reshape the result back to [...ids.shape, dim].
  // The multiplication is the point here: do not call tf.gather.
  return todo(7, "oneHotEmbed");
}

/**
 * The gradient of a loss with respect to E, by hand, given `dOut` = ∂loss/∂embed(E, ids)
 * [...ids.shape, dim]: dE = onehot(ids)ᵀ · dOut [vocab, dim]. Row v is the sum of the rows of dOut
 * where ids = v; rows never looked up are 0.
 */
export function embeddingGrad(ids: tf.Tensor, dOut: tf.Tensor, vocab: number): tf.Tensor2D {
  // TODO: by hand, without tf.grad: check the ids, then inside tf.tidy build the one-hot rows
  // [n, vocab] (float32) of the flattened ids, see dOut as [n, dim] (reshape), and return
  // onehotᵀ · dOut: [vocab, n] · [n, dim] = [vocab, dim]. (Kata 02 had ∇w = Xᵀr: here X is one-hot.)
  return todo(7, "embeddingGrad");
}

/** The cosine of the angle between every two rows: S[i, j] = E[i]·E[j] / (|E[i]| |E[j]|). */
export function cosineSimilarity(table: tf.Tensor2D): tf.Tensor2D {
  // TODO: inside tf.tidy: the length of every row (tf.norm over axis 1, keepDims) [vocab, 1];
  // divide each row by its length, clamped from below (tf.maximum(length, 1e-12)) so that a zero
  // row gives 0 instead of 0/0 = NaN; then multiply the unit rows by their transpose [vocab, vocab].
  return todo(7, "cosineSimilarity");
}

/**
 * The skip-gram loss: look the centers up, score every token as the neighbour
 * (logits = E[centers]·W + b [pairs, vocab]), and take the mean softmax cross-entropy against the
 * true contexts.
 */
export function skipGramLoss(params: Params, pairs: Pairs): tf.Scalar {
  // TODO: inside tf.tidy:
  // 1. h = embed(params.table, pairs.centers): [pairs, dim];
  // 2. logits = h · params.w + params.b: [pairs, vocab], a score for every possible neighbour;
  // 3. the mean softmax cross-entropy against the true neighbours pairs.contexts: with one-hot
  //    targets, −mean over the pairs of Σ onehot ⊙ tf.logSoftmax(logits) (kata 04), or
  //    tf.losses.softmaxCrossEntropy(tf.oneHot(pairs.contexts, vocab), logits).
  return todo(7, "skipGramLoss");
}

/** One full-batch Adam step on the skip-gram loss. Returns the loss before the update. */
export function trainStep(params: Params, pairs: Pairs, optimizer: tf.Optimizer): number {
  // TODO: optimizer.minimize(() => skipGramLoss(params, pairs), true, [E, W, b]) returns the loss
  // before the update (a scalar tensor) and updates the three variables in place. Read the number
  // out of it, dispose the tensor, return the number.
  return todo(7, "trainStep");
}

/** Given: Adam from `initParams(vocab, dim, { seed, std })` for `steps` steps on the pairs. */
export function train(pairs: Pairs, vocab: number, opts: TrainOptions): TrainResult {
  const { dim = 8, steps = 80, lr = 0.05, std = 0.1, seed } = opts;
  const params = initParams(vocab, dim, { seed, std });
  const optimizer = tf.train.adam(lr);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(trainStep(params, pairs, optimizer));
  optimizer.dispose();
  return { params, losses };
}
