/**
 * Kata 07 · 词嵌入 · Embeddings — the reference solution.
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
  if (ids.dtype !== "int32") {
    throw new TypeError(
      `token ids must be an int32 tensor, got ${ids.dtype}: make them with ` +
        `tf.tensor(ids, shape, "int32") (an id is a row number, not a quantity).`,
    );
  }
  const values = ids.dataSync();
  const bad = values.findIndex((id) => !(id >= 0 && id < vocab));
  if (bad < 0) return;
  const at: number[] = [];
  for (let flat = bad, d = ids.rank - 1; d >= 0; d--) {
    at.unshift(flat % ids.shape[d]);
    flat = Math.floor(flat / ids.shape[d]);
  }
  throw new RangeError(
    `token id ${values[bad]} at ids[${at.join(", ")}] is outside the vocabulary: ids must be in ` +
      `[0, ${vocab}) for a table of ${vocab} rows. An id ≥ vocab means the ids come from another ` +
      `(larger) vocabulary; a negative id is often a padding or "unknown" marker that needs a row ` +
      `of its own.`,
  );
}

/** The lookup E[ids]: ids [...shape] → [...shape, dim], e.g. [batch, time] → [batch, time, dim]. */
export function embed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  checkIds(ids, table.shape[0]);
  return tf.gather(table, ids);
}

/** The same vectors as {@linkcode embed}, computed as onehot(ids) [..., vocab] · E [vocab, dim]. */
export function oneHotEmbed(table: tf.Tensor2D, ids: tf.Tensor): tf.Tensor {
  const [vocab, dim] = table.shape;
  checkIds(ids, vocab);
  return tf.tidy(() => {
    const oneHot = tf.cast(tf.oneHot(tf.reshape(ids, [-1]), vocab), "float32"); // [n, vocab]
    return tf.reshape(tf.matMul(oneHot, table), [...ids.shape, dim]);
  });
}

/**
 * The gradient of a loss with respect to E, by hand, given `dOut` = ∂loss/∂embed(E, ids)
 * [...ids.shape, dim]: dE = onehot(ids)ᵀ · dOut [vocab, dim]. Row v is the sum of the rows of dOut
 * where ids = v; rows never looked up are 0.
 */
export function embeddingGrad(ids: tf.Tensor, dOut: tf.Tensor, vocab: number): tf.Tensor2D {
  checkIds(ids, vocab);
  return tf.tidy(() => {
    const dim = dOut.shape[dOut.rank - 1];
    const oneHot = tf.cast(tf.oneHot(tf.reshape(ids, [-1]), vocab), "float32"); // [n, vocab]
    return tf.matMul(tf.transpose(oneHot), tf.reshape(dOut, [-1, dim])); // [vocab, dim]
  });
}

/** The cosine of the angle between every two rows: S[i, j] = E[i]·E[j] / (|E[i]| |E[j]|). */
export function cosineSimilarity(table: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norms = tf.norm(table, "euclidean", 1, true); // [vocab, 1]
    const unit = tf.div(table, tf.maximum(norms, 1e-12)); // each row of length 1
    return tf.matMul(unit, tf.transpose(unit));
  });
}

/**
 * The skip-gram loss: look the centers up, score every token as the neighbour
 * (logits = E[centers]·W + b [pairs, vocab]), and take the mean softmax cross-entropy against the
 * true contexts.
 */
export function skipGramLoss(params: Params, pairs: Pairs): tf.Scalar {
  return tf.tidy(() => {
    const vocab = params.table.shape[0];
    const h = embed(params.table, pairs.centers); // [pairs, dim]
    const logits = tf.add(tf.matMul(h, params.w), params.b); // [pairs, vocab]
    return tf.losses.softmaxCrossEntropy(tf.oneHot(pairs.contexts, vocab), logits) as tf.Scalar;
  });
}

/** One full-batch Adam step on the skip-gram loss. Returns the loss before the update. */
export function trainStep(params: Params, pairs: Pairs, optimizer: tf.Optimizer): number {
  const loss = optimizer.minimize(
    () => skipGramLoss(params, pairs),
    true,
    [params.table, params.w, params.b],
  )!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
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
