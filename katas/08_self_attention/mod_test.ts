/**
 * Tests of kata 08 · 自注意力机制 · Self-attention.
 *
 * Values are checked against plain-JavaScript oracles in float64; the properties that make
 * attention what it is (rows that sum to 1, a mask that hides the future exactly, permutation
 * equivariance without it) are checked on their own, and gradients against finite differences.
 */
import { AssertionError } from "node:assert";
import {
  assertAllClose,
  assertGradients,
  assertNoLeaks,
  assertShape,
  dims,
  normalRng,
  permutation,
  tf,
} from "../../lib/mod.ts";
import {
  attention,
  type AttentionParams,
  attentionWeights,
  causalMask,
  mergeHeads,
  multiHeadAttention,
  splitHeads,
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

/** The largest |a − b| over two equally long lists. */
function maxDiff(a: number[], b: number[]): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

// ---- float64 oracles ----

function softmax64(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
}

/**
 * softmax(Q·Kᵀ·scale + M) for one matrix pair: q, k flat [time, d], row by row. With `causal`,
 * token i sees tokens 0..i only.
 */
function weights64(
  q: number[],
  k: number[],
  time: number,
  d: number,
  { causal = false, scale = 1 / Math.sqrt(d) } = {},
): number[][] {
  return Array.from({ length: time }, (_, i) => {
    const seen = causal ? i + 1 : time;
    const scores = Array.from({ length: seen }, (_, j) => {
      let s = 0;
      for (let e = 0; e < d; e++) s += q[i * d + e] * k[j * d + e];
      return s * scale;
    });
    const w = softmax64(scores);
    return Array.from({ length: time }, (_, j) => (j < seen ? w[j] : 0));
  });
}

/** The parameters of multi-head attention as flat float64 lists, and as tensors. */
interface Layer {
  wQkv: number[];
  bQkv: number[];
  wO: number[];
  bO: number[];
  tensors: AttentionParams;
}

/** Random parameters for C = embed: weights N(0, 1/C), biases N(0, 0.1²). */
function randomLayer(embed: number, seed: string): Layer {
  const std = 1 / Math.sqrt(embed);
  const wQkv = numbers(embed * 3 * embed, `${seed}:wqkv`, std);
  const bQkv = numbers(3 * embed, `${seed}:bqkv`, 0.1);
  const wO = numbers(embed * embed, `${seed}:wo`, std);
  const bO = numbers(embed, `${seed}:bo`, 0.1);
  return {
    wQkv,
    bQkv,
    wO,
    bO,
    tensors: {
      wQkv: tf.tensor2d(wQkv, [embed, 3 * embed]),
      bQkv: tf.tensor1d(bQkv),
      wO: tf.tensor2d(wO, [embed, embed]),
      bO: tf.tensor1d(bO),
    },
  };
}

/**
 * Multi-head attention in float64, written out loop by loop: x [batch, time, embed] flat. Q, K, V
 * are the column blocks 0, 1, 2 of x·W_QKV + b_QKV; head h uses columns h·d..(h+1)·d−1 of each
 * block, with scale 1/√d; the heads' outputs sit side by side and go through W_O.
 */
function mha64(
  x: number[],
  [batch, time, embed]: number[],
  nHead: number,
  p: Layer,
  causal: boolean,
): number[] {
  const d = embed / nHead, c3 = 3 * embed;
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const qkv = Array.from({ length: time }, (_, t) =>
      Array.from({ length: c3 }, (_, j) => {
        let s = p.bQkv[j];
        for (let c = 0; c < embed; c++) s += x[(b * time + t) * embed + c] * p.wQkv[c * c3 + j];
        return s;
      }));
    const y = Array.from({ length: time }, () => new Array(embed).fill(0));
    for (let h = 0; h < nHead; h++) {
      const part = (block: number) =>
        qkv.flatMap((row) => row.slice(block * embed + h * d, block * embed + (h + 1) * d));
      const w = weights64(part(0), part(1), time, d, { causal });
      const v = part(2);
      for (let i = 0; i < time; i++) {
        for (let e = 0; e < d; e++) {
          for (let j = 0; j < time; j++) y[i][h * d + e] += w[i][j] * v[j * d + e];
        }
      }
    }
    for (let t = 0; t < time; t++) {
      for (let o = 0; o < embed; o++) {
        let s = p.bO[o];
        for (let c = 0; c < embed; c++) s += y[t][c] * p.wO[c * embed + o];
        out.push(s);
      }
    }
  }
  return out;
}

