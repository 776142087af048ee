/**
 * Tests of kata 09 · Transformer 块 · Transformer block.
 *
 * LayerNorm, GELU and the feed-forward network are checked against plain-JavaScript oracles in
 * float64; the block against its own parts (kata 08's reference attention and your LayerNorm and
 * feed-forward network), against the residual identity, and against finite differences.
 */
import { AssertionError } from "node:assert";
import {
  assertAllClose,
  assertGradients,
  assertNoLeaks,
  assertShape,
  normalRng,
  tf,
} from "../../lib/mod.ts";
import {
  block,
  type BlockParams,
  causalMask,
  feedForward,
  type FeedForwardParams,
  gelu,
  initBlock,
  layerNorm,
  multiHeadAttention,
} from "./mod.ts";

/** Wraps a test body in `tf.tidy`, so every tensor the test makes is freed, even when it fails. */
function tidy(body: () => void): () => void {
  return () => tf.tidy(body);
}

/** Throws `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new AssertionError({ message });
}

/** n seeded normal numbers times `scale`, each already a float32 value. */
function numbers(n: number, seed: string, scale = 1): number[] {
  const z = normalRng(seed);
  return Array.from({ length: n }, () => Math.fround(scale * z()));
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

// ---- float64 oracles ----

/** LayerNorm of each row of a flat [rows, n] list, population variance, ε inside the root. */
function layerNorm64(x: number[], n: number, gain: number[], bias: number[], eps = 1e-5) {
  const out: number[] = [];
  for (let r = 0; r < x.length / n; r++) {
    const row = x.slice(r * n, (r + 1) * n);
    const mean = row.reduce((s, v) => s + v, 0) / n;
    const variance = row.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
    row.forEach((v, i) => out.push(((v - mean) / Math.sqrt(variance + eps)) * gain[i] + bias[i]));
  }
  return out;
}

/** GPT-2's GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
function gelu64(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** x [rows, inSize] · w [inSize, outSize] + b, flat. */
function linear64(x: number[], w: number[], b: number[], inSize: number): number[] {
  const outSize = b.length, out: number[] = [];
  for (let r = 0; r < x.length / inSize; r++) {
    for (let o = 0; o < outSize; o++) {
      let s = b[o];
      for (let i = 0; i < inSize; i++) s += x[r * inSize + i] * w[i * outSize + o];
      out.push(s);
    }
  }
  return out;
}

/**
 * Random block parameters for C = embed as plain tensors: weights N(0, 1/fan-in), biases
 * N(0, 0.1²), LayerNorm γ near 1 and β near 0. `zeroOutputs` zeroes W_O, b_O, W_proj, b_proj.
 */
function randomBlock(embed: number, seed: string, zeroOutputs = false): BlockParams {
  const w = (rows: number, cols: number, name: string) =>
    tf.tensor2d(numbers(rows * cols, `${seed}:${name}`, 1 / Math.sqrt(rows)), [rows, cols]);
  const b = (n: number, name: string, scale = 0.1) =>
    tf.tensor1d(numbers(n, `${seed}:${name}`, scale));
  const gain = (name: string) => tf.add(1, b(embed, name)) as tf.Tensor1D;
  const zero = <T extends tf.Tensor>(t: T) => (zeroOutputs ? tf.zerosLike(t) : t);
  return {
    ln1: { gain: gain("g1"), bias: b(embed, "b1") },
    attn: {
      wQkv: w(embed, 3 * embed, "wqkv"),
      bQkv: b(3 * embed, "bqkv"),
      wO: zero(w(embed, embed, "wo")),
      bO: zero(b(embed, "bo")),
    },
    ln2: { gain: gain("g2"), bias: b(embed, "b2") },
    mlp: {
      wFc: w(embed, 4 * embed, "wfc"),
      bFc: b(4 * embed, "bfc"),
      wProj: zero(w(4 * embed, embed, "wproj")),
      bProj: zero(b(embed, "bproj")),
    },
  };
}

/** Every tensor of a block's parameters, in a fixed order, with names for messages. */
function flatten(p: BlockParams): [string, tf.Tensor][] {
  return [
    ["ln1.gain", p.ln1.gain],
    ["ln1.bias", p.ln1.bias],
    ["attn.wQkv", p.attn.wQkv],
    ["attn.bQkv", p.attn.bQkv],
    ["attn.wO", p.attn.wO],
    ["attn.bO", p.attn.bO],
    ["ln2.gain", p.ln2.gain],
    ["ln2.bias", p.ln2.bias],
    ["mlp.wFc", p.mlp.wFc],
    ["mlp.bFc", p.mlp.bFc],
    ["mlp.wProj", p.mlp.wProj],
    ["mlp.bProj", p.mlp.bProj],
  ];
}

/** The inverse of {@linkcode flatten}. */
function unflatten(t: tf.Tensor[]): BlockParams {
  const [g1, b1, wQkv, bQkv, wO, bO, g2, b2, wFc, bFc, wProj, bProj] = t;
  return {
    ln1: { gain: g1 as tf.Tensor1D, bias: b1 as tf.Tensor1D },
    attn: {
      wQkv: wQkv as tf.Tensor2D,
      bQkv: bQkv as tf.Tensor1D,
      wO: wO as tf.Tensor2D,
      bO: bO as tf.Tensor1D,
    },
    ln2: { gain: g2 as tf.Tensor1D, bias: b2 as tf.Tensor1D },
    mlp: {
      wFc: wFc as tf.Tensor2D,
      bFc: bFc as tf.Tensor1D,
      wProj: wProj as tf.Tensor2D,
      bProj: bProj as tf.Tensor1D,
    },
  };
}

/** x [batch, time, embed] whose positions have very different means and spreads. */
function unevenInput(batch: number, time: number, embed: number, seed: string): number[] {
  const z = numbers(batch * time * embed, seed);
  return z.map((v, i) => {
    const row = Math.floor(i / embed);
    return Math.fround((row - 2) * 3 + v * (0.5 + 2 * (row % 3)));
  });
}

// ---- LayerNorm ----

Deno.test(
  "layerNorm: each position's features get mean 0 and variance 1 (γ = 1, β = 0)",
  tidy(() => {
    const [batch, time, embed] = [2, 3, 8];
    const x = tf.tensor3d(unevenInput(batch, time, embed, "ln:x"), [batch, time, embed]);
    const y = layerNorm(x, { gain: tf.ones([embed]), bias: tf.zeros([embed]) });
    assertShape(y, { batch, time, embed }, "layerNorm(x) (it does not change the shape)");
    const { mean, variance } = tf.moments(y, -1);
    const hint = ": normalise over the LAST axis (each position's own features, keepDims so " +
      "that [batch, time, 1] broadcasts), not over the batch or the time axis; use the " +
      "population variance (divide by n, as PyTorch's LayerNorm), not n − 1";
    assertAllClose(mean, tf.zeros([batch, time]), {
      atol: 1e-5,
      what: `the mean of each position's output [batch, time]${hint}`,
    });
    // Measured: 0.99968..0.9999994 (ε = 1e-5 against the inputs' variances); means within 4e-7.
    // The n − 1 variance gives 0.875, normalising over another axis anything.
    assertAllClose(variance, tf.ones([batch, time]), {
      atol: 1e-3,
      what: `the variance of each position's output [batch, time]${hint}`,
    });
  }),
);

Deno.test(
  "layerNorm: (x − μ)/√(σ² + ε)·γ + β against a float64 oracle",
  tidy(() => {
    const [rows, embed] = [5, 6];
    // The last row varies by about 0.003 only: there ε = 1e-5 is comparable to σ² = 1e-5.
    const xs = unevenInput(1, rows, embed, "ln2:x").map((v, i) =>
      i < (rows - 1) * embed ? v : Math.fround(1 + 0.003 * v)
    );
    const gain = numbers(embed, "ln2:g", 2), bias = numbers(embed, "ln2:b");
    const y = layerNorm(tf.tensor2d(xs, [rows, embed]), {
      gain: tf.tensor1d(gain),
      bias: tf.tensor1d(bias),
    });
    assertAllClose(y, tf.tensor2d(layerNorm64(xs, embed, gain, bias), [rows, embed]), {
      rtol: 1e-4,
      atol: 1e-5,
      what: "layerNorm(x, γ, β) (γ multiplies and β adds AFTER normalising, feature by feature; " +
        "ε goes inside the root, √(σ² + ε), which matters where σ² is as small as ε: last row)",
    });
    // A constant vector has variance 0: ε keeps the division finite and the output is β.
    const flat = layerNorm(tf.fill([1, embed], 3.5), {
      gain: tf.tensor1d(gain),
      bias: tf.tensor1d(bias),
    });
    assertAllClose(flat, [bias], {
      atol: 1e-5,
      what: "layerNorm of a constant vector (σ² = 0: put ε INSIDE the square root, √(σ² + ε); " +
        "NaN means 0/0)",
    });
  }),
);

// ---- GELU and the feed-forward network ----

Deno.test(
  "gelu: GPT-2's tanh approximation, against a float64 oracle",
  tidy(() => {
    const xs = [-6, -3, -1, -0.5, 0, 0.5, 1, 3, 6, ...numbers(20, "gelu:x", 2)];
    const y = gelu(tf.tensor1d(xs));
    assertShape(y, { n: xs.length }, "gelu(x) (element by element)");
    assertAllClose(y, xs.map(gelu64), {
      rtol: 1e-5,
      atol: 1e-6,
      what: "gelu(x) = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (≈ x for large x, ≈ 0 for " +
        "very negative x, −0.159 at x = −1; not ReLU, whose kink breaks gradient checks, and " +
        "not the erf form, which differs by up to 5e-4)",
    });
  }),
);

Deno.test(
  "feedForward: embed → 4·embed → embed, GELU in between, against a float64 oracle",
  tidy(() => {
    const [rows, embed] = [3, 4];
    const hidden = 4 * embed;
    const xs = numbers(rows * embed, "ffn:x");
    const [wFc, bFc, wProj, bProj] = [
      numbers(embed * hidden, "ffn:wfc", 0.5),
      numbers(hidden, "ffn:bfc", 0.1),
      numbers(hidden * embed, "ffn:wproj", 0.25),
      numbers(embed, "ffn:bproj", 0.1),
    ];
    const p: FeedForwardParams = {
      wFc: tf.tensor2d(wFc, [embed, hidden]),
      bFc: tf.tensor1d(bFc),
      wProj: tf.tensor2d(wProj, [hidden, embed]),
      bProj: tf.tensor1d(bProj),
    };
    const h = linear64(xs, wFc, bFc, embed).map(gelu64);
    const expected = linear64(h, wProj, bProj, hidden);
    const y = feedForward(tf.tensor3d(xs, [1, rows, embed]), p);
    assertShape(y, { batch: 1, time: rows, embed }, "feedForward(x [1, 3, 4])");
    assertAllClose(y, tf.tensor3d(expected, [1, rows, embed]), {
      rtol: 1e-4,
      atol: 1e-5,
      what: "feedForward(x) = GELU(x·W_fc + b_fc)·W_proj + b_proj",
    });
  }),
);

// ---- initialisation ----

Deno.test(
  "initBlock: the shapes, 12C² + 13C parameters, γ = 1, β = 0, seeded weights",
  tidy(() => {
    for (const [embed, nHead] of [[8, 2], [16, 4]]) {
      const p = initBlock({ nEmbd: embed, nHead }, { seed: 5, std: 0.02, projStd: 0.005 });
      const c = embed,
        named: Record<string, [tf.Tensor, Record<string, number>]> = {
          "ln1.gain": [p.ln1.gain, { embed: c }],
          "ln1.bias": [p.ln1.bias, { embed: c }],
          "attn.wQkv": [p.attn.wQkv, { embed: c, qkv: 3 * c }],
          "attn.bQkv": [p.attn.bQkv, { qkv: 3 * c }],
          "attn.wO": [p.attn.wO, { embed: c, out: c }],
          "attn.bO": [p.attn.bO, { embed: c }],
          "ln2.gain": [p.ln2.gain, { embed: c }],
          "ln2.bias": [p.ln2.bias, { embed: c }],
          "mlp.wFc": [p.mlp.wFc, { embed: c, hidden: 4 * c }],
          "mlp.bFc": [p.mlp.bFc, { hidden: 4 * c }],
          "mlp.wProj": [p.mlp.wProj, { hidden: 4 * c, embed: c }],
          "mlp.bProj": [p.mlp.bProj, { embed: c }],
        };
      for (const [name, [t, shape]] of Object.entries(named)) {
        assertShape(t, shape, `initBlock(C = ${c}).${name} (the FFN is 4C wide)`);
        check(t instanceof tf.Variable, `initBlock(...).${name} must be a tf.Variable`);
      }
      const count = flatten(p).reduce((s, [, t]) => s + t.size, 0);
      // LN 2C + 2C; attention 3C² + 3C + C² + C; FFN 4C² + 4C + 4C² + C.
      check(
        count === 12 * c * c + 13 * c,
        `initBlock(C = ${c}) has ${count} parameters, expected 12C² + 13C = ` +
          `${12 * c * c + 13 * c}: attention 4C² + 4C, feed-forward 8C² + 5C, LayerNorms 4C`,
      );
      for (const [name, t] of flatten(p)) {
        const v = values(t);
        if (name.endsWith("gain")) {
          check(v.every((x) => x === 1), `${name} must start at 1 (LayerNorm's gain γ)`);
        } else if (!name.includes(".w")) {
          check(v.every((x) => x === 0), `${name} must start at 0 (a bias or β)`);
        }
      }
      const std = (t: tf.Tensor) => Math.sqrt(tf.moments(t).variance.dataSync()[0]);
      // Measured: within 6% of the requested std (192..4096 samples each); a wrong std is 4x off.
      for (
        const [name, t, want] of [
          ["attn.wQkv", p.attn.wQkv, 0.02],
          ["mlp.wFc", p.mlp.wFc, 0.02],
          ["attn.wO", p.attn.wO, 0.005],
          ["mlp.wProj", p.mlp.wProj, 0.005],
        ] as const
      ) {
        const got = std(t);
        check(
          Math.abs(got / want - 1) < 0.2,
          `${name} has standard deviation ${got.toPrecision(3)}, expected ${want} ` +
            `(W_QKV and W_fc use std, the output projections W_O and W_proj use projStd)`,
        );
      }
      const again = initBlock({ nEmbd: embed, nHead }, { seed: 5, std: 0.02, projStd: 0.005 });
      assertAllClose(again.mlp.wFc, p.mlp.wFc, {
        rtol: 0,
        atol: 0,
        what: "W_fc of two initBlock calls with the same seed (seed every random tensor)",
      });
      const other = initBlock({ nEmbd: embed, nHead }, { seed: 6 });
      check(
        values(other.mlp.wFc)[0] !== values(p.mlp.wFc)[0],
        "initBlock with another seed gave the same W_fc: derive each weight's seed from `seed`",
      );
      // The same seed gives the same stream of numbers whatever the shape: compare W_fc/std with
      // W_proj/projStd.
      const fc = values(p.mlp.wFc).slice(0, 8).map((v) => (v / 0.02).toFixed(3));
      const proj = values(p.mlp.wProj).slice(0, 8).map((v) => (v / 0.005).toFixed(3));
      check(
        fc.join() !== proj.join() && values(p.mlp.wFc)[0] !== values(p.attn.wQkv)[0],
        "two weights of the block start with the same random numbers: give every weight its " +
          "own seed (seedSequence(seed) yields a new one on each call)",
      );
      tf.dispose(flatten(again).concat(flatten(other)).concat(flatten(p)).map(([, t]) => t));
    }
  }),
);

// ---- the block ----

Deno.test(
  "block: x [batch, time, embed] in, the same shape out",
  tidy(() => {
    for (const [batch, time, embed, nHead] of [[2, 5, 8, 2], [1, 1, 4, 1], [3, 4, 12, 3]]) {
      const x = tf.tensor3d(numbers(batch * time * embed, "shape:x"), [batch, time, embed]);
      assertShape(
        block(x, randomBlock(embed, "shape"), { nHead, mask: causalMask(time) }),
        { batch, time, embed },
        `block(x [${batch}, ${time}, ${embed}]) with ${nHead} heads (a residual block keeps ` +
          `the shape: it adds to x)`,
      );
    }
  }),
);

Deno.test(
  "block: with W_O, b_O, W_proj and b_proj zeroed, the block is the identity (the residual path)",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 4, 8, 2];
    const x = tf.tensor3d(unevenInput(batch, time, embed, "id:x"), [batch, time, embed]);
    const y = block(x, randomBlock(embed, "id", true), { nHead, mask: causalMask(time) });
    // Measured: exactly x (the sub-layers add exact zeros).
    assertAllClose(y, x, {
      rtol: 0,
      atol: 1e-6,
      what: "block(x) with both output projections zero. Each sub-layer's output is then 0, so " +
        "a pre-LN block x + f(LN(x)) returns x unchanged. A post-LN block LN(x + f(x)), the " +
        "original Transformer's, would return LN(x): the residual path would not be clean",
    });
  }),
);

