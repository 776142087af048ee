/**
 * Kata 08 · 自注意力机制 · Self-attention — the reference solution.
 *
 * Scaled dot-product attention softmax(Q·Kᵀ/√d_k + M)·V with a causal mask M, then multi-head
 * attention: one fused projection makes Q, K and V for every head, each head attends on its own
 * d_head = C/H features, and W_O mixes the heads back together. Names follow the math and nanoGPT:
 * `x` is [batch, time, embed] (B, T, C), `q`, `k`, `v` are [..., time, dHead], `mask` is
 * [time, time].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { randn, seedSequence } from "../../lib/random.ts";

/** The sizes of a multi-head attention layer. */
export interface AttentionConfig {
  /** C: the width of every token's vector (the embedding size). */
  nEmbd: number;
  /** H: the number of heads; each one works on dHead = C / H features. */
  nHead: number;
}

/**
 * The parameters of multi-head attention. `initAttention` makes them as `tf.Variable`s; any tensors
 * of these shapes work (the tests pass plain tensors).
 */
export interface AttentionParams {
  /**
   * W_QKV [embed, 3·embed]: W_Q, W_K and W_V side by side. Columns 0..C−1 make the queries,
   * C..2C−1 the keys, 2C..3C−1 the values; inside each block, head h owns columns
   * h·dHead..(h+1)·dHead−1.
   */
  wQkv: tf.Tensor2D;
  /** b_QKV [3·embed], laid out like the columns of W_QKV. */
  bQkv: tf.Tensor1D;
  /** W_O [embed, embed]: mixes the heads' outputs, concatenated head by head, into one vector. */
  wO: tf.Tensor2D;
  /** b_O [embed]. */
  bO: tf.Tensor1D;
}

/** Options of {@linkcode initAttention}. */
export interface AttentionInit {
  /** Base seed; every parameter gets its own seed from it (non-zero). */
  seed: number;
  /** Standard deviation of W_QKV (default 0.02, as GPT-2). */
  std?: number;
  /** Standard deviation of W_O (default `std`; GPT-2 uses 0.02/√(2·layers), see kata 10). */
  outStd?: number;
}

/** Options of {@linkcode multiHeadAttention}. */
export interface AttentionOptions {
  /** H: the number of heads. */
  nHead: number;
  /** An additive mask [time, time] such as `causalMask(time)`; none (the seed's attention) if absent. */
  mask?: tf.Tensor2D;
}

/**
 * Given: W_QKV ~ N(0, std²), W_O ~ N(0, outStd²), biases 0, each weight from its own seed, as
 * trainable variables.
 */
export function initAttention(config: AttentionConfig, opts: AttentionInit): AttentionParams {
  const { nEmbd: c, nHead } = config;
  if (!(c > 0 && nHead > 0 && c % nHead === 0)) {
    throw new RangeError(`nEmbd ${c} must be a positive multiple of nHead ${nHead}`);
  }
  const { seed, std = 0.02, outStd = std } = opts;
  const next = seedSequence(seed);
  return {
    wQkv: variable(randn([c, 3 * c], { seed: next(), std }) as tf.Tensor2D),
    bQkv: variable(tf.zeros<tf.Rank.R1>([3 * c])),
    wO: variable(randn([c, c], { seed: next(), std: outStd }) as tf.Tensor2D),
    bO: variable(tf.zeros<tf.Rank.R1>([c])),
  };
}

/** Given: a trainable variable holding `initial`'s values; `initial` itself is disposed. */
export function variable<R extends tf.Rank>(initial: tf.Tensor<R>): tf.Variable<R> {
  const v = tf.variable(initial);
  initial.dispose();
  return v;
}

/**
 * Given: x [..., in] · W [in, out] + b [out] → [..., out], as ONE 2-D product on x seen as
 * [rows, in]. (`tf.matMul` of a [batch, time, in] tensor with a matrix broadcasts into a batched
 * product, 13 times slower on wasm: measured 33 ms against 2.5 ms for [12, 64, 128]·[128, 384]; and
 * TensorFlow.js 4.22 cannot differentiate it.)
 */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor2D, b: tf.Tensor1D): T {
  return tf.tidy(() => {
    const rows = tf.reshape(x, [-1, w.shape[0]]) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.matMul(rows, w), b), [...x.shape.slice(0, -1), w.shape[1]]) as T;
  });
}

