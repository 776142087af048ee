/**
 * Tests of kata 14 · 效果优化 · Improvements.
 *
 * Run: deno test katas/14
 *
 * Dropout is checked by its statistics (stated tolerances, many thousands of draws) and against an
 * oracle built from lib's `uniform`; the model against kata 10's reference model and the
 * reference blocks composed by hand; weight tying by identity, parameter count and gradients
 * (autodiff of the two uses summed, and finite differences); the schedule against its formula;
 * the KV cache against the uncached model, logits and tokens, and by counting tensors; depth by
 * training two models on the same batches. Measured on the reference solution (wasm):
 * see the comment of each test.
 * @module
 */
import { AssertionError } from "node:assert";
import {
  assertAllClose,
  assertGradients,
  assertNoLeaks,
  assertShape,
  randn,
  rng,
  seedSequence,
  tf,
  TodoError,
  uniform,
} from "../../lib/mod.ts";
import {
  causalMask,
  countImprovedParams,
  createKVCache,
  crossEntropy,
  dropout,
  estimateImprovedLoss,
  feedForward,
  forward,
  forwardCached,
  forwardImproved,
  generate,
  generateCached,
  headLogits,
  type ImprovedConfig,
  type ImprovedModel,
  improvedParameters,
  initImproved,
  initMiniLLM,
  layerNorm,
  lrAt,
  type LrSchedule,
  type MiniLLM,
  multiHeadAttention,
  parameters,
  resetKVCache,
  sampleFrom,
  trainImproved,
} from "./mod.ts";

/** Throws `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new AssertionError({ message });
}

/** The error `fn` throws (undefined if none); a TodoError is thrown on: the code is not written. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    if (e instanceof TodoError) throw e;
    return e;
  }
  return undefined;
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** The largest |a − b| of two tensors of the same shape. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** A tiny model: vocabulary 11, block 8, width 16, 2 heads, 2 blocks, dropout 0.3, untied. */
const tiny: ImprovedConfig = {
  vocabSize: 11,
  blockSize: 8,
  nEmbd: 16,
  nHead: 2,
  nLayer: 2,
  dropout: 0.3,
  tieWeights: false,
};

/** Seeded uniform random token ids [batch, time] in [0, vocab). */
function randomTokens(batch: number, time: number, vocab: number, seed: string): number[][] {
  const u = rng(seed);
  return Array.from(
    { length: batch },
    () => Array.from({ length: time }, () => Math.floor(u() * vocab)),
  );
}

function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0].length], "int32");
}

/** Runs `body` with a model made by your initImproved, inside tf.tidy; frees its variables after. */
function withModel(
  config: ImprovedConfig,
  opts: { seed: number; std?: number },
  body: (model: ImprovedModel) => void,
): void {
  const model = initImproved(config, opts);
  try {
    tf.tidy(() => body(model));
  } finally {
    tf.dispose(improvedParameters(model));
  }
}

/** The untied twin of a tied model: the same tensors, and head.w = wteᵀ as its own tensor. */
function untiedTwin(model: ImprovedModel, wte = model.params.wte): ImprovedModel {
  return {
    config: { ...model.config, tieWeights: false },
    params: {
      ...model.params,
      wte,
      head: { w: tf.transpose(wte) as tf.Tensor2D, b: model.params.head.b },
    },
  };
}

/** An untied ImprovedModel seen as kata 10's MiniLLM (the same tensors). */
function asMiniLLM(model: ImprovedModel): MiniLLM {
  const { w, b } = model.params.head;
  if (w === null) throw new TypeError("asMiniLLM: the model is tied");
  return { config: model.config, params: { ...model.params, head: { w, b } } };
}

// ---- dropout ----

Deno.test("dropout in evaluation mode (or with rate 0) returns x unchanged", () => {
  tf.tidy(() => {
    const x = randn([4, 6], { seed: 1 });
    assertAllClose(dropout(x, 0.5, { train: false }), x, {
      rtol: 0,
      atol: 0,
      what: "dropout(x, 0.5, { train: false }): evaluation mode is the identity (inverted " +
        "dropout scales in training, so nothing is left to do at evaluation)",
    });
    assertAllClose(dropout(x, 0, { train: true, seed: 3 }), x, {
      rtol: 0,
      atol: 0,
      what: "dropout(x, 0, { train: true }): a rate of 0 drops nothing",
    });
  });
});