// ---- the causal mask ----

Deno.test(
  "causalMask: 0 where token i may look (j ≤ i), −∞ where it must not (j > i)",
  tidy(() => {
    for (const time of [1, 2, 5]) {
      const m = causalMask(time);
      assertShape(m, { queries: time, keys: time }, `causalMask(${time})`);
      const v = values(m);
      for (let i = 0; i < time; i++) {
        for (let j = 0; j < time; j++) {
          const got = v[i * time + j];
          const ok = j <= i ? got === 0 : got === -Infinity || got <= -1e9;
          check(
            ok,
            `causalMask(${time})[${i}][${j}] is ${got}, expected ${j <= i ? "0" : "−∞"}: the ` +
              `mask is ADDED to the scores, so 0 keeps a score and −∞ removes it (e^(−∞) = 0 ` +
              `after the softmax). Row i is the query token; it may see the keys j ≤ i.`,
          );
        }
      }
    }
  }),
);

// ---- attention weights ----

Deno.test(
  "attentionWeights: [..., time, time] for q, k [..., time, dHead], and every row sums to 1",
  tidy(() => {
    const [batch, heads, time, dHead] = [2, 3, 5, 4];
    const shape = [batch, heads, time, dHead];
    const q = tf.tensor4d(numbers(batch * heads * time * dHead, "rows:q"), [
      batch,
      heads,
      time,
      dHead,
    ]);
    const k = tf.tensor4d(numbers(batch * heads * time * dHead, "rows:k"), [
      batch,
      heads,
      time,
      dHead,
    ]);
    const w = attentionWeights(q, k);
    assertShape(
      w,
      { batch, heads, queries: time, keys: time },
      `attentionWeights(q, k) for q, k [${shape}] (one weight per query and key: Q·Kᵀ ` +
        `multiplies q [time, dHead] by kᵀ [dHead, time])`,
    );
    assertAllClose(tf.sum(w, -1), tf.ones([batch, heads, time]), {
      atol: 1e-5,
      what: "the sum of each row of the weights (softmax over the LAST axis: the keys)",
    });
    const masked = attentionWeights(q, k, causalMask(time));
    assertAllClose(tf.sum(masked, -1), tf.ones([batch, heads, time]), {
      atol: 1e-5,
      what: "the sum of each row of the weights with the causal mask",
    });
    const w2 = attentionWeights(
      tf.tensor2d(numbers(6 * 8, "rows:q2"), [6, 8]),
      tf.tensor2d(numbers(6 * 8, "rows:k2"), [6, 8]),
    );
    assertShape(w2, { queries: 6, keys: 6 }, "attentionWeights(q, k) for 2-D q, k [6, 8]");
    assertAllClose(tf.sum(w2, -1), tf.ones([6]), { atol: 1e-5, what: "row sums, 2-D input" });
  }),
);

Deno.test(
  "attentionWeights = softmax(Q·Kᵀ/√d_k + M), against a float64 oracle",
  tidy(() => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { time, d } = dims({ time: [1, 7], d: [1, 16] }, `weights:${seed}`);
      const qs = numbers(time * d, `weights:q:${seed}`);
      const ks = numbers(time * d, `weights:k:${seed}`);
      const q = tf.tensor2d(qs, [time, d]), k = tf.tensor2d(ks, [time, d]);
      for (const causal of [false, true]) {
        const got = attentionWeights(q, k, causal ? causalMask(time) : undefined);
        assertAllClose(got, weights64(qs, ks, time, d, { causal }), {
          rtol: 1e-4,
          atol: 1e-6,
          what:
            `attentionWeights for q, k [time=${time}, dHead=${d}] ${
              causal ? "with" : "without"
            } the causal mask (seed ${seed}). Scores are Q·Kᵀ (transpose K, not Q), divided by ` +
            `√d_k (the square root of q's last dimension, not d_k itself), plus the mask, then ` +
            `softmax over each row`,
        });
      }
    }
  }),
);

