// deno-lint-ignore-file no-unused-vars
/**
 * Kata 14 · 效果优化 · Improvements.
 *
 * Fill in each `// TODO:` (each is followed by `return todo(14, ...)`), then run
 * `deno test katas/14`. Read README.zh.md or README.md first; stuck? hints.md has three levels of
 * hints. Write them in order: dropout, initImproved, headLogits, forwardImproved, lrAt,
 * forwardCached, generateCached.
 *
 * The seed's step 14 done properly: inverted dropout that knows training from evaluation, N
 * stacked blocks, a language-model head tied to the token embedding, a learning rate that warms up
 * and then follows a cosine down to a floor, and a KV cache that makes generation faster without
 * changing a single token. The model is kata 10's (same parameters, same seeds); training is kata
 * 12's `fit`; sampling is kata 13's `sampleFrom`, all from their reference solutions.
 * `deno task train` and `deno task generate` build on these exports.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { rng, seedSequence, uniform } from "../../lib/random.ts";
import { todo } from "../../lib/todo.ts";
import {
  causalMask,
  linear,
  mergeHeads,
  multiHeadAttention,
  splitHeads,
} from "../../solutions/08_self_attention/mod.ts";
import { feedForward, layerNorm } from "../../solutions/09_transformer_block/mod.ts";
import {
  forward,
  initMiniLLM,
  type MiniLLM,
  type MiniLLMConfig,
  type MiniLLMParams,
  parameters,
} from "../../solutions/10_mini_llm/mod.ts";
import { makeWindows } from "../../solutions/11_training_data/mod.ts";
import {
  crossEntropy,
  fit,
  type FitOptions,
  type FitResult,
} from "../../solutions/12_training_loop/mod.ts";
import {
  generate,
  type GenerateOptions,
  sampleFrom,
} from "../../solutions/13_text_generation/mod.ts";

// The building blocks of katas 08-13, from their reference solutions (the tests compose them).
export {
  causalMask,
  crossEntropy,
  feedForward,
  fit,
  forward,
  generate,
  initMiniLLM,
  layerNorm,
  multiHeadAttention,
  parameters,
  sampleFrom,
};
export type { FitOptions, FitResult, GenerateOptions, MiniLLM, MiniLLMConfig, MiniLLMParams };

// ---- the model: dropout, depth, weight tying ----

/** Kata 10's sizes (nLayer is the depth N), and the two switches of this kata. */
export interface ImprovedConfig extends MiniLLMConfig {
  /** p: the probability that dropout zeroes an activation in training (0: no dropout). */
  dropout: number;
  /** Weight tying: the head reuses the token embedding, logits = LN(x)·wteᵀ + b. */
  tieWeights: boolean;
}

/** Kata 10's parameters, except that a tied head has no matrix of its own. */
export interface ImprovedParams extends Omit<MiniLLMParams, "head"> {
  /** w [embed, vocab], or null when the weights are tied (the head then reads wte); b [vocab]. */
  head: { w: tf.Tensor2D | null; b: tf.Tensor1D };
}

/** A model of this kata: its sizes and its parameters. */
export interface ImprovedModel {
  config: ImprovedConfig;
  params: ImprovedParams;
}

/** Options of {@linkcode dropout}. */
export interface DropoutOptions {
  /** Training mode drops; evaluation mode (false) returns x itself. */
  train: boolean;
  /** A non-zero seed (required in training mode): the same seed gives the same mask. */
  seed?: number;
}

/** Options of {@linkcode forwardImproved}. */
export interface ForwardOptions {
  /** Training mode (dropout active) or evaluation mode (the default: deterministic). */
  train?: boolean;
  /** The base seed of the dropout masks (non-zero); required in training mode when p > 0. */
  seed?: number;
}