Deno.test("dropout in training mode zeroes about p of the activations, scales the rest by 1/(1 − p), keeps the mean", () => {
  tf.tidy(() => {
    const n = 100_000;
    const ones = tf.ones([400, 250]);
    // Measured (seed 7): p = 0.1: 9.97% zeros, mean 1.0004; p = 0.5: 50.16% zeros, mean 0.9968.
    // Standard errors over 100,000 draws: 0.09% and 0.16% for the fraction, 0.001 and 0.003 for
    // the mean: the tolerances (1 point, 0.02) are 6 to 10 of them. Dropout without the 1/(1 − p)
    // gives a mean of 1 − p (0.9, 0.5); a mask that keeps with probability p drops 90% at p = 0.1.
    for (const p of [0.1, 0.5]) {
      const y = values(dropout(ones, p, { train: true, seed: 7 }));
      const zeros = y.filter((v) => v === 0).length / n;
      const kept = y.filter((v) => v !== 0);
      const mean = y.reduce((s, v) => s + v, 0) / n;
      check(
        Math.abs(zeros - p) < 0.01,
        `dropout(ones, ${p}) zeroed ${(100 * zeros).toFixed(2)}% of 100,000 activations, ` +
          `expected ${100 * p}% ± 1: keep an element when uniform ≥ p (so that it is dropped ` +
          `with probability p)`,
      );
      check(
        kept.every((v) => Math.abs(v - 1 / (1 - p)) < 1e-5),
        `dropout(ones, ${p}): the activations that survive should all be 1/(1 − p) = ` +
          `${(1 / (1 - p)).toFixed(4)}; found ${
            kept.find((v) => Math.abs(v - 1 / (1 - p)) >= 1e-5)
          }`,
      );
      check(
        Math.abs(mean - 1) < 0.02,
        `the mean of dropout(ones, ${p}) is ${mean.toFixed(4)}, expected 1 ± 0.02: inverted ` +
          `dropout divides the survivors by 1 − p so that E[y] = (1 − p)·x/(1 − p) = x. ` +
          `Without it the next layer sees activations ${1 - p} times smaller in training than ` +
          `in evaluation.`,
      );
    }
    // On any x: every output is 0 or x/(1 − p), exactly that element's.
    const x = randn([50, 40], { seed: 2 });
    const y = values(dropout(x, 0.25, { train: true, seed: 9 })), xs = values(x);
    const bad = y.findIndex((v, i) => v !== 0 && Math.abs(v - xs[i] / 0.75) > 1e-5);
    check(
      bad < 0,
      `dropout(x, 0.25)[${bad}] is ${y[bad]}; every element must be 0 or x/(1 − p) = ` +
        `${(xs[bad] / 0.75).toFixed(5)} (its own x, scaled)`,
    );
  });
});

Deno.test("dropout masks are seeded, and the gradient of dropout is the mask / (1 − p)", () => {
  tf.tidy(() => {
    const x = randn([30, 20], { seed: 3 });
    const a = dropout(x, 0.3, { train: true, seed: 5 });
    const b = dropout(x, 0.3, { train: true, seed: 5 });
    const c = dropout(x, 0.3, { train: true, seed: 6 });
    assertAllClose(a, b, {
      rtol: 0,
      atol: 0,
      what: "two dropouts with the same seed (make the mask with uniform(x.shape, { seed }))",
    });
    check(maxDiff(a, c) > 0.1, "dropout with seeds 5 and 6 gave the same mask: use the seed");
    // y = x·m/(1 − p) with a fixed mask m: dy/dx = m/(1 − p), which is dropout(ones) itself.
    const g = tf.grad((t: tf.Tensor) => tf.sum(dropout(t, 0.3, { train: true, seed: 5 })))(x);
    assertAllClose(g, dropout(tf.onesLike(x), 0.3, { train: true, seed: 5 }), {
      atol: 1e-6,
      what: "the gradient of sum(dropout(x)) with respect to x: the mask divided by 1 − p (the " +
        "mask must depend on the seed and the shape only, not on x)",
    });
  });
});