Deno.test(
  "the 1/√d_k scale matters: with d_k = 64, unscaled scores saturate the softmax",
  tidy(() => {
    const time = 16, d = 64;
    const qs = numbers(time * d, "scale:q"), ks = numbers(time * d, "scale:k");
    const meanMax = (w: number[][]) => w.reduce((s, row) => s + Math.max(...row), 0) / time;
    const scaled = meanMax(weights64(qs, ks, time, d));
    const unscaled = meanMax(weights64(qs, ks, time, d, { scale: 1 }));
    const w = attentionWeights(tf.tensor2d(qs, [time, d]), tf.tensor2d(ks, [time, d]));
    const rows = w.arraySync() as number[][];
    const yours = meanMax(rows);
    // Measured: 0.201 with the scale, 0.800 without (q·k of unit-variance vectors has variance
    // d_k = 64, standard deviation 8); the float32 result matches the float64 one to 1e-8. The
    // band 0.02 is far from the unscaled value and wide for rounding.
    check(
      Math.abs(yours - scaled) < 0.02,
      `the mean of each row's largest weight is ${yours.toFixed(3)}; softmax(Q·Kᵀ/√d_k) gives ` +
        `${scaled.toFixed(3)}, softmax(Q·Kᵀ) gives ${unscaled.toFixed(3)}. Without the scale, ` +
        `the dot product of two d_k-dimensional vectors of unit variance has variance d_k: the ` +
        `scores spread over ±${(2 * Math.sqrt(d)).toFixed(0)}, one key takes almost all of each ` +
        `row, and the softmax's gradient vanishes. Divide the scores by √d_k.`,
    );
  }),
);

Deno.test(
  "masked weights are exactly 0: the first token sees only itself, token i only tokens ≤ i",
  tidy(() => {
    const time = 6, d = 4;
    const q = tf.tensor3d(numbers(2 * time * d, "mask:q", 3), [2, time, d]);
    const k = tf.tensor3d(numbers(2 * time * d, "mask:k", 3), [2, time, d]);
    const w = attentionWeights(q, k, causalMask(time));
    assertShape(w, { batch: 2, queries: time, keys: time }, "attentionWeights with the mask");
    const v = values(w);
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < time; i++) {
        for (let j = i + 1; j < time; j++) {
          const got = v[(b * time + i) * time + j];
          check(
            got === 0,
            `weight [${b}][${i}][${j}] is ${got}: token ${i} must give the future token ${j} ` +
              `weight exactly 0. Add the mask to the scores BEFORE the softmax (masking ` +
              `afterwards leaves rows that no longer sum to 1).`,
          );
        }
      }
      check(
        v[b * time * time] === 1,
        `weight [${b}][0][0] is ${v[b * time * time]}: the first token can only attend to ` +
          `itself, so its row is [1, 0, 0, ...]`,
      );
    }
  }),
);

Deno.test(
  "attention = A·V: [..., time, dHead], against a float64 oracle",
  tidy(() => {
    const [batch, time, d] = [2, 5, 3];
    const [qs, ks, vs] = ["q", "k", "v"].map((n) => numbers(batch * time * d, `av:${n}`));
    const t = (xs: number[]) => tf.tensor3d(xs, [batch, time, d]);
    for (const causal of [false, true]) {
      const out = attention(t(qs), t(ks), t(vs), causal ? causalMask(time) : undefined);
      const what = `attention(q, k, v${causal ? ", causalMask" : ""}) for q, k, v ` +
        `[batch=${batch}, time=${time}, dHead=${d}]`;
      assertShape(out, { batch, time, dHead: d }, what);
      const expected: number[] = [];
      for (let b = 0; b < batch; b++) {
        const part = (xs: number[]) => xs.slice(b * time * d, (b + 1) * time * d);
        const w = weights64(part(qs), part(ks), time, d, { causal });
        const v = part(vs);
        for (let i = 0; i < time; i++) {
          for (let e = 0; e < d; e++) {
            expected.push(w[i].reduce((s, wij, j) => s + wij * v[j * d + e], 0));
          }
        }
      }
      assertAllClose(out, tf.tensor3d(expected, [batch, time, d]), {
        rtol: 1e-4,
        atol: 1e-6,
        what: `${what}: each output row is the weighted mean of the value rows`,
      });
    }
  }),
);

