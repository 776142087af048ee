/**
 * Kata 13 · 文本生成 · Text generation — the tests.
 *
 * Run: deno test katas/13
 *
 * The logits are checked against kata 10's reference `forward`, the distributions against
 * plain-JavaScript oracles in float64 (written with sorted copies and thresholds, not with the
 * solution's ranking), the sampler by its inverse CDF, by where it may never land (outside the top
 * k, outside the nucleus) and by a chi-square goodness-of-fit test against the model's
 * probabilities, and generation end to end: greedy, temperature → 0, seeds, streaming, memory, a
 * prompt longer than the block size, and a model trained here on the seed's sentence.
 * @module
 */
import { AssertionError } from "node:assert";
import { assertAllClose, normalRng, rng, tf, TodoError } from "../../lib/mod.ts";
import {
  argmax,
  CharTokenizer,
  forward,
  generate,
  initMiniLLM,
  keepTopK,
  keepTopP,
  type MiniLLM,
  type MiniLLMConfig,
  nextTokenLogits,
  parameters,
  probabilities,
  sampleFrom,
  type SampleOptions,
  SEED_TEXT,
  softmaxWithTemperature,
  trainModel,
} from "./mod.ts";

/** Throws an AssertionError with `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new AssertionError({ message });
}

const show = (a: ArrayLike<number>, digits = 4) =>
  `[${Array.from(a, (v) => Number.isInteger(v) ? v : v.toFixed(digits)).join(", ")}]`;

/** The seed's sentence and its 19-character vocabulary. */
const tokenizer = CharTokenizer.fromText(SEED_TEXT);

/**
 * The model most tests read: vocabulary 19, block size 8, width 16, 2 heads, 1 layer. Its weights
 * have std 0.3 instead of GPT-2's 0.02, so that its next-token distribution is far from uniform
 * (after "hello": the largest probability 0.24, the smallest 0.001).
 */
const tinyConfig: MiniLLMConfig = {
  vocabSize: tokenizer.vocabSize,
  blockSize: 8,
  nEmbd: 16,
  nHead: 2,
  nLayer: 1,
};
let tinyModel: MiniLLM | undefined;
function tiny(): MiniLLM {
  return tinyModel ??= initMiniLLM(tinyConfig, { seed: 13, std: 0.3 });
}

/** The reference: the logits of the next token after `context` (at most blockSize tokens). */
function lastLogits(model: MiniLLM, context: ArrayLike<number>): Float32Array {
  const out = tf.tidy(() => {
    const idx = tf.tensor2d(Array.from(context), [1, context.length], "int32");
    const logits = forward(model, idx);
    return tf.slice(logits, [0, context.length - 1, 0], [1, 1, -1]);
  });
  const values = Float32Array.from(out.dataSync());
  out.dispose();
  return values;
}

/** `n` seeded random token ids of the tiny model's vocabulary. */
function randomIds(n: number, seed: number | string): number[] {
  const u = rng(`kata13-ids:${seed}`);
  return Array.from({ length: n }, () => Math.floor(u() * tinyConfig.vocabSize));
}

/** `n` seeded logits, normal with std `scale`. */
function randomLogits(n: number, seed: number | string, scale = 2): Float32Array {
  const z = normalRng(`kata13-logits:${seed}`);
  return Float32Array.from({ length: n }, () => scale * z());
}

/** Calls `fn`, which must throw a `kind` whose message contains `part`. */
function expectThrows(
  fn: () => unknown,
  kind: RangeErrorConstructor | TypeErrorConstructor,
  part: string,
  what: string,
  hint = "",
): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  if (error instanceof TodoError) throw error;
  const wanted = `a ${kind.name} whose message contains ${JSON.stringify(part)}`;
  check(error !== undefined, `${what} returned normally; expected ${wanted}.${hint}`);
  const e = error as Error;
  check(
    e instanceof kind && e.message.includes(part),
    `${what} threw ${e.name}: "${e.message}"; expected ${wanted}.${hint}`,
  );
}

// ---------- float64 oracles, written apart from the solution ----------

