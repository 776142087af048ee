// deno-lint-ignore-file no-unused-vars
/**
 * Kata 10 · 构建微型 LLM · A mini LLM.
 *
 * Fill in each `TODO`, then run `deno test katas/10`. Read README.zh.md or README.md first; stuck?
 * hints.md has three levels of hints. Blocks, LayerNorm and the causal mask come from the reference
 * solutions of katas 08 and 09, so this kata works even if yours are unfinished. Names follow
 * nanoGPT: `wte` (token embedding), `wpe` (position embedding), `lnF`, `head`; `idx` are int32
 * token ids [batch, time].
 * @module
 */
import { tf } from "../../lib/tf.ts";
import { randn, seedSequence } from "../../lib/random.ts";
import { todo } from "../../lib/todo.ts";
import { causalMask, linear, variable } from "../../solutions/08_self_attention/mod.ts";
import {
  block,
  type BlockParams,
  initBlock,
  layerNorm,
  type LayerNormParams,
} from "../../solutions/09_transformer_block/mod.ts";

// The building blocks of katas 08 and 09, from their reference solutions (the tests compose them).
export { block, causalMask, layerNorm, linear };
export type { BlockParams, LayerNormParams };

/** The sizes of a mini LLM. */
export interface MiniLLMConfig {
  /** V: the number of distinct tokens. */
  vocabSize: number;
  /** The longest context the model reads: the number of rows of the position table. */
  blockSize: number;
  /** C: the width of every token's vector. */
  nEmbd: number;
  /** H: attention heads per block. */
  nHead: number;
  /** N: the number of blocks. */
  nLayer: number;
}

/** Every parameter of the model. */
export interface MiniLLMParams {
  /** The token embedding [vocab, embed]: row i is token i's vector. */
  wte: tf.Tensor2D;
  /** The position embedding [blockSize, embed]: row t is added at position t. */
  wpe: tf.Tensor2D;
  blocks: BlockParams[];
  /** The final LayerNorm, after the last block. */
  lnF: LayerNormParams;
  /** The language-model head: w [embed, vocab], b [vocab]. */
  head: { w: tf.Tensor2D; b: tf.Tensor1D };
}

/** A model: its sizes and its parameters. */
export interface MiniLLM {
  config: MiniLLMConfig;
  params: MiniLLMParams;
}

/** Options of {@linkcode initMiniLLM}. */
export interface MiniLLMInit {
  /** Base seed; every weight gets its own seed from it (non-zero). */
  seed: number;
  /** Standard deviation of the weights and embeddings (default 0.02, as GPT-2). */
  std?: number;
}

/**
 * A new model with trainable variables, initialised as GPT-2: wte, wpe and head.w ~ N(0, std²);
 * each block from `initBlock` with projStd = std/√(2·nLayer) (every block adds two outputs to the
 * residual stream); lnF γ = 1, β = 0; head.b = 0. Every weight has its own seed.
 */
export function initMiniLLM(config: MiniLLMConfig, { seed, std = 0.02 }: MiniLLMInit): MiniLLM {
  // TODO: with next = seedSequence(seed) (a new non-zero seed per call) and
  // weight = (rows, cols) => variable(randn([rows, cols], { seed: next(), std })), make
  //   wte [vocabSize, nEmbd] and wpe [blockSize, nEmbd] with weight;
  //   blocks: nLayer times initBlock(config, { seed: next(), std, projStd: std / √(2·nLayer) });
  //   lnF: { gain: variable(tf.ones([nEmbd])), bias: variable(tf.zeros([nEmbd])) };
  //   head: { w: weight(nEmbd, vocabSize), b: variable(tf.zeros([vocabSize])) };
  // and return { config: { ...config }, params }.
  return todo(10, "initMiniLLM");
}

/**
 * The logits [batch, time, vocab] of the next token at every position of idx [batch, time]
 * (int32): x = wte[idx] + wpe[0..time−1], then the blocks under the causal mask, the final
 * LayerNorm and the head. Throws a RangeError if time > blockSize.
 */
export function forward(model: MiniLLM, idx: tf.Tensor2D): tf.Tensor3D {
  // TODO: if time (idx.shape[1]) > blockSize, throw a RangeError naming the block size. Then, inside
  // tf.tidy:
  // 1. tokens = tf.gather(params.wte, idx): [batch, time, nEmbd];
  // 2. positions = the first `time` rows of params.wpe (tf.slice(wpe, [0, 0], [time, -1]));
  //    x = tokens + positions (broadcast over the batch);
  // 3. mask = causalMask(time), once; x = block(x, p, { nHead, mask }) for every p of params.blocks;
  // 4. return linear(layerNorm(x, params.lnF), params.head.w, params.head.b).
  return todo(10, "forward");
}

/** Every parameter tensor of the model, in a fixed order. */
function tensorsOf({ wte, wpe, blocks, lnF, head }: MiniLLMParams): tf.Tensor[] {
  return [
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
    head.w,
    head.b,
  ];
}

/**
 * Given: the model's trainable variables in a fixed order, for an optimizer
 * (`optimizer.minimize(loss, true, parameters(model))`), a checkpoint or `tf.dispose`.
 */
export function parameters(model: MiniLLM): tf.Variable[] {
  return tensorsOf(model.params).map((p) => {
    if (!(p instanceof tf.Variable)) {
      throw new TypeError("parameters: every parameter must be a tf.Variable (use initMiniLLM)");
    }
    return p;
  });
}

/** Given: the number of numbers the model learns (the sizes of all its parameter tensors). */
export function countParams(model: MiniLLM): number {
  return tensorsOf(model.params).reduce((sum, p) => sum + p.size, 0);
}