/**
 * Inverted dropout. In training mode every element of x is zeroed with probability `rate` and the
 * survivors are divided by 1 − rate, so that every element keeps its expected value:
 * E[y] = (1 − p)·x/(1 − p) = x. The mask is `uniform(x.shape, { seed })` ≥ rate. In evaluation
 * mode, or with rate 0, it returns x itself (no copy, no randomness). A RangeError unless
 * 0 ≤ rate < 1; a TypeError in training mode without a seed.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, opts: DropoutOptions): T {
  // TODO: 1. throw a RangeError unless 0 <= rate < 1;
  // 2. in evaluation mode (!opts.train) or with rate 0, return x itself;
  // 3. in training mode without opts.seed, throw a TypeError (masks must be reproducible);
  // 4. inside tf.tidy: keep = (uniform(x.shape, { seed }) >= rate) as float32 (tf.greaterEqual,
  //    tf.cast), and return x · keep / (1 − rate). Divide by 1 − rate, or the expected
  //    activation shrinks to (1 − p)·x in training and the model sees other numbers in eval.
  return todo(14, "dropout");
}

/**
 * A new model: kata 10's `initMiniLLM(config, { seed, std })` (the same seed gives the same wte,
 * wpe, blocks, lnF and head bias), with `config` kept whole. When `tieWeights` is set the head
 * has no matrix: head.w is disposed and set to null, and the head reads wte. A RangeError unless
 * 0 ≤ config.dropout < 1.
 */
export function initImproved(
  config: ImprovedConfig,
  { seed, std = 0.02 }: { seed: number; std?: number },
): ImprovedModel {
  // TODO: 1. throw a RangeError unless 0 <= config.dropout < 1;
  // 2. const { params } = initMiniLLM(config, { seed, std }): kata 10's model, same seeds;
  // 3. when config.tieWeights: dispose params.head.w and use null instead (the head reads wte);
  // 4. return { config: { ...config }, params: { ...params, head: { w, b: params.head.b } } }.
  return todo(14, "initImproved");
}

/**
 * The final LayerNorm and the head, x [batch, time, embed] → logits [batch, time, vocab].
 * Untied: LN_f(x)·W + b. Tied: LN_f(x)·wteᵀ + b: the token embedding used a second time, the
 * same tensor, so that both uses send their gradient to it.
 */
export function headLogits(model: ImprovedModel, x: tf.Tensor3D): tf.Tensor3D {
  // TODO: inside tf.tidy: h = layerNorm(x, lnF); untied (head.w !== null): linear(h, head.w,
  // head.b). Tied: reshape h to [batch·time, embed], tf.matMul(rows, wte, false, true) (that is
  // rows·wteᵀ: [B·T, C]·[C, V]), add head.b, reshape to [batch, time, vocab]. Use wte itself,
  // not a copy: a copy would be a second tensor, and the head's gradient would miss wte.
  return todo(14, "headLogits");
}

/**
 * The logits [batch, time, vocab] of idx [batch, time] (int32). In evaluation mode (the default)
 * this is kata 10's forward pass, with the tied head when tied. In training mode, dropout with
 * p = config.dropout acts after the embeddings and on each sub-layer's output before it joins the
 * residual stream:
 *
 *   x = drop(wte[idx] + wpe[0..time−1]);  per block: x ← x + drop(MHA(LN₁(x))),
 *   x ← x + drop(FFN(LN₂(x)));  then headLogits.
 *
 * The masks' seeds are drawn from `next = seedSequence(seed)` in that order: the embeddings
 * first, then per block the attention output, then the feed-forward output. A RangeError if
 * time > blockSize; a TypeError in training mode with p > 0 and no seed.
 */
export function forwardImproved(
  model: ImprovedModel,
  idx: tf.Tensor2D,
  { train = false, seed }: ForwardOptions = {},
): tf.Tensor3D {
  // TODO: kata 10's forward, with dropout:
  // 1. throw a RangeError if time > blockSize, a TypeError if train && p > 0 && seed is missing;
  // 2. next = seedSequence(seed ?? 1); drop(t) = dropout(t, p, { train, seed: next() });
  // 3. inside tf.tidy: x = drop(tf.gather(wte, idx) + the first `time` rows of wpe);
  //    mask = causalMask(time); for each block b:
  //      x = x + drop(multiHeadAttention(layerNorm(x, b.ln1), b.attn, { nHead, mask }));
  //      x = x + drop(feedForward(layerNorm(x, b.ln2), b.mlp));
  //    return headLogits(model, x).
  return todo(14, "forwardImproved");
}