/** softmax(z / T) in float64: each term relative to the largest, as exp(z − max) / Σ. */
function softmax64(logits: ArrayLike<number>, temperature = 1): number[] {
  const z = Array.from(logits, (v) => v / temperature);
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/** Top-k by threshold: every probability ≥ the k-th largest (the tests' logits have no ties). */
function topK64(probs: number[], k: number): number[] {
  const threshold = probs.slice().sort((a, b) => b - a)[Math.min(k, probs.length) - 1];
  const kept = probs.map((p) => (p >= threshold ? p : 0));
  const sum = kept.reduce((s, v) => s + v, 0);
  return kept.map((v) => v / sum);
}

/**
 * The nucleus by threshold: walk the probabilities from the largest down, and stop at the first
 * value whose running sum reaches p; keep every probability ≥ it.
 */
function topP64(probs: number[], p: number): number[] {
  const sorted = probs.slice().sort((a, b) => b - a);
  let sum = 0, threshold = sorted[sorted.length - 1];
  for (const v of sorted) {
    sum += v;
    if (sum >= p) {
      threshold = v;
      break;
    }
  }
  const kept = probs.map((v) => (v >= threshold ? v : 0));
  const total = kept.reduce((s, v) => s + v, 0);
  return kept.map((v) => v / total);
}

/** The oracle of `probabilities`: temperature, then top-k, then top-p. */
function distribution64(logits: ArrayLike<number>, opts: SampleOptions): number[] {
  let p = softmax64(logits, opts.temperature ?? 1);
  if (opts.topK !== undefined) p = topK64(p, opts.topK);
  if (opts.topP !== undefined) p = topP64(p, opts.topP);
  return p;
}

const support = (p: ArrayLike<number>) => Array.from(p).flatMap((v, i) => (v > 0 ? [i] : []));

// ---------- the chi-square goodness-of-fit test ----------

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * The regularised lower incomplete gamma function P(s, x): its series for x < s + 1, else 1 minus
 * the continued fraction of Q(s, x) (Numerical Recipes, gser and gcf).
 */
function gammaP(s: number, x: number): number {
  if (x <= 0) return 0;
  const front = Math.exp(-x + s * Math.log(x) - logGamma(s));
  if (x < s + 1) {
    let term = 1 / s, sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (s + n);
      sum += term;
    }
    return sum * front;
  }
  const tiny = 1e-300;
  let b = x + 1 - s, c = 1 / tiny, d = 1 / b, h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 - front * h;
}

