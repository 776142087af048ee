/**
 * Kata 11 · 训练数据准备 · Training data — the reference solution.
 *
 * From raw text to what a language model trains on: a character tokenizer (one token per Unicode
 * code point, vocabulary sorted by code point), next-token windows (inputs ids[i, i+T), targets
 * ids[i+1, i+T+1): one target per position), a train/validation split of the token stream that no
 * window can straddle, and seeded random batches of int32 [batch, time] tensors for the model of
 * kata 10. Katas 12–14 and `deno task train` build on these exports.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { rng } from "../../lib/random.ts";

/** The seed document's training text (its step 11): 45 characters, 19 distinct. */
export const SEED_TEXT = "hello world, this is a simple language model.";

/** Turns text into token ids and back. Ids are the indices of `chars`. */
export interface Tokenizer {
  /** The vocabulary: token id i is `chars[i]`. Save it with the model: ids mean nothing alone. */
  readonly chars: readonly string[];
  /** The number of tokens, `chars.length`: the model's `vocabSize` (kata 10). */
  readonly vocabSize: number;
  /** One id per character (code point) of `text`. Throws a RangeError for an unknown character. */
  encode(text: string): Int32Array;
  /** The text of `ids`; `decode(encode(s)) === s`. Throws a RangeError for an id of no token. */
  decode(ids: ArrayLike<number>): string;
}

/** A token stream as two contiguous parts: `train` first, `val` the rest. */
export interface Split {
  train: Int32Array;
  val: Int32Array;
}

/** One next-token window: `target[t]` is the token that follows `input[t]` in the stream. */
export interface TokenWindow {
  /** ids[start, start + time). */
  input: Int32Array;
  /** ids[start + 1, start + time + 1): the input shifted by one. */
  target: Int32Array;
}

/** Windows stacked as rows: both int32 [batch, time], `targets[b][t]` follows `inputs[b][t]`. */
export interface Batch {
  inputs: tf.Tensor2D;
  targets: tf.Tensor2D;
}

/**
 * What {@linkcode getBatch} draws: `batch` windows of `time` tokens, with a random source that is
 * either a `seed` (the same seed gives the same batch) or a generator `rng` of floats in [0, 1)
 * (e.g. `rng(seed)` from lib/random.ts, created once and drawn from at every step).
 */
export interface BatchOptions {
  /** Windows per batch, B. */
  batch: number;
  /** Tokens per window, T: at most the model's block size. */
  time: number;
  /** Seed of the draw; `{ seed: s }` draws exactly what `{ rng: rng(s) }` does. */
  seed?: number | string;
  /** A generator of floats in [0, 1) to draw from instead of a seed; it advances. */
  rng?: () => number;
}

/** A corpus ready to train on: its tokenizer and its encoded, split token stream. */
export interface Corpus {
  tokenizer: CharTokenizer;
  train: Int32Array;
  val: Int32Array;
}

/**
 * The vocabulary of `text`: every distinct character once, sorted by code point (the order of
 * Python's `sorted(set(text))`). A character is a Unicode code point, so 𠀀 (U+20000) or 😀 is one
 * entry, not two UTF-16 halves.
 */