Deno.test("dropout refuses a rate outside [0, 1), and a training mask without a seed", () => {
  tf.tidy(() => {
    const x = tf.ones([3]);
    for (const rate of [1, 1.5, -0.1]) {
      const error = thrown(() => dropout(x, rate, { train: true, seed: 1 }));
      check(
        error instanceof RangeError,
        `dropout(x, ${rate}) should throw a RangeError (a rate is a probability below 1: at 1 ` +
          `everything is dropped and 1/(1 − p) divides by 0); got ${error ?? "no error"}`,
      );
    }
    const error = thrown(() => dropout(x, 0.5, { train: true }));
    check(
      error instanceof TypeError,
      `dropout(x, 0.5, { train: true }) without a seed should throw a TypeError: an unseeded ` +
        `mask makes every run different; got ${error ?? "no error"}`,
    );
  });
});

// ---- the model ----

Deno.test("evaluation mode is kata 10's model: deterministic, whatever the dropout rate", () => {
  withModel(tiny, { seed: 3 }, (model) => {
    const ref = initMiniLLM(tiny, { seed: 3 });
    try {
      const idx = ids(randomTokens(2, 8, tiny.vocabSize, "eval"));
      const a = forwardImproved(model, idx);
      assertShape(a, { batch: 2, time: 8, vocab: tiny.vocabSize }, "forwardImproved(model, idx)");
      assertAllClose(forwardImproved(model, idx, { train: false, seed: 5 }), a, {
        rtol: 0,
        atol: 0,
        what: "forwardImproved in evaluation mode, twice (evaluation must not drop anything)",
      });
      // Measured: equal to kata 10's logits to 0 (the same operations in the same order).
      assertAllClose(a, forward(ref, idx), {
        rtol: 1e-5,
        atol: 1e-6,
        what: "forwardImproved(initImproved(config, { seed: 3 })) in evaluation mode against " +
          "kata 10's forward(initMiniLLM(config, { seed: 3 })): initImproved makes kata 10's " +
          "parameters (call initMiniLLM), and without dropout the forward pass is kata 10's",
      });
      const noDropout: ImprovedModel = { ...model, config: { ...model.config, dropout: 0 } };
      assertAllClose(forwardImproved(noDropout, idx), a, {
        rtol: 0,
        atol: 0,
        what: "evaluation mode with dropout 0.3 against the same weights with dropout 0",
      });
    } finally {
      tf.dispose(parameters(ref));
    }
  });
});

/** Inverted dropout written from lib's `uniform`: the oracle of the training-mode test. */
function dropOracle(x: tf.Tensor, p: number, seed: number): tf.Tensor {
  return tf.mul(
    x,
    tf.div(tf.cast(tf.greaterEqual(uniform(x.shape, { seed }), p), "float32"), 1 - p),
  );
}

Deno.test("training mode: dropout after the embeddings and after each sub-layer, seeds in order", () => {
  withModel(tiny, { seed: 4, std: 0.3 }, (model) => {
    const { params: p, config: c } = model;
    const idx = ids(randomTokens(2, 8, c.vocabSize, "train"));
    const time = 8;
    // The oracle: the documented recipe, composed from the reference blocks.
    const next = seedSequence(11);
    let x = dropOracle(
      tf.add(tf.gather(p.wte, idx), tf.slice(p.wpe, [0, 0], [time, -1])),
      c.dropout,
      next(),
    ) as tf.Tensor3D;
    const mask = causalMask(time);
    for (const b of p.blocks) {
      const a = multiHeadAttention(layerNorm(x, b.ln1), b.attn, { nHead: c.nHead, mask });
      x = tf.add(x, dropOracle(a, c.dropout, next())) as tf.Tensor3D;
      x = tf.add(x, dropOracle(feedForward(layerNorm(x, b.ln2), b.mlp), c.dropout, next()));
    }
    const h = tf.reshape(layerNorm(x, p.lnF), [2 * time, c.nEmbd]) as tf.Tensor2D;
    const expected = tf.reshape(tf.add(tf.matMul(h, p.head.w!), p.head.b), [2, time, -1]);
    const got = forwardImproved(model, idx, { train: true, seed: 11 });
    // Measured: equal to the oracle to 0 (the same float32 operations).
    assertAllClose(got, expected, {
      rtol: 1e-4,
      atol: 1e-5,
      what: "forwardImproved(model, idx, { train: true, seed: 11 }) against the recipe: " +
        "next = seedSequence(11); x = drop(wte[idx] + wpe, next()); per block x += " +
        "drop(MHA(LN1(x)), next()), x += drop(FFN(LN2(x)), next()); then the head. Check the " +
        "places of the dropouts and the order of their seeds",
    });
    assertAllClose(forwardImproved(model, idx, { train: true, seed: 11 }), got, {
      rtol: 0,
      atol: 0,
      what: "two training-mode passes with the same seed",
    });
    // Measured: seed 12 moves the logits by 3.5, evaluation mode by 3.3.
    check(
      maxDiff(forwardImproved(model, idx, { train: true, seed: 12 }), got) > 1e-2,
      "training mode with seeds 11 and 12 gave the same logits: derive every mask from the seed",
    );
    check(
      maxDiff(forwardImproved(model, idx), got) > 1e-2,
      "training mode gave the logits of evaluation mode: is dropout applied when train is true?",
    );
    const noDropout: ImprovedModel = { ...model, config: { ...c, dropout: 0 } };
    assertAllClose(
      forwardImproved(noDropout, idx, { train: true, seed: 11 }),
      forwardImproved(model, idx),
      {
        rtol: 1e-6,
        atol: 1e-6,
        what: "training mode with dropout 0 against evaluation mode",
      },
    );
  });
});