/** Given: every trainable variable of the model once, in a fixed order (a tied wte once). */
export function improvedParameters(model: ImprovedModel): tf.Variable[] {
  const { wte, wpe, blocks, lnF, head } = model.params;
  const all: tf.Tensor[] = [
    wte,
    wpe,
    ...blocks.flatMap((b) => [
      b.ln1.gain,
      b.ln1.bias,
      b.attn.wQkv,
      b.attn.bQkv,
      b.attn.wO,
      b.attn.bO,
      b.ln2.gain,
      b.ln2.bias,
      b.mlp.wFc,
      b.mlp.bFc,
      b.mlp.wProj,
      b.mlp.bProj,
    ]),
    lnF.gain,
    lnF.bias,
    ...(head.w === null ? [] : [head.w]),
    head.b,
  ];
  return [...new Set(all)].map((p) => {
    if (!(p instanceof tf.Variable)) {
      throw new TypeError("improvedParameters: every parameter must be a tf.Variable");
    }
    return p;
  });
}

/** Given: the number of numbers the model learns. Tying saves V·C of them. */
export function countImprovedParams(model: ImprovedModel): number {
  return improvedParameters(model).reduce((sum, p) => sum + p.size, 0);
}

/**
 * Given: the variables that get weight decay, as kata 12's `decayedParameters`: the weight
 * matrices of every block and the head's own matrix. Not the embeddings, so not a tied wte either
 * (it is an embedding first: rows of rare tokens would fade).
 */
export function decayedImprovedParameters(model: ImprovedModel): Set<tf.Variable> {
  const { blocks, head } = model.params;
  return new Set(
    [
      ...blocks.flatMap((b) => [b.attn.wQkv, b.attn.wO, b.mlp.wFc, b.mlp.wProj]),
      ...(head.w === null ? [] : [head.w]),
    ] as tf.Variable[],
  );
}

/** The dropout seed of a training step: non-zero, a function of the run's seed and the step. */
function dropoutSeed(seed: number, step: number): number {
  return 1 + Math.floor(rng(`dropout:${seed}:${step}`)() * (2 ** 31 - 2));
}

/**
 * Given: kata 12's `fit` for this model, in training mode: loss =
 * crossEntropy(forwardImproved(model, inputs, { train: true, seed }), targets), where the dropout
 * seed of step s depends only on (opts.seed, s), so that a resumed run draws the same masks.
 * Weight decay on {@linkcode decayedImprovedParameters}. For the schedule, pass
 * `lrAt: (s) => lrAt(s, schedule)`.
 */
export function trainImproved(model: ImprovedModel, ids: Int32Array, opts: FitOptions): FitResult {
  let step = opts.startStep ?? 0; // fit calls the loss once per step, in order
  const loss = (inputs: tf.Tensor2D, targets: tf.Tensor2D) =>
    crossEntropy(
      forwardImproved(model, inputs, { train: true, seed: dropoutSeed(opts.seed, step++) }),
      targets,
    );
  return fit(improvedParameters(model), decayedImprovedParameters(model), loss, ids, opts);
}

/**
 * Given: kata 12's `estimateLoss` for this model: the mean cross-entropy, in evaluation mode (no
 * dropout), over every position of the non-overlapping windows of `ids`, `batch` windows at a
 * time (default 32), without gradients.
 */
export function estimateImprovedLoss(
  model: ImprovedModel,
  ids: Int32Array,
  { time, batch = 32 }: { time: number; batch?: number },
): number {
  const { inputs, targets } = makeWindows(ids, time, time);
  try {
    const windows = inputs.shape[0];
    let sum = 0;
    for (let start = 0; start < windows; start += batch) {
      const size = Math.min(batch, windows - start);
      sum += size * tf.tidy(() => {
        const x = tf.slice(inputs, [start, 0], [size, time]) as tf.Tensor2D;
        const y = tf.slice(targets, [start, 0], [size, time]) as tf.Tensor2D;
        return crossEntropy(forwardImproved(model, x), y).dataSync()[0];
      });
    }
    return sum / windows;
  } finally {
    tf.dispose([inputs, targets]);
  }
}