// ---- heads ----

Deno.test(
  "splitHeads gives head h the features h·dHead..(h+1)·dHead−1; mergeHeads undoes it",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 3, 8, 4];
    const dHead = embed / nHead;
    const xs = Array.from({ length: batch * time * embed }, (_, i) => i);
    const x = tf.tensor3d(xs, [batch, time, embed]);
    const heads = splitHeads(x, nHead);
    assertShape(
      heads,
      { batch, heads: nHead, time, dHead },
      `splitHeads(x [batch=${batch}, time=${time}, embed=${embed}], ${nHead})`,
    );
    const v = values(heads);
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < nHead; h++) {
        for (let t = 0; t < time; t++) {
          for (let e = 0; e < dHead; e++) {
            const got = v[((b * nHead + h) * time + t) * dHead + e];
            const want = xs[(b * time + t) * embed + h * dHead + e];
            check(
              got === want,
              `splitHeads(x)[${b}][${h}][${t}][${e}] is ${got}, expected x[${b}][${t}]` +
                `[${h * dHead + e}] = ${want}. Reshape [batch, time, embed] to [batch, time, ` +
                `heads, dHead], THEN transpose to [batch, heads, time, dHead]: a reshape ` +
                `straight to [batch, heads, time, dHead] mixes tokens into heads.`,
            );
          }
        }
      }
    }
    const back = mergeHeads(heads);
    assertShape(back, { batch, time, embed }, "mergeHeads(splitHeads(x))");
    assertAllClose(back, x, { rtol: 0, atol: 0, what: "mergeHeads(splitHeads(x)) (must be x)" });
  }),
);

// ---- multi-head attention ----

Deno.test(
  "multiHeadAttention: x [batch, time, embed] in, [batch, time, embed] out",
  tidy(() => {
    for (const [batch, time, embed, nHead] of [[2, 5, 8, 2], [1, 3, 12, 3], [3, 1, 4, 1]]) {
      const x = tf.tensor3d(numbers(batch * time * embed, "shape:x"), [batch, time, embed]);
      const layer = randomLayer(embed, "shape");
      for (const mask of [undefined, causalMask(time)]) {
        assertShape(
          multiHeadAttention(x, layer.tensors, { nHead, mask }),
          { batch, time, embed },
          `multiHeadAttention of x [batch=${batch}, time=${time}, embed=${embed}], ${nHead} heads`,
        );
      }
    }
  }),
);

Deno.test(
  "multiHeadAttention against a float64 oracle: fused W_QKV, each head scaled by 1/√d_head, W_O",
  tidy(() => {
    for (const seed of [1, 2, 3]) {
      const { batch, time, nHead, dHead } = dims(
        { batch: [1, 3], time: [1, 6], nHead: [1, 4], dHead: [1, 4] },
        `mha:${seed}`,
      );
      const embed = nHead * dHead;
      const xs = numbers(batch * time * embed, `mha:x:${seed}`);
      const layer = randomLayer(embed, `mha:${seed}`);
      const x = tf.tensor3d(xs, [batch, time, embed]);
      for (const causal of [false, true]) {
        const got = multiHeadAttention(x, layer.tensors, {
          nHead,
          mask: causal ? causalMask(time) : undefined,
        });
        const expected = mha64(xs, [batch, time, embed], nHead, layer, causal);
        assertAllClose(got, tf.tensor3d(expected, [batch, time, embed]), {
          rtol: 1e-4,
          atol: 1e-5,
          what: `multiHeadAttention, x [batch=${batch}, time=${time}, embed=${embed}], ` +
            `${nHead} heads of ${dHead}, ${causal ? "causal" : "no mask"} (seed ${seed}). ` +
            `Check: Q, K, V are the column blocks 0, 1, 2 of x·W_QKV + b_QKV; the scale is ` +
            `1/√d_head (the seed's 1/√embed is right only for one head); the mask reaches ` +
            `every head; the heads are merged before W_O`,
        });
      }
    }
  }),
);