/** The critical value of the chi-square distribution: P(X ≤ x) = 1 − alpha, by bisection. */
function chiSquareCritical(df: number, alpha: number): number {
  let lo = 0, hi = df + 100 * Math.sqrt(2 * df) + 100;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (gammaP(df / 2, mid / 2) < 1 - alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The significance level of every goodness-of-fit test below. */
const ALPHA = 0.001;
/** Draws per goodness-of-fit test. */
const DRAWS = 20000;

interface FitReport {
  statistic: number;
  df: number;
  critical: number;
  /** Draws of tokens the distribution gives probability 0. */
  impossible: number;
  table: string;
}

/**
 * Pearson's chi-square statistic of `counts` against `probs`: X² = Σ (O − E)² / E over the tokens
 * of non-zero probability (E = draws · p). Tokens with E < 5 are pooled into one bin, as the
 * chi-square approximation needs; df = bins − 1.
 */
function chiSquare(counts: number[], probs: number[]): FitReport {
  const draws = counts.reduce((s, v) => s + v, 0);
  const bins: { o: number; e: number }[] = [];
  const pooled = { o: 0, e: 0 };
  let impossible = 0;
  probs.forEach((p, i) => {
    if (p === 0) impossible += counts[i];
    else if (draws * p < 5) [pooled.o, pooled.e] = [pooled.o + counts[i], pooled.e + draws * p];
    else bins.push({ o: counts[i], e: draws * p });
  });
  if (pooled.e >= 5 || (pooled.e > 0 && bins.length === 0)) bins.push(pooled);
  else if (pooled.e > 0) {
    const smallest = bins.reduce((a, b) => (b.e < a.e ? b : a));
    smallest.o += pooled.o;
    smallest.e += pooled.e;
  }
  const statistic = bins.reduce((s, { o, e }) => s + (o - e) ** 2 / e, 0);
  const df = bins.length - 1;
  const table = probs.map((p, i) => `${i}: ${counts[i]} drawn, ${(draws * p).toFixed(1)} expected`)
    .join("; ");
  return { statistic, df, critical: chiSquareCritical(df, ALPHA), impossible, table };
}

/** How often each token comes out of `draw` in `DRAWS` calls. */
function countDraws(vocab: number, draw: () => number): number[] {
  const counts = new Array<number>(vocab).fill(0);
  for (let i = 0; i < DRAWS; i++) {
    const id = draw();
    check(
      Number.isInteger(id) && id >= 0 && id < vocab,
      `sampleFrom returned ${id}, which is no token id: ids are whole numbers in [0, ${vocab})`,
    );
    counts[id]++;
  }
  return counts;
}

/**
 * The cases of the goodness-of-fit tests: the tiny model's logits after a context, and options.
 * Measured on the reference solution (20,000 draws from rng("kata13-chi2:<case>")):
 * - temperature 1, after "hello": 19 tokens, probabilities 0.0014..0.237; X² = 15.6, df 18,
 *   critical value 42.31 (p-value 0.62);
 * - temperature 0.7, top-k 8, after "this is": X² = 8.2, df 7, critical 24.32 (p-value 0.32);
 * - temperature 1.5, top-p 0.8, after "model.": 11 tokens in the nucleus; X² = 9.4, df 10,
 *   critical 29.59 (p-value 0.49).
 */
const FIT_CASES: { name: string; context: string; opts: SampleOptions }[] = [
  { name: "temperature 1", context: "hello", opts: { temperature: 1 } },
  { name: "temperature 0.7, top-k 8", context: "this is", opts: { temperature: 0.7, topK: 8 } },
  { name: "temperature 1.5, top-p 0.8", context: "model.", opts: { temperature: 1.5, topP: 0.8 } },
];

// ---------- the next-token logits ----------

Deno.test("nextTokenLogits: the last row of forward's logits, as a Float32Array, no tensor left", () => {
  const model = tiny();
  for (let n = 1; n <= tinyConfig.blockSize; n++) {
    const context = randomIds(n, `logits:${n}`);
    const before = tf.memory().numTensors;
    const got = nextTokenLogits(model, context);
    const after = tf.memory().numTensors;
    check(
      after === before,
      `nextTokenLogits left ${after - before} tensor(s) alive for a context of ${n}. Do the ` +
        "tensor work in tf.tidy(() => ...), read the result with dataSync() and dispose it: a " +
        "generator calls this once per token, and a leak per token adds up fast.",
    );
    check(
      got instanceof Float32Array && got.length === tinyConfig.vocabSize,
      `nextTokenLogits should return a Float32Array of vocabSize = ${tinyConfig.vocabSize} ` +
        `logits; got ${got?.constructor?.name} of length ${got?.length}`,
    );
    assertAllClose(got, lastLogits(model, context), {
      rtol: 1e-6,
      atol: 1e-6,
      what: `the logits after a context of ${n} tokens (forward(model, idx)[0, ${n - 1}, :])`,
    });
  }
  expectThrows(
    () => nextTokenLogits(model, []),
    RangeError,
    "at least one token",
    "nextTokenLogits(model, [])",
    " A model predicts the token after a context; with no context there is no position to " +
      "read. Say so with a RangeError.",
  );
});

Deno.test("a context longer than the block size is cropped to its LAST blockSize tokens, no RangeError", () => {
  const model = tiny();
  const T = tinyConfig.blockSize;
  for (const n of [T + 1, 2 * T + 3, 50]) {
    const context = randomIds(n, `long:${n}`);
    let got: Float32Array;
    try {
      got = nextTokenLogits(model, context);
    } catch (e) {
      if (e instanceof RangeError) {
        throw new AssertionError({
          message: `nextTokenLogits with a context of ${n} tokens threw "${e.message}". The ` +
            `model has ${T} positions (model.config.blockSize): feed it only the last ${T} ` +
            "tokens of the context.",
        });
      }
      throw e;
    }
    const last = lastLogits(model, context.slice(-T));
    const first = lastLogits(model, context.slice(0, T));
    const distance = (a: ArrayLike<number>, b: ArrayLike<number>) =>
      Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    check(
      distance(got, last) <= 1e-5,
      `the logits after ${n} tokens should be the model's logits after the LAST ${T} of them ` +
        `(largest difference ${distance(got, last).toExponential(2)})` +
        (distance(got, first) <= 1e-5
          ? `: these are the logits after the FIRST ${T}. The next token follows the end of ` +
            `the text: keep context.slice(-${T}).`
          : "."),
    );
  }
  // And through generate: a long prompt, then new tokens.
  const prompt = randomIds(3 * T, "long-prompt");
  const out = generate(model, prompt, { maxNewTokens: 5, temperature: 0 });
  check(
    out.length === prompt.length + 5 && prompt.every((v, i) => out[i] === v),
    `generate should return the prompt (${prompt.length} tokens) followed by the 5 new ones; ` +
      `got ${out.length} tokens starting ${show(out.slice(0, 6))}`,
  );
});

// ---------- the knobs ----------

Deno.test("softmaxWithTemperature: softmax(z / T) in float64, no overflow", () => {
  for (let seed = 1; seed <= 6; seed++) {
    const logits = randomLogits(12, `softmax:${seed}`, 3);
    for (const T of [1, 0.5, 2, 0.1]) {
      const got = softmaxWithTemperature(logits, T);
      check(
        got instanceof Float64Array,
        `softmaxWithTemperature should return a Float64Array (got ` +
          `${got?.constructor?.name}): the sampler sums these probabilities, and float32 has ` +
          "only 7 digits.",
      );
      // rtol 1e-12: float64 arithmetic agrees to about 1e-15; tf.softmax (float32) misses by 1e-7.
      assertAllClose(got, softmax64(logits, T), {
        rtol: 1e-12,
        atol: 1e-300,
        what: `softmax(z / ${T}) of seed ${seed}'s logits${
          T === 1 ? "" : " (divide the logits by T before the exp)"
        }`,
      });
    }
  }
  // exp(1000) is Infinity: subtract the largest logit first, as softmax64 does.
  const big = softmaxWithTemperature([1000, 1001, 999], 1);
  assertAllClose(big, softmax64([1000, 1001, 999]), {
    rtol: 1e-12,
    what: "softmax of [1000, 1001, 999] (NaN? exp(1000) overflows: subtract the largest logit)",
  });
  // The two ends: a high temperature flattens, a low one sharpens.
  const z = [2, 1, 0, -1];
  const hot = softmaxWithTemperature(z, 1000), cold = softmaxWithTemperature(z, 0.01);
  check(
    Math.max(...hot) - Math.min(...hot) < 0.01 && cold[0] > 1 - 1e-12,
    `T = 1000 should be nearly uniform (got ${show(hot)}) and T = 0.01 nearly one-hot on the ` +
      `largest logit (got ${show(cold, 12)})`,
  );
});

Deno.test("keepTopK: the k most probable tokens keep their share, renormalised; the rest get 0", () => {
  for (let seed = 1; seed <= 8; seed++) {
    const probs = softmax64(randomLogits(15, `topk:${seed}`));
    for (const k of [1, 2, 5, 14, 15, 40]) {
      const got = keepTopK(probs, k);
      const want = topK64(probs, k);
      check(
        support(got).join() === support(want).join(),
        `keepTopK(probs, ${k}) kept the tokens ${show(support(got))}; the ${Math.min(k, 15)} ` +
          `most probable are ${show(support(want))} (probs ${show(probs, 3)})` +
          (support(got).length === 0 ? ". Nothing kept: the result is all zeros (or NaN)." : ""),
      );
      assertAllClose(got, want, {
        rtol: 1e-12,
        atol: 1e-15,
        what: `keepTopK(probs, ${k}) of seed ${seed} (did you renormalise the kept ones to sum ` +
          `to 1?)`,
      });
    }
  }
});

Deno.test("keepTopP keeps exactly the smallest nucleus: p = 1 keeps all, a tiny p the argmax", () => {
  // Probabilities 0.5, 0.2, 0.15, 0.1, 0.05, shuffled over the ids: running sums 0.5, 0.7, 0.85,
  // 0.95, 1 from the largest down.
  const probs = [0.1, 0.5, 0.05, 0.2, 0.15];
  const cases: [number, number[]][] = [
    [1e-9, [1]], // the most probable token alone always reaches a tiny p
    [0.4, [1]],
    [0.6, [1, 3]],
    [0.8, [1, 3, 4]],
    [0.9, [0, 1, 3, 4]],
    [0.97, [0, 1, 2, 3, 4]],
    [1, [0, 1, 2, 3, 4]],
  ];
  for (const [p, kept] of cases) {
    const got = keepTopP(probs, p);
    check(
      support(got).join() === kept.join(),
      `keepTopP(${show(probs, 2)}, ${p}) kept the ids ${show(support(got))}; the smallest set ` +
        `of most probable tokens whose probabilities sum to at least ${p} is ${show(kept)}. ` +
        "Walk the ids from the most probable down and stop as soon as the running sum reaches p " +
        "(the token that crosses p is kept).",
    );
    const mass = kept.reduce((s, i) => s + probs[i], 0);
    assertAllClose(got, probs.map((v, i) => (kept.includes(i) ? v / mass : 0)), {
      rtol: 1e-12,
      what: `keepTopP(probs, ${p}) (renormalise: the kept probabilities divided by their sum)`,
    });
  }
  // Random distributions: the nucleus reaches p, and dropping its least probable token would not.
  for (let seed = 1; seed <= 8; seed++) {
    const probs = softmax64(randomLogits(20, `topp:${seed}`));
    for (const p of [0.05, 0.3, 0.5, 0.75, 0.9, 0.99]) {
      const got = keepTopP(probs, p);
      const kept = support(got);
      const mass = kept.reduce((s, i) => s + probs[i], 0);
      const smallest = Math.min(...kept.map((i) => probs[i]));
      const outside = probs.filter((_, i) => !kept.includes(i));
      check(
        mass >= p && mass - smallest < p && outside.every((v) => v <= smallest),
        `keepTopP(probs of seed ${seed}, ${p}) kept ${kept.length} tokens with total ` +
          `probability ${mass.toFixed(4)}: the nucleus must reach p (${mass >= p}), be the most ` +
          `probable tokens (${outside.every((v) => v <= smallest)}) and be the smallest such ` +
          `set, i.e. without its least probable token it falls below p (${mass - smallest < p})`,
      );
      assertAllClose(got, topP64(probs, p), {
        rtol: 1e-12,
        atol: 1e-15,
        what: `keepTopP(probs of seed ${seed}, ${p})`,
      });
    }
  }
});

Deno.test("probabilities: temperature, then top-k, then top-p; temperature 0 is one-hot", () => {
  for (let seed = 1; seed <= 5; seed++) {
    const logits = randomLogits(16, `probs:${seed}`);
    const optionSets: SampleOptions[] = [
      {},
      { temperature: 0.6 },
      { temperature: 1.8, topK: 6 },
      { temperature: 0.8, topP: 0.7 },
      // top-p after top-k, on the renormalised top-k: here it keeps fewer tokens than top-p alone
      { temperature: 2, topK: 4, topP: 0.6 },
    ];
    for (const opts of optionSets) {
      assertAllClose(probabilities(logits, opts), distribution64(logits, opts), {
        rtol: 1e-12,
        atol: 1e-15,
        what: `probabilities(logits of seed ${seed}, ${JSON.stringify(opts)})`,
      });
    }
    const greedy = probabilities(logits, { temperature: 0, topK: 3 });
    const best = argmax(logits);
    check(
      greedy[best] === 1 && greedy.reduce((s, v) => s + v, 0) === 1,
      `temperature 0 is greedy: all the probability on the argmax, token ${best}; got ` +
        `${show(greedy, 3)}. Dividing by T = 0 gives Infinity and NaN: handle T = 0 first.`,
    );
  }
});

Deno.test("nonsense options are refused with a RangeError, before any token is written", () => {
  const model = tiny();
  const logits = randomLogits(5, "options");
  const bad: [SampleOptions, string][] = [
    [{ temperature: -1 }, "temperature"],
    [{ temperature: NaN }, "temperature"],
    [{ topK: 0 }, "topK"],
    [{ topK: 2.5 }, "topK"],
    [{ topP: 0 }, "topP"],
    [{ topP: 1.5 }, "topP"],
  ];
  for (const [opts, part] of bad) {
    expectThrows(
      () => sampleFrom(logits, opts, rng("options")),
      RangeError,
      part,
      `sampleFrom(logits, ${JSON.stringify(opts)}, rng)`,
      " Resolve the options with the given resolveSampleOptions(opts): it fills in the " +
        "defaults and refuses such values.",
    );
    expectThrows(
      () => generate(model, [1, 2], { maxNewTokens: 3, ...opts }),
      RangeError,
      part,
      `generate(model, prompt, ${JSON.stringify({ maxNewTokens: 3, ...opts })})`,
    );
  }
  expectThrows(
    () => generate(model, [], { maxNewTokens: 3 }),
    RangeError,
    "at least one token",
    "generate(model, [], ...)",
    " An empty prompt gives the model nothing to continue.",
  );
});

// ---------- the sampler ----------

Deno.test("sampleFrom: the inverse CDF of probabilities, one rng() per token; greedy draws none", () => {
  // probabilities 0.1, 0.2, 0.3, 0.4: cumulative 0.1, 0.3, 0.6, 1.0
  const logits = [0.1, 0.2, 0.3, 0.4].map(Math.log);
  const cases: [SampleOptions, number[], number[]][] = [
    [{}, [0, 0.05, 0.0999, 0.1001, 0.29, 0.31, 0.59, 0.61, 0.999999], [0, 0, 0, 1, 1, 2, 2, 3, 3]],
    // top-k 2 keeps 0.3 and 0.4, renormalised to 3/7 and 4/7: cumulative 0.4286, 1 (ids 2, 3)
    [{ topK: 2 }, [0, 0.42, 0.44, 0.9999], [2, 2, 3, 3]],
  ];
  for (const [opts, us, want] of cases) {
    let calls = 0;
    const fake = () => us[calls++];
    const got = us.map(() => sampleFrom(logits, opts, fake));
    check(
      calls === us.length,
      `sampleFrom called rng() ${calls} times for ${us.length} tokens: draw exactly one number ` +
        "per token, so that a seed gives the same text on every machine and in kata 14.",
    );
    check(
      got.join() === want.join(),
      `sampleFrom(${show(logits.map(Math.exp), 2)}, ${JSON.stringify(opts)}) with rng() = ` +
        `${show(us, 6)} gave ${show(got)}; expected ${show(want)}: walk the ids 0, 1, 2, ... ` +
        "adding their probabilities, and return the first id whose running sum exceeds u.",
    );
  }
  const noDraw = () => {
    throw new AssertionError({
      message: "sampleFrom with temperature 0 called rng(): greedy is the argmax, nothing random",
    });
  };
  check(
    sampleFrom(logits, { temperature: 0 }, noDraw) === 3,
    "sampleFrom with temperature 0 should return the argmax, token 3",
  );
});

Deno.test("top-k never emits a token outside the top k (temperature 2, 2000 draws, 5 seeds)", () => {
  const vocab = 30, k = 5;
  for (let seed = 1; seed <= 5; seed++) {
    const logits = randomLogits(vocab, `never:${seed}`, 1.5);
    const top = support(topK64(softmax64(logits), k));
    const u = rng(`kata13-topk:${seed}`);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const id = sampleFrom(logits, { temperature: 2, topK: k }, u);
      check(
        top.includes(id),
        `draw ${i} (seed ${seed}) gave token ${id} with top-k ${k}; the top ${k} are ` +
          `${show(top)}. Zero every probability outside them before drawing.`,
      );
      seen.add(id);
    }
    // Measured: all 5 appear in every seed (the least probable of them has 12% to 15%).
    check(
      seen.size === k,
      `2000 draws (seed ${seed}) used only ${show([...seen].sort((a, b) => a - b))} of the top ` +
        `${k} ${show(top)}: sampleFrom should draw, not always pick the argmax`,
    );
  }
});

Deno.test("top-p never emits a token outside the nucleus (2000 draws, 5 seeds)", () => {
  const vocab = 30;
  for (let seed = 1; seed <= 5; seed++) {
    const logits = randomLogits(vocab, `nucleus:${seed}`, 1.5);
    const nucleus = support(topP64(softmax64(logits), 0.6));
    const u = rng(`kata13-topp:${seed}`);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const id = sampleFrom(logits, { topP: 0.6 }, u);
      check(
        nucleus.includes(id),
        `draw ${i} (seed ${seed}) gave token ${id} with top-p 0.6; the nucleus is ` +
          `${show(nucleus)}`,
      );
      seen.add(id);
    }
    check(
      seen.size === nucleus.length,
      `2000 draws (seed ${seed}) used only ${seen.size} of the ${nucleus.length} tokens of the ` +
        "nucleus",
    );
  }
});