Deno.test("stacking blocks: each block adds 12C² + 13C parameters of its own", () => {
  const counts: number[] = [];
  for (const nLayer of [1, 2, 3, 4]) {
    withModel({ ...tiny, nLayer }, { seed: 5 }, (model) => {
      check(
        model.params.blocks.length === nLayer,
        `initImproved with nLayer ${nLayer} made ${model.params.blocks.length} blocks`,
      );
      const wqkv = new Set(model.params.blocks.map((b) => b.attn.wQkv));
      check(wqkv.size === nLayer, "two blocks share a weight: every block needs its own");
      counts.push(countImprovedParams(model));
      const idx = ids(randomTokens(1, 5, tiny.vocabSize, "depth"));
      assertShape(
        forwardImproved(model, idx),
        { batch: 1, time: 5, vocab: tiny.vocabSize },
        `forwardImproved with ${nLayer} blocks`,
      );
    });
  }
  const c = tiny.nEmbd, per = 12 * c * c + 13 * c;
  for (let i = 1; i < counts.length; i++) {
    check(
      counts[i] - counts[i - 1] === per,
      `going from ${i} to ${i + 1} blocks added ${counts[i] - counts[i - 1]} parameters, ` +
        `expected 12C² + 13C = ${per} (C = ${c})`,
    );
  }
});

// ---- weight tying ----

Deno.test("tied weights: no head matrix, wte is the one tensor, V·C fewer parameters", () => {
  const tiedConfig = { ...tiny, tieWeights: true };
  withModel(tiedConfig, { seed: 6 }, (tied) => {
    withModel(tiny, { seed: 6 }, (untied) => {
      check(
        tied.params.head.w === null,
        "a tied model has no head matrix: params.head.w must be null (the head reads wte; " +
          "dispose the matrix initMiniLLM made)",
      );
      check(untied.params.head.w !== null, "an untied model keeps its head matrix");
      const { vocabSize: v, nEmbd: c } = tiny;
      const saved = countImprovedParams(untied) - countImprovedParams(tied);
      check(
        saved === v * c,
        `tying saved ${saved} parameters, expected V·C = ${v}·${c} = ${v * c}: the head's ` +
          `[embed, vocab] matrix is gone, and nothing else changed`,
      );
      const vars = improvedParameters(tied);
      check(
        vars.includes(tied.params.wte as tf.Variable) &&
          !vars.some((t) => t.shape.join() === [c, v].join()),
        "the tied model's variables should hold wte and no [embed, vocab] matrix",
      );
      assertAllClose(tied.params.wte, untied.params.wte, {
        rtol: 0,
        atol: 0,
        what: "wte of tied and untied models from the same seed (both are kata 10's)",
      });
    });
  });
});