export function buildVocab(text: string): string[] {
  // A string iterates by code points; Array.prototype.sort would compare UTF-16 units.
  return [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
}

/** The Unicode notation of a character: `U+0041`, `U+20000`. */
function codePoint(ch: string): string {
  return `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A character tokenizer over a fixed vocabulary: token id i is `chars[i]`, one token per code
 * point. Encoding looks each character up in a Map built once, so it takes time linear in the
 * length of the text. `new CharTokenizer(savedChars)` restores a saved tokenizer exactly.
 */
export class CharTokenizer implements Tokenizer {
  readonly chars: readonly string[];
  /** Character → id, the inverse of `chars`. */
  readonly index: ReadonlyMap<string, number>;

  /** Takes a vocabulary (each entry one code point, no repeats); see {@linkcode buildVocab}. */
  constructor(chars: Iterable<string>) {
    const list = [...chars];
    const index = new Map<string, number>();
    list.forEach((ch, i) => {
      if (typeof ch !== "string" || [...ch].length !== 1) {
        throw new RangeError(
          `vocabulary entry ${i} is ${JSON.stringify(ch)}: each entry must be exactly one ` +
            `character (one Unicode code point)`,
        );
      }
      if (index.has(ch)) {
        throw new RangeError(
          `vocabulary entry ${i} "${ch}" (${codePoint(ch)}) repeats entry ${index.get(ch)}: ` +
            `a character must have exactly one id`,
        );
      }
      index.set(ch, i);
    });
    this.chars = Object.freeze(list);
    this.index = index;
  }

  /** A tokenizer whose vocabulary is `buildVocab(text)`. */
  static fromText(text: string): CharTokenizer {
    return new CharTokenizer(buildVocab(text));
  }

  get vocabSize(): number {
    return this.chars.length;
  }

  /**
   * The id of every character (code point) of `text`, in order. An unknown character throws a
   * RangeError whose message names it and its position: `position i` counts characters, the
   * index of its id in the result.
   */
  encode(text: string): Int32Array {
    const ids = new Int32Array(text.length); // a text has at most as many code points as units
    let n = 0, unit = 0;
    for (const ch of text) {
      const id = this.index.get(ch);
      if (id === undefined) {
        const before = [...text.slice(Math.max(0, unit - 24), unit)].slice(-10).join("");
        const rest = text.slice(unit + ch.length, unit + ch.length + 24);
        const after = [...rest].slice(0, 10).join("");
        throw new RangeError(
          `character "${ch}" (${codePoint(ch)}) at position ${n} is not in the vocabulary of ` +
            `${this.chars.length} characters: …${before}[${ch}]${after}… Build the vocabulary ` +
            `from the whole corpus before splitting it, or clean the text (invisible characters ` +
            `such as U+FEFF, U+200B or "\\r" are common culprits).`,
        );
      }
      ids[n++] = id;
      unit += ch.length;
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /** The text of `ids`: `chars[id]` for each, joined. Throws a RangeError for an id of no token. */
  decode(ids: ArrayLike<number>): string {
    const parts = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const ch = Number.isInteger(id) ? this.chars[id] : undefined;
      if (ch === undefined) {
        throw new RangeError(
          `token id ${id} at position ${i} is not in the vocabulary: ids are integers in ` +
            `[0, ${this.chars.length})`,
        );
      }
      parts[i] = ch;
    }
    return parts.join("");
  }
}

/** Throws a RangeError unless `time` is a whole number of tokens, at least 1. */
function checkTime(time: number): void {
  if (!(Number.isInteger(time) && time >= 1)) {
    throw new RangeError(`time must be a whole number of tokens, at least 1; got ${time}`);
  }
}

/**
 * The window that starts at `start`: input ids[start, start + time), target
 * ids[start + 1, start + time + 1). Valid starts are 0 .. ids.length − time − 1 (the target needs
 * one token more than the input); any other start throws a RangeError. The two arrays are views
 * into `ids`, not copies.
 */
export function windowAt(ids: Int32Array, start: number, time: number): TokenWindow {
  checkTime(time);
  if (!(Number.isInteger(start) && start >= 0 && start + time + 1 <= ids.length)) {
    throw new RangeError(
      `no window of ${time} tokens starts at ${start} in a stream of ${ids.length}: its target ` +
        `would need tokens ${start}..${start + time}; valid starts are ` +
        (ids.length >= time + 1 ? `0..${ids.length - time - 1}` : "none (the stream is too short)"),
    );
  }
  return {
    input: ids.subarray(start, start + time),
    target: ids.subarray(start + 1, start + time + 1),
  };
}

/**
 * The windows of `time` tokens starting at 0, stride, 2·stride, ... (every valid start), stacked
 * into int32 tensors [windows, time]. With the default stride 1 these are all ids.length − time
 * windows (the seed's step 11, with one target per position); with stride = time they do not
 * overlap and predict every token after the first exactly once (an evaluation pass). Throws a
 * RangeError if the stream is shorter than time + 1 tokens.
 */
export function makeWindows(ids: Int32Array, time: number, stride = 1): Batch {
  checkTime(time);
  if (!(Number.isInteger(stride) && stride >= 1)) {
    throw new RangeError(`stride must be a whole number, at least 1; got ${stride}`);
  }
  if (ids.length < time + 1) {
    throw new RangeError(
      `a stream of ${ids.length} tokens has no window of ${time}: inputs and targets together ` +
        `need ${time + 1} tokens`,
    );
  }
  const count = Math.floor((ids.length - time - 1) / stride) + 1;
  const inputs = new Int32Array(count * time), targets = new Int32Array(count * time);
  for (let k = 0; k < count; k++) {
    const { input, target } = windowAt(ids, k * stride, time);
    inputs.set(input, k * time);
    targets.set(target, k * time);
  }
  return {
    inputs: tf.tensor2d(inputs, [count, time], "int32"),
    targets: tf.tensor2d(targets, [count, time], "int32"),
  };
}

/**
 * Splits a token stream into two contiguous parts, BEFORE any window is made: `val` is the last
 * round(ids.length · valFraction) tokens, `train` everything before them. Windows made from one
 * part never contain a token of the other. Both parts are views into `ids`. Throws a RangeError
 * unless 0 < valFraction < 1 and both parts get at least one token.
 */
export function splitTrainVal(ids: Int32Array, valFraction: number): Split {
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new RangeError(`valFraction must lie strictly between 0 and 1; got ${valFraction}`);
  }
  const nVal = Math.round(ids.length * valFraction);
  if (nVal < 1 || nVal >= ids.length) {
    throw new RangeError(
      `valFraction ${valFraction} of ${ids.length} tokens gives ${nVal} validation tokens: both ` +
        `parts need at least one`,
    );
  }
  const cut = ids.length - nVal;
  return { train: ids.subarray(0, cut), val: ids.subarray(cut) };
}

/** The generator of a batch: `opts.rng` if given, else a fresh `rng(opts.seed)`. */
function randomOf(opts: BatchOptions): () => number {
  if (opts.rng) return opts.rng;
  if (opts.seed === undefined) {
    throw new TypeError("getBatch needs a seed or an rng: batches must be reproducible");
  }
  return rng(opts.seed);
}

/**
 * `batch` windows of `time` tokens drawn uniformly at random, with replacement, from the
 * ids.length − time valid starts of `ids`, stacked as int32 tensors inputs and targets
 * [batch, time]. Returns exactly these two new tensors. The same seed gives the same batch; in a
 * training loop pass `seed: \`${seed}:${step}\`` (resumable: a step's batch depends only on the
 * seed and the step) or one `rng` drawn from at every step. Throws a RangeError if `ids` has fewer
 * than time + 1 tokens.
 */
export function getBatch(ids: Int32Array, opts: BatchOptions): Batch {
  const { batch, time } = opts;
  checkTime(time);
  if (!(Number.isInteger(batch) && batch >= 1)) {
    throw new RangeError(`batch must be a whole number of windows, at least 1; got ${batch}`);
  }
  const u = randomOf(opts);
  const starts = ids.length - time; // valid starts: 0 .. ids.length - time - 1
  if (starts < 1) {
    throw new RangeError(
      `a stream of ${ids.length} tokens has no window of ${time}: inputs and targets together ` +
        `need ${time + 1} tokens (a validation part too small for the block size?)`,
    );
  }
  const inputs = new Int32Array(batch * time), targets = new Int32Array(batch * time);
  for (let b = 0; b < batch; b++) {
    const start = Math.floor(u() * starts);
    inputs.set(ids.subarray(start, start + time), b * time);
    targets.set(ids.subarray(start + 1, start + time + 1), b * time);
  }
  return {
    inputs: tf.tensor2d(inputs, [batch, time], "int32"),
    targets: tf.tensor2d(targets, [batch, time], "int32"),
  };
}

/**
 * Given: the whole recipe. The vocabulary comes from the WHOLE text (a character seen only in the
 * validation part still gets an id), then the text is encoded and the token stream split.
 */
export function prepareCorpus(text: string, { valFraction = 0.1 } = {}): Corpus {
  const tokenizer = CharTokenizer.fromText(text);
  const { train, val } = splitTrainVal(tokenizer.encode(text), valFraction);
  return { tokenizer, train, val };
}

/**
 * Given: the seed's step 11 as written, for comparison. Every window of `sequenceLength` tokens
 * as inputs [windows, sequenceLength], and ONE target per window, the token after it: targets
 * [windows]. Its step 12 flattens the model's output to [windows · sequenceLength, vocab]: the
 * two do not match (see README).
 */
export function seedExamples(
  ids: Int32Array,
  sequenceLength: number,
): { inputs: tf.Tensor2D; targets: tf.Tensor1D } {
  const windows = Math.max(0, ids.length - sequenceLength); // range(len(text) - sequence_length)
  const inputs: number[][] = [], targets: number[] = [];
  for (let i = 0; i < windows; i++) {
    inputs.push(Array.from(ids.subarray(i, i + sequenceLength)));
    targets.push(ids[i + sequenceLength]);
  }
  return {
    inputs: tf.tensor2d(inputs.flat(), [windows, sequenceLength], "int32"),
    targets: tf.tensor1d(targets, "int32"),
  };
}