// ---- the learning-rate schedule ----

/** Linear warm-up, then cosine decay to a floor (nanoGPT's schedule). */
export interface LrSchedule {
  /** Steps of linear warm-up (0: none). */
  warmup: number;
  /** The step at which the decay reaches minLr (usually the run's length); minLr after it. */
  total: number;
  /** The peak learning rate, reached at step `warmup`. */
  maxLr: number;
  /** The floor the cosine decays to (nanoGPT: maxLr/10). */
  minLr: number;
}

/**
 * The learning rate of step `step` (0, 1, 2, ...):
 * - warm-up, step < warmup: maxLr·(step + 1)/(warmup + 1), a line that starts just above 0;
 * - decay, warmup ≤ step ≤ total: minLr + ½·(1 + cos(π·r))·(maxLr − minLr) with
 *   r = (step − warmup)/(total − warmup): maxLr at step = warmup, minLr at step = total;
 * - after the decay, step > total: minLr.
 * A RangeError unless warmup is a whole number and 0 ≤ warmup ≤ total.
 */
export function lrAt(step: number, { warmup, total, maxLr, minLr }: LrSchedule): number {
  // TODO: throw a RangeError unless warmup is a whole number with 0 <= warmup <= total. Then:
  // step < warmup: maxLr · (step + 1) / (warmup + 1);  step >= total: minLr;
  // otherwise r = (step − warmup) / (total − warmup) and
  // minLr + 0.5 · (1 + Math.cos(Math.PI · r)) · (maxLr − minLr).
  return todo(14, "lrAt");
}

// ---- the KV cache ----

/** What one block has computed so far: keys and values [batch, nHead, length, dHead]. */
export interface LayerCache {
  k: tf.Tensor4D | null;
  v: tf.Tensor4D | null;
}

/** A KV cache: one {@linkcode LayerCache} per block, and the number of positions they hold. */
export interface KVCache {
  layers: LayerCache[];
  /** Positions cached so far: the next token goes to position `length`. */
  length: number;
}

/** Given: an empty cache for the model, one entry per block. */
export function createKVCache(model: ImprovedModel): KVCache {
  return { layers: model.params.blocks.map(() => ({ k: null, v: null })), length: 0 };
}

/** Given: frees the cache's tensors and empties it; it can be filled again. */
export function resetKVCache(cache: KVCache): void {
  for (const layer of cache.layers) {
    tf.dispose([layer.k, layer.v].filter((t) => t !== null));
    layer.k = null;
    layer.v = null;
  }
  cache.length = 0;
}

/**
 * Given: the additive mask [time, past + time] of `time` new tokens that follow `past` cached
 * ones: new token i, at position past + i, sees every cached position and the new tokens up to
 * itself (0), not the ones after it (−∞). For one new token it is a row of zeros.
 */
export function cachedMask(past: number, time: number): tf.Tensor2D {
  const width = past + time;
  const m = new Float32Array(time * width);
  for (let i = 0; i < time; i++) m.fill(-Infinity, i * width + past + i + 1, (i + 1) * width);
  return tf.tensor2d(m, [time, width]);
}

/**
 * Given: softmax(q·kᵀ/√d + mask)·v, kata 08's `attention`, with plain `tf.matMul`: for the few
 * query rows of generation it is faster than `batchMatMul`, which pays off only for large
 * products and their gradients (a cached step of the V65 T64 C128 L4 H4 model: about 2.2 ms of
 * CPU time instead of 2.8 ms). q [..., time, d], k and v [..., past + time, d].
 */