Deno.test("a tied head computes LN(x)·wteᵀ + b from wte itself: change wte and the logits follow", () => {
  withModel({ ...tiny, tieWeights: true }, { seed: 7, std: 0.3 }, (model) => {
    const idx = ids(randomTokens(2, 6, tiny.vocabSize, "tied"));
    const x = randn([2, 3, tiny.nEmbd], { seed: 8 }) as tf.Tensor3D;
    const { lnF, wte, head } = model.params;
    const h = tf.reshape(layerNorm(x, lnF), [6, tiny.nEmbd]) as tf.Tensor2D;
    const expected = tf.reshape(tf.add(tf.matMul(h, wte, false, true), head.b), [2, 3, -1]);
    assertAllClose(headLogits(model, x), expected, {
      rtol: 1e-5,
      atol: 1e-5,
      what: "headLogits of a tied model: LN_f(x)·wteᵀ + b ([batch·time, embed]·[embed, vocab])",
    });
    // Measured: the tied model and its untied twin (head.w = wteᵀ) agree to 0 before and after.
    assertAllClose(forwardImproved(model, idx), forwardImproved(untiedTwin(model), idx), {
      rtol: 1e-5,
      atol: 1e-5,
      what: "the tied model against an untied one whose head matrix is wteᵀ",
    });
    (wte as tf.Variable).assign(randn(wte.shape, { seed: 9, std: 0.3 }) as tf.Tensor2D);
    assertAllClose(forwardImproved(model, idx), forwardImproved(untiedTwin(model), idx), {
      rtol: 1e-5,
      atol: 1e-5,
      what: "after wte.assign(new values), the tied model against the untied twin made from " +
        "the new wte: the head must read params.wte at every call, not a copy made at init",
    });
  });
});

Deno.test("the gradient of a tied wte is the sum of its two uses: the embedding's and the head's", () => {
  withModel({ ...tiny, tieWeights: true }, { seed: 10, std: 0.3 }, (model) => {
    const x = ids(randomTokens(2, 8, tiny.vocabSize, "grad:x"));
    const y = ids(randomTokens(2, 8, tiny.vocabSize, "grad:y"));
    const withWte = (wte: tf.Tensor): ImprovedModel => ({
      ...model,
      params: { ...model.params, wte: wte as tf.Tensor2D },
    });
    const loss = (wte: tf.Tensor) => crossEntropy(forwardImproved(withWte(wte), x), y);
    const tied = tf.grad(loss)(model.params.wte);
    // The same function with two separate tensors E (embedding) and W = Eᵀ (head).
    const twin = untiedTwin(model);
    const [gE, gW] = tf.grads((e: tf.Tensor, w: tf.Tensor) =>
      crossEntropy(
        forwardImproved(
          {
            ...twin,
            params: {
              ...twin.params,
              wte: e as tf.Tensor2D,
              head: { ...twin.params.head, w: w as tf.Tensor2D },
            },
          },
          x,
        ),
        y,
      )
    )([model.params.wte, twin.params.head.w!]);
    const norm = (t: tf.Tensor) => tf.norm(t).dataSync()[0];
    // Measured: |gE| = 0.97, |gW| = 1.33; the tied gradient equals gE + gWᵀ to 0.
    check(norm(gE) > 1e-3 && norm(gW) > 1e-3, "both uses of wte should get a gradient");
    assertAllClose(tied, tf.add(gE, tf.transpose(gW)), {
      rtol: 1e-4,
      atol: 1e-6,
      what: "the gradient of the tied wte against (gradient as embedding) + (gradient as head)ᵀ: " +
        "one tensor used twice gets both gradients added (if yours equals only the embedding's, " +
        "the head reads a copy of wte, not wte)",
    });
    // Measured relative error 1.3e-4 (threshold 1e-3).
    assertGradients(loss, [model.params.wte], { names: ["wte"], maxCoords: 24, seed: 3 });
  });
});

// ---- the learning-rate schedule ----