Deno.test(`sampled frequencies match the model's probabilities (chi-square, α = ${ALPHA})`, () => {
  // Pearson's goodness-of-fit test. If the sampler draws exactly from the distribution, X² follows
  // (approximately) a chi-square law with df = bins − 1, and X² > critical value happens with
  // probability α = 0.001: a correct sampler would fail one run in 1000 if the draws were new
  // each run (three cases: at most 3 in 1000). They are not: the generator is seeded, so the same
  // code gives the same draws and the same X² on every run and machine, and a test that passes
  // once passes always. α is the chance that a correct sampler that spends its random numbers
  // differently (another order of the ids, say) fails here by bad luck: 1 in 1000 per case.
  const model = tiny();
  // Sanity of the critical values against printed tables.
  for (const [df, alpha, value] of [[10, 0.05, 18.307], [18, 0.001, 42.312], [7, 0.001, 24.322]]) {
    const got = chiSquareCritical(df, alpha);
    check(Math.abs(got - value) < 2e-3, `chi-square critical value df ${df}: ${got} ≠ ${value}`);
  }
  for (const { name, context, opts } of FIT_CASES) {
    const logits = lastLogits(model, tokenizer.encode(context));
    const u = rng(`kata13-chi2:${name}`);
    const counts = countDraws(tinyConfig.vocabSize, () => sampleFrom(logits, opts, u));
    const fit = chiSquare(counts, distribution64(logits, opts));
    check(
      fit.impossible === 0,
      `${name}: ${fit.impossible} of ${DRAWS} draws were tokens of probability 0 (removed by ` +
        `top-k or top-p). ${fit.table}`,
    );
    check(
      fit.statistic <= fit.critical,
      `${name}, after ${JSON.stringify(context)}: the sampled frequencies do not match the ` +
        `model's probabilities: X² = ${fit.statistic.toFixed(1)} > ${fit.critical.toFixed(2)}, ` +
        `the critical value of df ${fit.df} at α = ${ALPHA}. Per token: ${fit.table}. Is the ` +
        "temperature applied, are the kept probabilities renormalised, and is u compared with " +
        "the running sum of the probabilities?",
    );
  }
});

