/**
 * Kata 13 · 文本生成 · Text generation — the reference solution.
 *
 * The model of kata 10 gives the logits of the next token; this kata turns them into text, one
 * token at a time: the context cropped to the model's block size, then greedy decoding
 * (temperature 0) or sampling with temperature, top-k and top-p (nucleus), in float64 with a seeded
 * generator from lib/random.ts, by inverse CDF. `deno task generate` streams what `generate`
 * writes through its `onToken` callback.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { rng } from "../../lib/random.ts";
import { forward, type MiniLLM } from "../10_mini_llm/mod.ts";

// The building blocks of katas 10-12, from their reference solutions (the tests train a model).
export { forward, initMiniLLM, parameters } from "../10_mini_llm/mod.ts";
export type { MiniLLM, MiniLLMConfig } from "../10_mini_llm/mod.ts";
export { CharTokenizer, SEED_TEXT } from "../11_training_data/mod.ts";
export { trainModel } from "../12_training_loop/mod.ts";

/** The knobs of sampling. Applied in this order: temperature, then top-k, then top-p. */
export interface SampleOptions {
  /**
   * T ≥ 0: the logits are divided by T before the softmax. 1 (the default) samples the model's own
   * distribution, below 1 sharpens it, above 1 flattens it; 0 is greedy (always the argmax).
   */
  temperature?: number;
  /** Keep only the k most probable tokens (a whole number ≥ 1); default: every token. */
  topK?: number;
  /**
   * Keep the smallest set of most probable tokens whose probabilities sum to at least p
   * (0 < p ≤ 1); default 1: every token.
   */
  topP?: number;
}

/** {@linkcode SampleOptions} with the defaults filled in: `topK` is `Infinity` when not given. */
export interface ResolvedSampleOptions {
  temperature: number;
  topK: number;
  topP: number;
}

/** What {@linkcode generate} does. */
export interface GenerateOptions extends SampleOptions {
  /** How many tokens to add after the prompt. */
  maxNewTokens: number;
  /**
   * Seed of the one generator `rng(seed)` that every draw comes from (default 1337, as nanoGPT's
   * sample.py): the same seed, model, prompt and options give the same text. Greedy draws nothing.
   */
  seed?: number | string;
  /**
   * Called with each new token as soon as it is chosen, before the next one is computed: `id` is
   * the token, `index` counts the new tokens from 0. A command line decodes and prints it at once.
   */
  onToken?: (id: number, index: number) => void;
}

/** Given: the options with their defaults; a RangeError for a value that makes no sense. */
export function resolveSampleOptions(opts: SampleOptions = {}): ResolvedSampleOptions {
  const { temperature = 1, topK = Infinity, topP = 1 } = opts;
  if (!(temperature >= 0 && Number.isFinite(temperature))) {
    throw new RangeError(
      `temperature must be a finite number ≥ 0 (0 means greedy); got ${temperature}`,
    );
  }
  if (!(topK === Infinity || (Number.isInteger(topK) && topK >= 1))) {
    throw new RangeError(`topK must be a whole number ≥ 1 (the tokens kept); got ${topK}`);
  }
  if (!(topP > 0 && topP <= 1)) {
    throw new RangeError(`topP must lie in (0, 1] (1 keeps every token); got ${topP}`);
  }
  return { temperature, topK, topP };
}

/** Given: the index of the largest value; a tie goes to the smallest index (as tf.argMax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The ids 0..n−1 from the most to the least probable; a tie keeps the smaller id first. */
function byProbability(probs: ArrayLike<number>): number[] {
  return Array.from({ length: probs.length }, (_, i) => i)
    .sort((a, b) => probs[b] - probs[a] || a - b);
}

/** `probs` with only the ids in `kept` left, renormalised to sum to 1 (float64). */
function renormalise(probs: ArrayLike<number>, kept: readonly number[]): Float64Array {
  const out = new Float64Array(probs.length);
  let total = 0;
  for (const i of kept) total += probs[i];
  for (const i of kept) out[i] = probs[i] / total;
  return out;
}

/**
 * The logits of the token after `context`, from the model: at most the LAST `blockSize` tokens
 * of the context are read (the model has `blockSize` positions). A new Float32Array [vocab]; no
 * tensor is left behind. Throws a RangeError for an empty context.
 */