Deno.test("lrAt: linear warm-up, then a cosine from maxLr down to minLr, at the stated steps", () => {
  const s: LrSchedule = { warmup: 100, total: 1000, maxLr: 6e-4, minLr: 6e-5 };
  const formula = (step: number) =>
    step < s.warmup
      ? (s.maxLr * (step + 1)) / (s.warmup + 1)
      : step >= s.total
      ? s.minLr
      : s.minLr +
        0.5 * (1 + Math.cos((Math.PI * (step - s.warmup)) / (s.total - s.warmup))) *
          (s.maxLr - s.minLr);
  const stated: [number, number, string][] = [
    [0, 6e-4 / 101, "step 0: maxLr·1/(warmup + 1), small but not 0"],
    [49, (6e-4 * 50) / 101, "step 49: halfway up the warm-up line"],
    [99, (6e-4 * 100) / 101, "step 99: the last warm-up step"],
    [100, 6e-4, "step 100 = warmup: the peak, maxLr"],
    [325, 6e-5 + 0.5 * (1 + Math.SQRT1_2) * 5.4e-4, "a quarter of the decay: cos(π/4)"],
    [550, 3.3e-4, "the midpoint of the decay: (maxLr + minLr)/2"],
    [1000, 6e-5, "step 1000 = total: the floor minLr"],
    [1500, 6e-5, "after total: minLr"],
  ];
  for (const [step, want, why] of stated) {
    const got = lrAt(step, s);
    check(
      Math.abs(got - want) <= 1e-12 + 1e-9 * want,
      `lrAt(${step}) is ${got}, expected ${want} (${why}). The schedule: maxLr·(step + 1)/` +
        `(warmup + 1) while step < warmup; then minLr + ½(1 + cos(π·r))·(maxLr − minLr) with ` +
        `r = (step − warmup)/(total − warmup); minLr from total on`,
    );
  }
  for (let step = 0; step <= 1100; step++) {
    const got = lrAt(step, s);
    check(
      Math.abs(got - formula(step)) <= 1e-12 + 1e-9 * formula(step),
      `lrAt(${step}) is ${got}, the formula gives ${formula(step)}`,
    );
  }
  check(lrAt(0, { ...s, warmup: 0 }) === 6e-4, "with warmup 0 the schedule starts at maxLr");
  for (const bad of [{ ...s, warmup: 2000 }, { ...s, warmup: -1 }, { ...s, warmup: 2.5 }]) {
    const error = thrown(() => lrAt(0, bad));
    check(
      error instanceof RangeError,
      `lrAt with warmup ${bad.warmup} and total ${bad.total} should throw a RangeError ` +
        `(warmup must be a whole number of steps, 0 ≤ warmup ≤ total); got ${error ?? "no error"}`,
    );
  }
});

// ---- depth, measured ----

/**
 * A made-up language for the depth test: 12 words spelled with the two letters a and b (3 to 6
 * letters each) and a grammar in which every word is followed by one of two words, at random.
 * Guessing the next word's letters means recognising the previous word from its 3 to 6 letters,
 * which identify it only in their order (abb, bab and bba have the same letters).
 */
function madeUpLanguage(length: number, seed: string): string {
  const u = rng(seed);
  const words = Array.from({ length: 12 }, () => {
    const n = 3 + Math.floor(u() * 4);
    return Array.from({ length: n }, () => (u() < 0.5 ? "a" : "b")).join("");
  });
  const next = words.map(() => [Math.floor(u() * 12), Math.floor(u() * 12)]);
  let text = "", w = 0;
  while (text.length < length) {
    text += words[w] + " ";
    w = next[w][u() < 0.5 ? 0 : 1];
  }
  return text.slice(0, length);
}

Deno.test("depth: two blocks beat one on validation loss after the same 150 steps", () => {
  const text = madeUpLanguage(12_000, "words");
  const stream = Int32Array.from([...text].map((ch) => " ab".indexOf(ch)));
  const train = stream.subarray(0, 10_800), val = stream.subarray(10_800);
  const schedule: LrSchedule = { warmup: 10, total: 150, maxLr: 2e-3, minLr: 2e-4 };
  const valLoss = (nLayer: number) => {
    const config: ImprovedConfig = {
      vocabSize: 3,
      blockSize: 32,
      nEmbd: 32,
      nHead: 2,
      nLayer,
      dropout: 0,
      tieWeights: false,
    };
    const model = initImproved(config, { seed: 1, std: 0.1 });
    try {
      // The same 150 batches of 8 windows of 32 tokens for both models (fit's seed 1).
      trainImproved(model, train, {
        steps: 150,
        batch: 8,
        time: 32,
        seed: 1,
        lr: schedule.maxLr,
        lrAt: (step) => lrAt(step, schedule),
      });
      return estimateImprovedLoss(model, val, { time: 32 });
    } finally {
      tf.dispose(improvedParameters(model));
    }
  };
  const one = valLoss(1), two = valLoss(2);
  // Measured (nats per character; a uniform guess is ln 3 = 1.10): one block 0.658, two blocks
  // 0.538, three 0.500. With model seeds 2..5 and the same batches, two blocks win by 0.110 to
  // 0.181. About 2 s of CPU time for one block and 3 s for two on a busy 2-core machine: each
  // block costs time at every step. With std 0.02 (GPT-2's, meant for widths near 768) both
  // learn more slowly: 0.782 and 0.715.
  check(
    two < one - 0.05,
    `after 150 equal steps the validation loss is ${one.toFixed(3)} with one block and ` +
      `${two.toFixed(3)} with two; two blocks should be lower by at least 0.05. If both are ` +
      `high, check forwardImproved's blocks loop and lrAt; if only two blocks are worse, do ` +
      `the blocks share weights or skip the residual?`,
  );
});

