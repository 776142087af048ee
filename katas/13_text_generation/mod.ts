// deno-lint-ignore-file no-unused-vars
/**
 * Kata 13 · 文本生成 · Text generation.
 *
 * Fill in every `// TODO:` (each is followed by `return todo(13, ...)`), then run
 * `deno test katas/13`. Read README.md or README.zh.md first; hints.md helps when you are stuck.
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
import { todo } from "../../lib/todo.ts";
import { forward, type MiniLLM } from "../../solutions/10_mini_llm/mod.ts";

// The building blocks of katas 10-12, from their reference solutions, so that this kata works even
// if yours are unfinished (the tests build and train models with them).
export { forward, initMiniLLM, parameters } from "../../solutions/10_mini_llm/mod.ts";
export type { MiniLLM, MiniLLMConfig } from "../../solutions/10_mini_llm/mod.ts";
export { CharTokenizer, SEED_TEXT } from "../../solutions/11_training_data/mod.ts";
export { trainModel } from "../../solutions/12_training_loop/mod.ts";

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

/**
 * The logits of the token after `context`, from the model: at most the LAST `blockSize` tokens
 * of the context are read (the model has `blockSize` positions). A new Float32Array [vocab]; no
 * tensor is left behind. Throws a RangeError for an empty context.
 */
export function nextTokenLogits(model: MiniLLM, context: ArrayLike<number>): Float32Array {
  // TODO: the logits after the last blockSize tokens of `context`.
  // 1. An empty context: throw a RangeError whose message says a prompt needs "at least one
  //    token".
  // 2. Crop: keep the LAST model.config.blockSize tokens (the model has that many positions, and
  //    the next token follows the end of the text). A shorter context is used whole.
  // 3. In tf.tidy: an int32 tensor [1, time] of those ids, forward(model, idx) → [1, time, vocab],
  //    and the last position's row, [vocab] (tf.slice, then tf.reshape).
  // 4. Read it with dataSync() (a Float32Array), dispose the tensor, return the values.
  return todo(13, "nextTokenLogits");
}

/**
 * softmax(z / T) in float64, with the maximum subtracted first so that no exp overflows:
 * p_i = exp((z_i − max z) / T) / Σ_j exp((z_j − max z) / T). T must be > 0.
 */
export function softmaxWithTemperature(
  logits: ArrayLike<number>,
  temperature: number,
): Float64Array {
  // TODO: p_i = exp((z_i − max z) / T) / Σ_j exp((z_j − max z) / T), in a new Float64Array.
  // Subtract the largest logit first (exp(1000) is Infinity), divide by T, exp, then divide every
  // term by their sum. Plain JavaScript numbers are float64: no tensors here.
  return todo(13, "softmaxWithTemperature");
}

/**
 * Top-k: the k most probable tokens keep their probability, every other token gets 0, and the
 * kept ones are renormalised to sum to 1. A tie at the k-th place keeps the smaller id. k at least
 * the vocabulary keeps every token.
 */
export function keepTopK(probs: ArrayLike<number>, k: number): Float64Array {
  // TODO: a new Float64Array where only the k most probable tokens keep their probability.
  // 1. The ids sorted from the most to the least probable (ties: the smaller id first).
  // 2. The first k of them are kept (k ≥ probs.length keeps all); every other id gets 0.
  // 3. Renormalise: divide the kept probabilities by their sum, so that they sum to 1.
  return todo(13, "keepTopK");
}

/**
 * Top-p (nucleus): the smallest set of most probable tokens whose probabilities sum to at least
 * p (taken in order of probability, so it always holds the most probable token), renormalised to
 * sum to 1; every other token gets 0. p = 1 keeps every token.
 */
export function keepTopP(probs: ArrayLike<number>, p: number): Float64Array {
  // TODO: a new Float64Array where only the nucleus keeps its probability.
  // 1. The ids sorted from the most to the least probable (ties: the smaller id first).
  // 2. Walk them adding up their probabilities; stop right after the running sum reaches p (≥ p):
  //    the token that crosses p is in. A tiny p keeps the most probable token alone; p = 1 keeps
  //    every token (stop at the end even if rounding leaves the sum a hair below 1).
  // 3. Every other id gets 0; renormalise the kept ones to sum to 1.
  return todo(13, "keepTopP");
}

/**
 * The distribution {@linkcode sampleFrom} draws from (float64, sums to 1): temperature 0 puts
 * all of it on the argmax; otherwise softmax(logits / T), then top-k, then top-p.
 */
export function probabilities(logits: ArrayLike<number>, opts: SampleOptions = {}): Float64Array {
  // TODO: the distribution to draw from.
  // 1. const { temperature, topK, topP } = resolveSampleOptions(opts) (given: defaults 1,
  //    Infinity, 1, and a RangeError for nonsense).
  // 2. temperature 0 is greedy: a Float64Array of zeros with a 1 at argmax(logits) (given). Do
  //    not divide by 0.
  // 3. Otherwise softmaxWithTemperature(logits, temperature), then keepTopK if topK is less than
  //    the vocabulary, then keepTopP if topP < 1, in that order: top-p measures the nucleus on the
  //    distribution top-k left.
  return todo(13, "probabilities");
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
  // TODO: one id by inverse CDF.
  // 1. probs = probabilities(logits, opts) (it also checks the options).
  // 2. Temperature 0 (resolveSampleOptions(opts).temperature): return the argmax without calling
  //    rng: nothing is random.
  // 3. u = rng(), once. Walk the ids 0, 1, 2, ... adding probs[i] to a running sum; return the
  //    first i whose sum exceeds u. If rounding leaves the total a hair below u, return the last
  //    id of non-zero probability.
  return todo(13, "sampleFrom");
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
  // TODO: the generation loop.
  // 1. const { maxNewTokens, seed = 1337, onToken } = opts; resolveSampleOptions(opts), so that
  //    bad options fail before the first token.
  // 2. ONE generator for the whole call: const u = rng(seed) (lib/random.ts).
  // 3. tokens = a copy of the prompt as a plain array. maxNewTokens times:
  //    id = sampleFrom(nextTokenLogits(model, tokens), opts, u); push it; onToken?.(id, i).
  //    (nextTokenLogits crops to the block size and throws on an empty prompt.)
  // 4. Return tokens: the prompt followed by the new ones.
  return todo(13, "generate");
}