Deno.test("the chi-square test catches a biased sampler (one that ignores temperature, one that does not renormalise)", () => {
  // Measured: X² = 1102 for the sampler that ignores T = 0.7 (critical value 24.32, df 7), 3306
  // for the one that drops the tokens outside the top 8 without renormalising (the mass they had,
  // 11%, all goes to the last kept id). A test that cannot fail cannot tell right from wrong.
  const model = tiny();
  const { context, opts } = FIT_CASES[1]; // temperature 0.7, top-k 8
  const logits = lastLogits(model, tokenizer.encode(context));
  const expected = distribution64(logits, opts);
  const biased: [string, (u: () => number) => number][] = [
    ["ignores the temperature", (u) => sampleFrom(logits, { ...opts, temperature: 1 }, u)],
    ["zeroes the tokens outside the top k but does not renormalise", (u) => {
      const p = softmaxWithTemperature(logits, 0.7);
      const top = support(keepTopK(p, 8));
      const x = u();
      let sum = 0;
      for (const i of top) {
        sum += p[i];
        if (x < sum) return i;
      }
      return top[top.length - 1]; // the missing mass lands on the last kept id
    }],
  ];
  for (const [what, draw] of biased) {
    const u = rng(`kata13-biased:${what}`);
    const fit = chiSquare(countDraws(tinyConfig.vocabSize, () => draw(u)), expected);
    check(
      fit.statistic > 10 * fit.critical,
      `a sampler that ${what} should fail the goodness-of-fit test by far: X² = ` +
        `${fit.statistic.toFixed(1)}, critical ${fit.critical.toFixed(2)}`,
    );
  }
});

