/**
 * Kata 09 · Transformer 块 · Transformer block — the reference solution.
 *
 * A pre-LayerNorm block, as in GPT-2 and nanoGPT: x + attention(LN(x)), then x + FFN(LN(x)), with
 * a feed-forward network four times as wide as the model and the GELU activation. The residual
 * stream x passes through every block untouched except for what the sub-layers add to it.
 * Attention comes from kata 08's reference solution. Names follow the math: `x` is
 * [batch, time, embed] (B, T, C).
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { randn, seedSequence } from "../../lib/random.ts";
import {
  type AttentionParams,
  causalMask,
  initAttention,
  linear,
  multiHeadAttention,
  variable,
} from "../08_self_attention/mod.ts";

// Kata 08's building blocks, from its reference solution (the tests compose them too).
export { causalMask, linear, multiHeadAttention };
export type { AttentionParams };

/** The sizes of a block. */
export interface BlockConfig {
  /** C: the width of the residual stream. */
  nEmbd: number;
  /** H: the number of attention heads (C must be a multiple of H). */
  nHead: number;
}

/** A LayerNorm's learned gain γ [embed] (starts at 1) and bias β [embed] (starts at 0). */
export interface LayerNormParams {
  gain: tf.Tensor1D;
  bias: tf.Tensor1D;
}

/** The feed-forward network C → 4C → C. */
export interface FeedForwardParams {
  /** W_fc [embed, 4·embed] */
  wFc: tf.Tensor2D;
  /** b_fc [4·embed] */
  bFc: tf.Tensor1D;
  /** W_proj [4·embed, embed]: writes back into the residual stream. */
  wProj: tf.Tensor2D;
  /** b_proj [embed] */
  bProj: tf.Tensor1D;
}

/** Every parameter of a block, in the order the block uses them. */
export interface BlockParams {
  ln1: LayerNormParams;
  attn: AttentionParams;
  ln2: LayerNormParams;
  mlp: FeedForwardParams;
}

/** Options of {@linkcode initBlock}. */
export interface BlockInit {
  /** Base seed; every weight gets its own seed from it (non-zero). */
  seed: number;
  /** Standard deviation of W_QKV and W_fc (default 0.02, as GPT-2). */
  std?: number;
  /** Standard deviation of the two output projections W_O and W_proj (default `std`). */
  projStd?: number;
}

/** Options of {@linkcode block}. */
export interface BlockOptions {
  /** H: the number of attention heads. */
  nHead: number;
  /** The additive attention mask [time, time], e.g. `causalMask(time)`; none if absent. */
  mask?: tf.Tensor2D;
}

/**
 * The parameters of one block, as trainable variables: both LayerNorms with γ = 1 and β = 0;
 * attention from `initAttention` (W_QKV ~ N(0, std²), W_O ~ N(0, projStd²)); W_fc ~ N(0, std²)
 * [C, 4C] and W_proj ~ N(0, projStd²) [4C, C]; every bias 0. Each weight has its own seed drawn
 * from `seedSequence(seed)`. 12C² + 13C numbers in all.
 */
export function initBlock(config: BlockConfig, opts: BlockInit): BlockParams {
  const { nEmbd: c } = config;
  const { seed, std = 0.02, projStd = std } = opts;
  const next = seedSequence(seed);
  const layerNormParams = (): LayerNormParams => ({
    gain: variable(tf.ones<tf.Rank.R1>([c])),
    bias: variable(tf.zeros<tf.Rank.R1>([c])),
  });
  const weight = (rows: number, cols: number, std: number) =>
    variable(randn([rows, cols], { seed: next(), std }) as tf.Tensor2D);
  return {
    ln1: layerNormParams(),
    attn: initAttention(config, { seed: next(), std, outStd: projStd }),
    ln2: layerNormParams(),
    mlp: {
      wFc: weight(c, 4 * c, std),
      bFc: variable(tf.zeros<tf.Rank.R1>([4 * c])),
      wProj: weight(4 * c, c, projStd),
      bProj: variable(tf.zeros<tf.Rank.R1>([c])),
    },
  };
}

/**
 * LayerNorm over the last (feature) axis: each position's vector is shifted to mean 0 and scaled
 * to variance 1, then multiplied by γ and shifted by β:
 * y = (x − μ) / √(σ² + ε) · γ + β, with μ and σ² (the population variance) of that one vector.
 */
export function layerNorm<T extends tf.Tensor>(
  x: T,
  { gain, bias }: LayerNormParams,
  eps = 1e-5,
): T {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true); // [..., 1] each
    const xHat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(xHat, gain), bias);
  });
}

/**
 * GELU, GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), written as
 * x·σ(2·√(2/π)·(x + 0.044715·x³)) since 0.5·(1 + tanh(u)) = σ(2u) (on wasm tf.sigmoid
 * is 3 to 5 times faster than tf.tanh).
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const u = tf.mul(x, tf.add(tf.mul(tf.square(x), 0.044715), 1)); // x + 0.044715·x³
    return tf.mul(x, tf.sigmoid(tf.mul(u, 2 * Math.sqrt(2 / Math.PI))));
  });
}

/** The feed-forward network, position by position: GELU(x·W_fc + b_fc)·W_proj + b_proj. */
export function feedForward<T extends tf.Tensor>(x: T, p: FeedForwardParams): T {
  return tf.tidy(() => linear(gelu(linear(x, p.wFc, p.bFc)), p.wProj, p.bProj));
}

/**
 * One pre-LayerNorm transformer block, x [batch, time, embed] → [batch, time, embed]:
 * x ← x + MHA(LN₁(x)), then x ← x + FFN(LN₂(x)).
 */
export function block(x: tf.Tensor3D, params: BlockParams, opts: BlockOptions): tf.Tensor3D {
  return tf.tidy(() => {
    const a = tf.add(x, multiHeadAttention(layerNorm(x, params.ln1), params.attn, opts));
    return tf.add(a, feedForward(layerNorm(a, params.ln2), params.mlp));
  });
}