export function inferenceAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask?: tf.Tensor2D,
): tf.Tensor {
  return tf.tidy(() => {
    const d = q.shape[q.rank - 1];
    const scores = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(d));
    return tf.matMul(tf.softmax(mask ? tf.add(scores, mask) : scores), v);
  });
}

/**
 * Evaluation-mode logits [batch, time, vocab] of `time` new tokens idx [batch, time] (int32) that
 * follow the `cache.length` cached positions: the same numbers as forwardImproved on the whole
 * sequence, at the new positions. In each block the new tokens' keys and values are appended to
 * that block's cache (concat on the time axis; the old tensors are disposed, the new ones kept
 * out of any tf.tidy with tf.keep) and the new queries attend to all of them; cache.length grows
 * by `time`. A RangeError if cache.length + time > blockSize: the positions are learned and
 * absolute, so a full cache cannot slide (start again from the cropped window).
 */
export function forwardCached(
  model: ImprovedModel,
  idx: tf.Tensor2D,
  cache: KVCache,
): tf.Tensor3D {
  // TODO: 1. past = cache.length; throw a RangeError if past + time > blockSize;
  // 2. inside tf.tidy, returning { logits, kv }: x = wte[idx] + rows past..past+time−1 of wpe
  //    (tf.slice(params.wpe, [past, 0], [time, -1])); mask = cachedMask(past, time); per block
  //    (index layer): qkv = linear(layerNorm(x, b.ln1), b.attn.wQkv, b.attn.bQkv); tf.split it in
  //    3 on axis 2 and splitHeads each part (q, k, v: [batch, nHead, time, dHead]); keys =
  //    tf.concat([cache.layers[layer].k, k], 2) (just k when the cache is empty), values alike;
  //    push keys and values on kv; y = inferenceAttention(q, keys, values, mask);
  //    x = x + linear(mergeHeads(y), b.attn.wO, b.attn.bO);
  //    x = x + feedForward(layerNorm(x, b.ln2), b.mlp); logits = headLogits(model, x);
  // 3. after the tidy, for each layer: dispose the old k and v, store tf.keep(the new ones) (the
  //    cache must outlive any tf.tidy around this call); cache.length = past + time; return logits.
  return todo(14, "forwardCached");
}

/** Options of {@linkcode generateCached}: kata 13's, and whether to use the cache. */
export interface CachedGenerateOptions extends GenerateOptions {
  /** Use the KV cache (default true); false recomputes the whole window for every token. */
  cache?: boolean;
}

/**
 * Kata 13's `generate` for this model, with a KV cache: the same tokens, faster. Each new token
 * is `sampleFrom(logits of the next token, opts, u)` with one generator u = rng(seed ?? 1337) for
 * the whole call (temperature 0: greedy); `onToken(id, index)` hears of it at once. Returns the
 * prompt followed by `maxNewTokens` new tokens. With the cache, while the text fits in the block
 * the prompt is read in one forwardCached call and then each step feeds only the newest token.
 * Once the text is longer than blockSize, the window of the last blockSize tokens slides at every
 * step and every position changes: nothing cached is valid, so each step reads the window again
 * with forwardImproved, exactly as the uncached loop does. Leaks no tensor.
 */
export function generateCached(
  model: ImprovedModel,
  prompt: ArrayLike<number>,
  opts: CachedGenerateOptions,
): number[] {
  // TODO: throw a RangeError for an empty prompt. u = rng(seed ?? 1337), tokens = a copy of the
  // prompt, cache = createKVCache(model); then maxNewTokens times (in try, with
  // resetKVCache(cache) in finally), inside tf.tidy, the logits of the next token:
  //   - without the cache (useCache false), or once tokens.length > blockSize (the window slides,
  //     every position changes, nothing cached is valid): forwardImproved on the last blockSize
  //     tokens;
  //   - otherwise forwardCached on all the tokens if the cache is empty (the prompt), else on the
  //     last token only;
  //   - the last position's row, as a Float32Array (tf.slice, dataSync).
  // id = sampleFrom(logits, opts, u); push it; onToken?.(id, i). Return tokens.
  return todo(14, "generateCached");
}