Deno.test(
  "block = x + MHA(LN₁(x)), then a + FFN(LN₂(a)): the pre-LN order, against its parts",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 5, 8, 2];
    const x = tf.tensor3d(numbers(batch * time * embed, "order:x"), [batch, time, embed]);
    const p = randomBlock(embed, "order");
    const mask = causalMask(time);
    const a = tf.add(x, multiHeadAttention(layerNorm(x, p.ln1), p.attn, { nHead, mask }));
    const expected = tf.add(a, feedForward(layerNorm(a, p.ln2), p.mlp));
    assertAllClose(block(x, p, { nHead, mask }), expected, {
      rtol: 1e-4,
      atol: 1e-5,
      what: "block(x) against a = x + MHA(LN₁(x)); a + FFN(LN₂(a)), built from your layerNorm " +
        "and feedForward and kata 08's attention. Check: LN₁ before attention and LN₂ before " +
        "the FFN (not after the sum); the FFN reads a, not x; both sums are residual (x + ...)",
    });
  }),
);

Deno.test(
  "block: causality preserved — changing token t changes no output before t",
  tidy(() => {
    const [time, embed, nHead] = [6, 8, 2];
    const xs = numbers(time * embed, "causal:x");
    const p = randomBlock(embed, "causal");
    const mask = causalMask(time);
    const out = values(block(tf.tensor3d(xs, [1, time, embed]), p, { nHead, mask }));
    for (const t of [1, 4]) {
      const changed = xs.slice();
      numbers(embed, `causal:other:${t}`).forEach((v, e) => (changed[t * embed + e] = v));
      const out2 = values(block(tf.tensor3d(changed, [1, time, embed]), p, { nHead, mask }));
      const per = Array.from(
        { length: time },
        (_, i) =>
          Math.max(
            ...out.slice(i * embed, (i + 1) * embed).map((v, e) =>
              Math.abs(v - out2[i * embed + e])
            ),
          ),
      );
      // Measured: exactly 0 before t; 4.0 and 5.2 at t.
      check(
        per.slice(0, t).every((d) => d <= 1e-6) && per[t] > 1e-2,
        `changing token ${t} changed the block's outputs by ${
          per.map((d) => d.toExponential(1)).join(", ")
        } (position by position): expected 0 before ${t} and a change at ${t}. LayerNorm and ` +
          `the FFN work on each position alone; only attention mixes positions, and only ` +
          `under the mask. Pass the mask to the attention.`,
      );
    }
  }),
);