/** x [1, time, embed] with the vector of token `t` replaced by another one. */
function changeToken(xs: number[], time: number, embed: number, t: number): tf.Tensor3D {
  const changed = xs.slice();
  const other = numbers(embed, `other:${t}`);
  for (let e = 0; e < embed; e++) changed[t * embed + e] = other[e];
  return tf.tensor3d(changed, [1, time, embed]);
}

/** The largest change of each output row between two [1, time, embed] outputs. */
function rowChanges(a: tf.Tensor, b: tf.Tensor, time: number, embed: number): number[] {
  const va = values(a), vb = values(b);
  return Array.from(
    { length: time },
    (_, i) => maxDiff(va.slice(i * embed, (i + 1) * embed), vb.slice(i * embed, (i + 1) * embed)),
  );
}

Deno.test(
  "causality: with the causal mask, changing token t changes no output before t, and does change t",
  tidy(() => {
    const [time, embed, nHead] = [6, 8, 2];
    const xs = numbers(time * embed, "causal:x");
    const x = tf.tensor3d(xs, [1, time, embed]);
    const { tensors } = randomLayer(embed, "causal");
    const mask = causalMask(time);
    const out = multiHeadAttention(x, tensors, { nHead, mask });
    for (const t of [0, 2, 5]) {
      const changes = rowChanges(
        out,
        multiHeadAttention(changeToken(xs, time, embed, t), tensors, { nHead, mask }),
        time,
        embed,
      );
      const shown = changes.map((c) => c.toExponential(1)).join(", ");
      // Measured: exactly 0 before t (masked weights are exactly 0); 0.55..2.5 at t.
      check(
        changes.slice(0, t).every((c) => c <= 1e-6),
        `changing token ${t} changed the outputs before it (largest change per position: ` +
          `${shown}). A language model that sees the future learns to copy the next token ` +
          `instead of predicting it. Is the mask added to every head's scores?`,
      );
      check(
        changes[t] > 1e-2,
        `changing token ${t} did not change its own output (largest change per position: ` +
          `${shown}): is the mask hiding the diagonal too (j ≤ i must stay visible)?`,
      );
    }
  }),
);

Deno.test(
  "the seed's attention has no mask: then changing the last token changes the first output",
  tidy(() => {
    const [time, embed, nHead] = [5, 8, 2];
    const xs = numbers(time * embed, "seed:x");
    const { tensors } = randomLayer(embed, "seed");
    const out = multiHeadAttention(tf.tensor3d(xs, [1, time, embed]), tensors, { nHead });
    const changed = multiHeadAttention(changeToken(xs, time, embed, time - 1), tensors, { nHead });
    const changes = rowChanges(out, changed, time, embed);
    // Measured: the first output moves by 0.77 when the last token changes (1e-2 is the bar).
    check(
      changes[0] > 1e-2,
      `without a mask (mask undefined), every token sees every other one, so changing the last ` +
        `token must change the first output; it moved by only ${changes[0].toExponential(1)}. ` +
        `Apply the mask only when one is given.`,
    );
  }),
);