// ---------- generation ----------

Deno.test("greedy decoding is deterministic and takes the argmax of the cropped context at every step", () => {
  const model = tiny();
  const T = tinyConfig.blockSize;
  const prompt = tokenizer.encode("hello");
  const a = generate(model, prompt, { maxNewTokens: 20, temperature: 0 });
  const b = generate(model, prompt, { maxNewTokens: 20, temperature: 0, seed: 99 });
  check(
    a.join() === b.join(),
    `greedy decoding must not depend on chance or on the seed: ${show(a)} then ${show(b)}`,
  );
  // The oracle: the argmax of forward's last row, the context cropped to the last T tokens (from
  // the 4th new token on, the 5 + 20 tokens no longer fit in T = 8).
  const tokens = Array.from(prompt);
  for (let i = 0; i < 20; i++) tokens.push(argmax(lastLogits(model, tokens.slice(-T))));
  check(
    a.join() === tokens.join(),
    `greedy from "hello": got ${JSON.stringify(tokenizer.decode(a))} ${show(a)}, expected ` +
      `${JSON.stringify(tokenizer.decode(tokens))} ${show(tokens)}` +
      (a.length !== tokens.length
        ? `: generate returns the prompt followed by maxNewTokens new tokens (${tokens.length})`
        : ": each new token is the argmax of the logits after the last blockSize tokens"),
  );
});