// ---- gradients and memory ----

Deno.test(
  "gradient check: layerNorm with respect to x, γ and β",
  tidy(() => {
    const [rows, embed] = [4, 6];
    const x = tf.tensor2d(unevenInput(1, rows, embed, "glnx").map((v) => v / 4), [rows, embed]);
    const gain = tf.tensor1d(numbers(embed, "gln:g", 1));
    const bias = tf.tensor1d(numbers(embed, "gln:b"));
    const r = tf.tensor2d(numbers(rows * embed, "gln:r"), [rows, embed]);
    // Measured relative error of the reference: 1.1e-4 on wasm and cpu (threshold 1e-3).
    assertGradients(
      (x, gain, bias) =>
        tf.sum(tf.mul(layerNorm(x, { gain: gain as tf.Tensor1D, bias: bias as tf.Tensor1D }), r)),
      [x, gain, bias],
      { names: ["x", "γ", "β"] },
    );
  }),
);

Deno.test(
  "gradient check: the block with respect to x and all twelve parameter tensors",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 3, 8, 2];
    const x = tf.tensor3d(numbers(batch * time * embed, "grad:x"), [batch, time, embed]);
    const r = tf.tensor3d(numbers(batch * time * embed, "grad:r"), [batch, time, embed]);
    const params = flatten(randomBlock(embed, "grad"));
    const mask = causalMask(time);
    const loss = (...t: tf.Tensor[]): tf.Scalar =>
      tf.sum(tf.mul(block(t[0] as tf.Tensor3D, unflatten(t.slice(1)), { nHead, mask }), r));
    // Measured relative error of the reference: 3e-5 on wasm, 1e-5 on cpu (threshold 1e-3).
    assertGradients(loss, [x, ...params.map(([, t]) => t)], {
      names: ["x", ...params.map(([name]) => name)],
      maxCoords: 10,
      seed: 9,
    });
  }),
);

Deno.test(
  "memory: layerNorm, gelu, feedForward and block leave only their result",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 3, 8, 2];
    const x = tf.tensor3d(numbers(batch * time * embed, "mem:x"), [batch, time, embed]);
    const p = randomBlock(embed, "mem");
    const mask = causalMask(time);
    assertNoLeaks(() => layerNorm(x, p.ln1), {
      what: "layerNorm (the mean, variance and centred x are intermediates: use tf.tidy)",
    });
    assertNoLeaks(() => gelu(x), { what: "gelu" });
    assertNoLeaks(() => feedForward(x, p.mlp), { what: "feedForward" });
    assertNoLeaks(() => block(x, p, { nHead, mask }), { what: "block" });
    const fresh = assertNoLeaks(() => initBlock({ nEmbd: embed, nHead }, { seed: 1 }), {
      what: "initBlock (it may keep its variables, nothing else)",
    });
    tf.dispose(flatten(fresh).map(([, t]) => t));
  }),
);