// ---- the KV cache ----

Deno.test("forwardCached: a sequence fed in pieces gives forwardImproved's logits at every position", () => {
  for (const tieWeights of [false, true]) {
    withModel({ ...tiny, tieWeights }, { seed: 12, std: 0.3 }, (model) => {
      const rows = randomTokens(2, 8, tiny.vocabSize, `pieces:${tieWeights}`);
      const full = forwardImproved(model, ids(rows));
      const dHead = tiny.nEmbd / tiny.nHead;
      for (const pieces of [[8], [1, 1, 1, 1, 1, 1, 1, 1], [3, 1, 4], [5, 3]]) {
        const cache = createKVCache(model);
        try {
          const outs: tf.Tensor[] = [];
          let at = 0;
          for (const n of pieces) {
            const out = forwardCached(model, ids(rows.map((r) => r.slice(at, at + n))), cache);
            at += n;
            assertShape(
              out,
              { batch: 2, time: n, vocab: tiny.vocabSize },
              "forwardCached's logits",
            );
            check(
              cache.length === at,
              `after feeding ${at} tokens the cache says length ${cache.length}`,
            );
            assertShape(
              cache.layers[1].k!,
              { batch: 2, heads: tiny.nHead, time: at, dHead },
              `the keys cached by block 1 after ${at} tokens`,
            );
            outs.push(out);
          }
          // Measured: equal to 0 (the same float32 operations, row by row).
          assertAllClose(tf.concat(outs, 1), full, {
            rtol: 1e-5,
            atol: 1e-5,
            what: `the logits of tokens fed in pieces of [${pieces}] through one cache ` +
              `(${tieWeights ? "tied" : "untied"}) against forwardImproved on the whole ` +
              `sequence. Check: the new tokens' positions start at cache.length; each block's ` +
              `new keys and values are appended (tf.concat on axis 2) before attending; the ` +
              `mask is cachedMask(past, time)`,
          });
        } finally {
          resetKVCache(cache);
        }
      }
    });
  }
});

Deno.test("forwardCached refuses to pass the block size: a full cache cannot slide", () => {
  withModel(tiny, { seed: 13 }, (model) => {
    const cache = createKVCache(model);
    try {
      forwardCached(model, ids(randomTokens(1, 6, tiny.vocabSize, "full")), cache);
      const error = thrown(() => forwardCached(model, ids([[1, 2, 3]]), cache));
      check(
        error instanceof RangeError && error.message.includes(String(tiny.blockSize)),
        `6 cached and 3 new tokens pass the block size ${tiny.blockSize}: forwardCached should ` +
          `throw a RangeError that names it (wpe has no row 8, and sliding the cache would ` +
          `keep keys computed at old positions); got ${error ?? "no error"}`,
      );
      check(cache.length === 6, `a refused call changed the cache length to ${cache.length}`);
    } finally {
      resetKVCache(cache);
    }
  });
});

/** Uncached generation written in the test: forwardImproved on the cropped window, sampleFrom. */
function generateUncached(
  model: ImprovedModel,
  prompt: number[],
  opts: { maxNewTokens: number; temperature?: number; topK?: number; seed: number },
): number[] {
  const u = rng(opts.seed);
  const tokens = prompt.slice();
  for (let i = 0; i < opts.maxNewTokens; i++) {
    const window = tokens.slice(-model.config.blockSize);
    const logits = tf.tidy(() => {
      const out = forwardImproved(model, ids([window]));
      return tf.slice(out, [0, window.length - 1, 0], [1, 1, -1]).dataSync() as Float32Array;
    });
    tokens.push(sampleFrom(logits, opts, u));
  }
  return tokens;
}