Deno.test("temperature → 0 (1e-6) samples exactly what greedy decoding picks", () => {
  // softmax(z / T) puts all but at most (V−1)·exp(−gap / T) of its mass on the argmax: with the
  // smallest gap between the two largest logits along the way, 0.26 (measured), and T = 1e-6,
  // that is 18·exp(−260000) = 0 in float64.
  const model = tiny();
  const prompt = tokenizer.encode("this is");
  const greedy = generate(model, prompt, { maxNewTokens: 20, temperature: 0 });
  for (const seed of [1, 2, 3]) {
    const cold = generate(model, prompt, { maxNewTokens: 20, temperature: 1e-6, seed });
    check(
      cold.join() === greedy.join(),
      `temperature 1e-6 (seed ${seed}) wrote ${JSON.stringify(tokenizer.decode(cold))}, greedy ` +
        `${JSON.stringify(tokenizer.decode(greedy))}. As T → 0, softmax(z / T) tends to a ` +
        "one-hot on the largest logit: compute it in float64 and subtract the largest logit " +
        "before dividing by T.",
    );
  }
  // The precondition of the comment above: no near-tie among the logits generation met.
  const gaps = greedy.slice(prompt.length).map((_, i) => {
    const z = Array.from(lastLogits(model, greedy.slice(0, prompt.length + i).slice(-8)));
    const [first, second] = z.sort((x, y) => y - x);
    return first - second;
  });
  check(Math.min(...gaps) > 1e-3, `near-tie in the logits (gap ${Math.min(...gaps)}): pick a seed`);
});

Deno.test("seeded sampling is reproducible: one generator rng(seed) for the whole text", () => {
  const model = tiny();
  const prompt = tokenizer.encode("hello");
  const opts = { maxNewTokens: 24, temperature: 1.2, topK: 10 };
  const texts = [1, 2, 3, 4].map((seed) => generate(model, prompt, { ...opts, seed }));
  const again = generate(model, prompt, { ...opts, seed: 1 });
  check(
    again.join() === texts[0].join(),
    `the same seed gave two texts: ${JSON.stringify(tokenizer.decode(texts[0]))} and ` +
      `${JSON.stringify(tokenizer.decode(again))}. Draw every random number from rng(seed) ` +
      "(lib/random.ts), never Math.random.",
  );
  check(
    new Set(texts.map((t) => t.join())).size >= 3,
    `seeds 1 to 4 should give different texts; got ${
      texts.map((t) => JSON.stringify(tokenizer.decode(t))).join(", ")
    }`,
  );
  // The contract: one generator for the whole call, one sampleFrom per token.
  const u = rng(3);
  const tokens = Array.from(prompt);
  for (let i = 0; i < opts.maxNewTokens; i++) {
    tokens.push(sampleFrom(nextTokenLogits(model, tokens), opts, u));
  }
  check(
    texts[2].join() === tokens.join(),
    `generate(..., seed 3) wrote ${JSON.stringify(tokenizer.decode(texts[2]))}; with one ` +
      `u = rng(3) and sampleFrom(nextTokenLogits(model, tokens), opts, u) per token it is ` +
      `${JSON.stringify(tokenizer.decode(tokens))}. Create the generator once, before the loop.`,
  );
  const byDefault = generate(model, prompt, opts);
  const seed1337 = generate(model, prompt, { ...opts, seed: 1337 });
  check(
    byDefault.join() === seed1337.join(),
    "without a seed, generate should use seed 1337: the same text on every run",
  );
});