export function nextTokenLogits(model: MiniLLM, context: ArrayLike<number>): Float32Array {
  if (context.length === 0) {
    throw new RangeError(
      "nextTokenLogits: the context is empty; a prompt needs at least one token",
    );
  }
  const { blockSize } = model.config;
  const start = Math.max(0, context.length - blockSize);
  const window = Array.from({ length: context.length - start }, (_, i) => context[start + i]);
  const last = tf.tidy(() => {
    const idx = tf.tensor2d(window, [1, window.length], "int32");
    const logits = forward(model, idx); // [1, time, vocab]
    return tf.reshape(tf.slice(logits, [0, window.length - 1, 0], [1, 1, -1]), [-1]);
  });
  const values = last.dataSync() as Float32Array;
  last.dispose();
  return values;
}

/**
 * softmax(z / T) in float64, with the maximum subtracted first so that no exp overflows:
 * p_i = exp((z_i − max z) / T) / Σ_j exp((z_j − max z) / T). T must be > 0.
 */
export function softmaxWithTemperature(
  logits: ArrayLike<number>,
  temperature: number,
): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const out = new Float64Array(logits.length);
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] - max) / temperature);
    total += out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/**
 * Top-k: the k most probable tokens keep their probability, every other token gets 0, and the
 * kept ones are renormalised to sum to 1. A tie at the k-th place keeps the smaller id. k at least
 * the vocabulary keeps every token.
 */
export function keepTopK(probs: ArrayLike<number>, k: number): Float64Array {
  return renormalise(probs, byProbability(probs).slice(0, k));
}

/**
 * Top-p (nucleus): the smallest set of most probable tokens whose probabilities sum to at least
 * p (taken in order of probability, so it always holds the most probable token), renormalised to
 * sum to 1; every other token gets 0. p = 1 keeps every token.
 */
export function keepTopP(probs: ArrayLike<number>, p: number): Float64Array {
  const order = byProbability(probs);
  let total = 0;
  for (let i = 0; i < probs.length; i++) total += probs[i];
  let n = 0, cumulative = 0;
  while (n < order.length && cumulative < p * total) cumulative += probs[order[n++]];
  return renormalise(probs, order.slice(0, n));
}

/**
 * The distribution {@linkcode sampleFrom} draws from (float64, sums to 1): temperature 0 puts
 * all of it on the argmax; otherwise softmax(logits / T), then top-k, then top-p.
 */
export function probabilities(logits: ArrayLike<number>, opts: SampleOptions = {}): Float64Array {
  const { temperature, topK, topP } = resolveSampleOptions(opts);
  if (temperature === 0) {
    const out = new Float64Array(logits.length);
    out[argmax(logits)] = 1;
    return out;
  }
  let probs = softmaxWithTemperature(logits, temperature);
  if (topK < probs.length) probs = keepTopK(probs, topK);
  if (topP < 1) probs = keepTopP(probs, topP);
  return probs;
}

/**
 * One token id drawn from `probabilities(logits, opts)` by inverse CDF: one number u = rng() in
 * [0, 1), and the first id i (in id order 0, 1, ...) whose cumulative probability
 * p_0 + ... + p_i exceeds u. Temperature 0 returns the argmax and draws nothing.
 */
export function sampleFrom(
  logits: ArrayLike<number>,
  opts: SampleOptions,
  rng: () => number,
): number {
  const probs = probabilities(logits, opts);
  if (resolveSampleOptions(opts).temperature === 0) return argmax(probs);
  const u = rng();
  let cumulative = 0, last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    cumulative += probs[i];
    last = i;
    if (u < cumulative) return i;
  }
  return last; // the sum may end a rounding error below 1, and u just above it
}

/**
 * The prompt followed by `maxNewTokens` new tokens, as a new array. Each new token is
 * `sampleFrom(nextTokenLogits(model, tokens so far), opts, u)` with one generator
 * u = rng(seed ?? 1337) for the whole call; `onToken(id, index)` hears of it at once. A prompt
 * longer than the block size is fine: only its last blockSize tokens are read. Leaks no tensor.
 */
export function generate(
  model: MiniLLM,
  prompt: ArrayLike<number>,
  opts: GenerateOptions,
): number[] {
  const { maxNewTokens, seed = 1337, onToken } = opts;
  resolveSampleOptions(opts); // refuse bad options before the first token, not at it
  const u = rng(seed);
  const tokens = Array.from(prompt);
  for (let i = 0; i < maxNewTokens; i++) {
    const id = sampleFrom(nextTokenLogits(model, tokens), opts, u);
    tokens.push(id);
    onToken?.(id, i);
  }
  return tokens;
}