Deno.test("generateCached writes exactly the tokens of uncached generation, across the block size", () => {
  // Four models (two tied), prompts shorter than, equal to and longer than the block size (8),
  // 14 new tokens (so every run passes the block size), greedy and sampled: 24 runs. Measured:
  // identical tokens in all of them; the cached logits equal the uncached ones to 0, so even
  // sampling draws the same.
  for (const [seed, tieWeights] of [[1, false], [2, true], [3, false], [4, true]] as const) {
    withModel({ ...tiny, tieWeights }, { seed: 20 + seed, std: 0.3 }, (model) => {
      for (const promptLength of [1, 8, 11]) {
        const prompt = randomTokens(1, promptLength, tiny.vocabSize, `prompt:${seed}`)[0];
        for (const sampling of [{ temperature: 0 }, { temperature: 0.8, topK: 5 }]) {
          const opts = { maxNewTokens: 14, seed, ...sampling };
          const heard: number[] = [];
          const cached = generateCached(model, prompt, {
            ...opts,
            onToken: (id, i) => heard[i] = id,
          });
          const expected = tieWeights
            ? generateUncached(model, prompt, opts)
            : generate(asMiniLLM(model), prompt, opts); // kata 13's reference
          const what = `${tieWeights ? "tied" : "untied"} model ${seed}, a prompt of ` +
            `${promptLength} tokens (block size ${tiny.blockSize}), 14 new tokens, ` +
            `${JSON.stringify(sampling)}`;
          check(
            cached.join() === expected.join(),
            `generateCached and uncached generation differ: ${what}.\n  cached:   ` +
              `[${cached}]\n  uncached: [${expected}]\nThe first difference is at index ` +
              `${cached.findIndex((t, i) => t !== expected[i])}. Past the block size the ` +
              `uncached loop reads the LAST blockSize tokens from position 0, so every step ` +
              `must read them afresh: a cache cannot slide.`,
          );
          check(
            heard.join() === cached.slice(promptLength).join(),
            `onToken heard [${heard}], the new tokens are [${cached.slice(promptLength)}]`,
          );
        }
      }
      const prompt = [1, 2, 3];
      const plain = generateCached(model, prompt, {
        maxNewTokens: 10,
        temperature: 0,
        cache: false,
      });
      const expected = generateUncached(model, prompt, {
        maxNewTokens: 10,
        temperature: 0,
        seed: 1,
      });
      check(
        plain.join() === expected.join(),
        `generateCached with cache: false gave [${plain}], expected [${expected}]`,
      );
    });
  }
});

Deno.test("no tensor leaks: initImproved leaves its variables only, the cache 2 tensors per block, generation none", () => {
  const tied = assertNoLeaks(() => initImproved({ ...tiny, tieWeights: true }, { seed: 31 }), {
    what: "initImproved with tied weights (dispose the head matrix initMiniLLM made)",
  });
  tf.dispose(improvedParameters(tied));
  withModel(tiny, { seed: 30 }, (model) => {
    const cache = createKVCache(model);
    const before = tf.memory().numTensors;
    try {
      for (let step = 0; step < 8; step++) {
        // Inside a tf.tidy, as a caller may do: the cache must survive it (tf.keep).
        tf.tidy(() => {
          forwardCached(model, ids([[step % tiny.vocabSize]]), cache); // the logits are freed
        });
        const held = tf.memory().numTensors - before;
        check(
          held === 2 * tiny.nLayer,
          `after ${step + 1} cached steps ${held} tensors are alive besides the model, expected ` +
            `2 per block (its keys and values) = ${2 * tiny.nLayer}: dispose the old keys and ` +
            `values when you store the longer ones, and tf.keep the new ones (a tf.tidy around ` +
            `the call would free them otherwise)`,
        );
        check(!cache.layers[0].k!.isDisposed, "a tf.tidy around forwardCached freed the cache");
      }
    } finally {
      resetKVCache(cache);
    }
    check(tf.memory().numTensors === before, "resetKVCache should free every cached tensor");
    assertNoLeaks(
      () => generateCached(model, [1, 2, 3], { maxNewTokens: 20, temperature: 0 }),
      { what: "generateCached (20 tokens, past the block size; free the cache at the end)" },
    );
  });
});