Deno.test("generate streams: onToken hears of each token as it is chosen, before the next forward", () => {
  const model = tiny();
  const heard: [number, number][] = [];
  const marks: number[] = [];
  const out = generate(model, tokenizer.encode("hi"), {
    maxNewTokens: 10,
    temperature: 0.8,
    seed: 5,
    onToken: (id, index) => {
      heard.push([id, index]);
      // Tensor ids only grow: a forward pass between two calls makes dozens of tensors.
      const probe = tf.scalar(0);
      marks.push(probe.id);
      probe.dispose();
    },
  });
  const added = out.slice(2);
  check(
    heard.length === 10 && heard.every(([id, index], i) => id === added[i] && index === i),
    `onToken should be called once per new token, with (id, index 0, 1, ...): heard ` +
      `${JSON.stringify(heard)} for the new tokens ${show(added)}`,
  );
  const gaps = marks.slice(1).map((m, i) => m - marks[i]);
  check(
    gaps.every((g) => g > 10),
    "onToken was called for several tokens with no forward pass in between (tensors made " +
      `between calls: ${show(gaps)}): call it inside the loop, right after each token is ` +
      "chosen, so that a command line can print the text as it is written.",
  );
});

Deno.test("no tensor leaks: the tensor count is the same after every generated token", () => {
  const model = tiny();
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  generate(model, tokenizer.encode("hello"), {
    maxNewTokens: 30,
    temperature: 1,
    seed: 8,
    onToken: () => counts.push(tf.memory().numTensors - before),
  });
  const after = tf.memory().numTensors - before;
  check(
    counts.length === 30 && counts.every((c) => c === 0) && after === 0,
    `live tensors after each token, minus those before generate: ${show(counts)}, and ${after} ` +
      "at the end. Each token must leave nothing behind: tf.tidy around the forward pass, and " +
      "dispose the logits tensor once its values are read.",
  );
});

Deno.test('a model trained on the seed\'s sentence continues "hello" as the sentence does', () => {
  // Measured on the reference solutions: 150 steps of trainModel (batches of 32 windows of 8,
  // AdamW, lr 0.02), loss 2.95 → 0.15 (it cannot reach 0: the first tokens of a window are
  // guessed from one to three characters). Greedy then writes the sentence exactly; the smallest
  // gap between the two largest logits along it is 3.0, so no near-tie decides the text (model
  // seeds 1-8 all write it, smallest gaps 1.8 to 3.6; after 100 steps, 2 of the 8 do not yet).
  // Untrained, greedy writes "hello ,ilwilwilwil...": a loop.
  const ids = tokenizer.encode(SEED_TEXT);
  const config: MiniLLMConfig = { ...tinyConfig, nEmbd: 32 };
  const model = initMiniLLM(config, { seed: 1 });
  const prompt = tokenizer.encode("hello");
  const untrained = tokenizer.decode(generate(model, prompt, { maxNewTokens: 40, temperature: 0 }));
  check(
    untrained !== SEED_TEXT,
    "an untrained model should not already write the sentence",
  );
  const { losses } = trainModel(model, ids, { steps: 150, batch: 32, time: 8, seed: 1, lr: 0.02 });
  const trained = tokenizer.decode(generate(model, prompt, { maxNewTokens: 40, temperature: 0 }));
  tf.dispose(parameters(model));
  check(
    trained === SEED_TEXT,
    `after training (loss ${losses[0].toFixed(2)} → ${losses[losses.length - 1].toFixed(3)}), ` +
      `greedy decoding from "hello" wrote ${JSON.stringify(trained)}; the training text is ` +
      `${JSON.stringify(SEED_TEXT)} (untrained, it wrote ${JSON.stringify(untrained)}). Once ` +
      `the text is longer than the block size (${config.blockSize}), the model must read the ` +
      "last blockSize tokens: the ones it continues.",
  );
});