Deno.test(
  "without the mask, permuting the tokens permutes the outputs the same way; with it, no",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 5, 8, 2];
    const xs = numbers(batch * time * embed, "perm:x");
    const { tensors } = randomLayer(embed, "perm");
    const order = permutation(time, "perm:order"); // new position i holds old token order[i]
    const idx = tf.tensor1d(order, "int32");
    const x = tf.tensor3d(xs, [batch, time, embed]);
    const permuted = tf.gather(x, idx, 1) as tf.Tensor3D;
    const out = multiHeadAttention(x, tensors, { nHead });
    // Measured: equal to 2e-7 (float32 rounding of sums taken in another order).
    assertAllClose(multiHeadAttention(permuted, tensors, { nHead }), tf.gather(out, idx, 1), {
      rtol: 1e-4,
      atol: 1e-5,
      what: `multiHeadAttention(x permuted by [${order}]) against its output on x, permuted the ` +
        `same way. Without a mask, attention treats the tokens as a set: nothing in it knows ` +
        `where a token stands (kata 10 adds positions)`,
    });
    const mask = causalMask(time);
    const outMasked = values(tf.gather(multiHeadAttention(x, tensors, { nHead, mask }), idx, 1));
    const permMasked = values(multiHeadAttention(permuted, tensors, { nHead, mask }));
    // Measured: they differ by 1.8 (1e-2 is the bar).
    check(
      maxDiff(outMasked, permMasked) > 1e-2,
      "with the causal mask, permuting the tokens should NOT simply permute the outputs (a " +
        "token sees a different past after the permutation); it did: is the mask used?",
    );
  }),
);

// ---- gradients and memory ----

Deno.test(
  "gradient check: attention with respect to q, k and v (causal)",
  tidy(() => {
    const [batch, time, d] = [2, 4, 3];
    const [q, k, v, r] = ["q", "k", "v", "r"].map((n) =>
      tf.tensor3d(numbers(batch * time * d, `gq:${n}`), [batch, time, d])
    );
    const mask = causalMask(time);
    // Measured relative error of the reference: 7e-6 on wasm, 5e-6 on cpu (threshold 1e-3).
    assertGradients((q, k, v) => tf.sum(tf.mul(attention(q, k, v, mask), r)), [q, k, v], {
      names: ["q", "k", "v"],
    });
  }),
);

Deno.test(
  "gradient check: the whole layer with respect to x, W_QKV, b_QKV, W_O and b_O (causal)",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 4, 8, 2];
    const x = tf.tensor3d(numbers(batch * time * embed, "grad:x"), [batch, time, embed]);
    const r = tf.tensor3d(numbers(batch * time * embed, "grad:r"), [batch, time, embed]);
    const { tensors: p } = randomLayer(embed, "grad");
    const mask = causalMask(time);
    const loss = (
      x: tf.Tensor,
      wQkv: tf.Tensor,
      bQkv: tf.Tensor,
      wO: tf.Tensor,
      bO: tf.Tensor,
    ): tf.Scalar =>
      tf.sum(tf.mul(
        multiHeadAttention(x as tf.Tensor3D, {
          wQkv: wQkv as tf.Tensor2D,
          bQkv: bQkv as tf.Tensor1D,
          wO: wO as tf.Tensor2D,
          bO: bO as tf.Tensor1D,
        }, { nHead, mask }),
        r,
      ));
    // Measured relative error of the reference: 5e-6 on wasm, 3e-6 on cpu (threshold 1e-3).
    assertGradients(loss, [x, p.wQkv, p.bQkv, p.wO, p.bO], {
      names: ["x", "W_QKV", "b_QKV", "W_O", "b_O"],
      maxCoords: 40,
      seed: 8,
    });
  }),
);

Deno.test(
  "memory: every function leaves only its result",
  tidy(() => {
    const [batch, time, embed, nHead] = [2, 4, 8, 2];
    const x = tf.tensor3d(numbers(batch * time * embed, "mem:x"), [batch, time, embed]);
    const { tensors } = randomLayer(embed, "mem");
    const mask = assertNoLeaks(() => causalMask(time), { what: "causalMask" });
    const q = assertNoLeaks(() => splitHeads(x, nHead), { what: "splitHeads" });
    assertNoLeaks(() => mergeHeads(q), { what: "mergeHeads" });
    assertNoLeaks(() => attentionWeights(q, q, mask), {
      what: "attentionWeights (the scores are an intermediate tensor: use tf.tidy)",
    });
    assertNoLeaks(() => attention(q, q, q, mask), { what: "attention" });
    assertNoLeaks(() => multiHeadAttention(x, tensors, { nHead, mask }), {
      what: "multiHeadAttention (Q, K, V, the heads and the weights are all intermediates)",
    });
  }),
);