/**
 * Given: `tf.matMul(a, b, false, transposeB)` for a [..., m, k] and b [..., k, n] (or [..., n, k]
 * with `transposeB`) with the same leading dimensions, e.g. [batch, heads]: the product of each pair
 * of matrices, [..., m, n]. It checks that the leading dimensions agree, where `tf.matMul` would
 * broadcast a mistake silently. Fast on wasm thanks to lib/wasm_kernels.ts (see the README).
 */
export function batchMatMul(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
  const lead = a.shape.slice(0, -2).join(), leadB = b.shape.slice(0, -2).join();
  if (a.rank !== b.rank || lead !== leadB) {
    throw new RangeError(
      `batchMatMul: a [${a.shape}] and b [${b.shape}] must have the same leading dimensions`,
    );
  }
  return tf.matMul(a, b, false, transposeB);
}

/**
 * The causal mask M [time, time] to add to the attention scores: M[i][j] = 0 where token i may look
 * at token j (j ≤ i: itself and the past) and −∞ where it must not (j > i: the future). After the
 * softmax, e^(−∞) = 0: the future gets weight exactly 0.
 */
export function causalMask(time: number): tf.Tensor2D {
  const m = new Float32Array(time * time);
  for (let i = 0; i < time; i++) m.fill(-Infinity, i * time + i + 1, (i + 1) * time);
  return tf.tensor2d(m, [time, time]);
}

/**
 * The attention weights A = softmax(Q·Kᵀ/√d_k + M) [..., time, time] for q, k [..., time, dHead]:
 * row i says how much token i takes from each token j, and sums to 1. `mask` is added to the
 * scores before the softmax (broadcast over the leading dimensions); none if absent.
 */
export function attentionWeights(q: tf.Tensor, k: tf.Tensor, mask?: tf.Tensor2D): tf.Tensor {
  return tf.tidy(() => {
    const dK = q.shape[q.rank - 1];
    const scores = tf.mul(batchMatMul(q, k, true), 1 / Math.sqrt(dK)); // [..., time, time]
    return tf.softmax(mask ? tf.add(scores, mask) : scores); // softmax over the last axis
  });
}

/** Scaled dot-product attention A·V [..., time, dHead], with A = attentionWeights(q, k, mask). */
export function attention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask?: tf.Tensor2D,
): tf.Tensor {
  return tf.tidy(() => batchMatMul(attentionWeights(q, k, mask), v));
}

/** [batch, time, embed] → [batch, nHead, time, dHead]: head h gets features h·dHead..(h+1)·dHead−1. */
export function splitHeads(x: tf.Tensor3D, nHead: number): tf.Tensor4D {
  const [batch, time, embed] = x.shape;
  return tf.tidy(() =>
    tf.transpose(tf.reshape(x, [batch, time, nHead, embed / nHead]), [0, 2, 1, 3])
  );
}

/** [batch, nHead, time, dHead] → [batch, time, embed]: the heads side by side again. */
export function mergeHeads(y: tf.Tensor4D): tf.Tensor3D {
  const [batch, nHead, time, dHead] = y.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [batch, time, nHead * dHead]));
}

/**
 * Multi-head self-attention of x [batch, time, embed] → [batch, time, embed]:
 * Q, K, V = x·W_QKV + b_QKV split in three; every head attends with its own d_head = C/H features;
 * the heads are merged and projected by W_O.
 */
export function multiHeadAttention(
  x: tf.Tensor3D,
  params: AttentionParams,
  { nHead, mask }: AttentionOptions,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [q, k, v] = tf.split(linear(x, params.wQkv, params.bQkv), 3, 2); // 3 × [B, T, C]
    const heads = (t: tf.Tensor) => splitHeads(t as tf.Tensor3D, nHead); // [B, H, T, dHead]
    const y = attention(heads(q), heads(k), heads(v), mask) as tf.Tensor4D;
    return linear(mergeHeads(y), params.wO, params.bO);
  });
}
