/**
 * Benchmarks of the model code of katas 08-10 (the reference solutions, which katas 11-14 and the
 * trainer run): a full training step of a character-level GPT, and the layout choices that make it
 * fast on wasm, each against the obvious alternative. No permission is needed:
 *
 * ```sh
 * deno bench bench/model_bench.ts
 * deno bench bench/model_bench.ts -- --backend=cpu   # the same on the cpu backend (slow)
 * ```
 *
 * The training step is nanoGPT's CPU configuration for Shakespeare-char: vocabulary 65, block 64,
 * n_embd 128, 4 layers, 4 heads, batch 12 (768 tokens a step, 818,241 parameters), on random
 * tokens: forward, cross-entropy over every position, backward, and one Adam update. After the table, the bench prints the median of each as tokens per second (wall clock,
 * and the process's CPU time, which other processes on a busy machine do not inflate).
 * @module
 */
import process from "node:process";
import { backend, tf } from "../lib/tf.ts";
import { rng } from "../lib/random.ts";
import { registerWasmKernels, unregisterWasmKernels } from "../lib/wasm_kernels.ts";
import { batchMatMul, linear } from "../solutions/08_self_attention/mod.ts";
import { gelu } from "../solutions/09_transformer_block/mod.ts";
import {
  countParams,
  forward,
  initMiniLLM,
  type MiniLLMConfig,
  parameters,
} from "../solutions/10_mini_llm/mod.ts";

const config: MiniLLMConfig = { vocabSize: 65, blockSize: 64, nEmbd: 128, nHead: 4, nLayer: 4 };
const batch = 12;
const tokens = batch * config.blockSize;

/** Seeded random token ids [batch, time]. */
function randomTokens(seed: string): tf.Tensor2D {
  const u = rng(seed);
  const ids = Array.from({ length: tokens }, () => Math.floor(u() * config.vocabSize));
  return tf.tensor2d(ids, [batch, config.blockSize], "int32");
}

// --- The training step ---

const model = initMiniLLM(config, { seed: 1 });
const idx = randomTokens("bench:x");
const targets = tf.tidy(() =>
  tf.oneHot(tf.reshape(randomTokens("bench:y"), [-1]), config.vocabSize)
);

/** Forward, cross-entropy over all 768 positions, backward, Adam. Returns the loss. */
function trainStep(adam: tf.Optimizer, run: typeof forward): number {
  const loss = adam.minimize(
    () =>
      tf.tidy(() => {
        const logits = tf.reshape(run(model, idx), [tokens, config.vocabSize]);
        return tf.losses.softmaxCrossEntropy(targets, logits) as tf.Scalar;
      }),
    true,
    parameters(model),
  )!;
  const value = loss.dataSync()[0];
  loss.dispose();
  return value;
}

const steps = 15;
const timings = new Map<string, { wall: number[]; cpu: number[] }>();

/** A bench of `steps` training steps (after 3 warm-up steps) that records wall and CPU time. */
function stepBench(name: string, run: typeof forward, baseline = false): void {
  const adam = tf.train.adam(3e-4);
  const t = { wall: [] as number[], cpu: [] as number[] };
  timings.set(name, t);
  Deno.bench({
    name,
    group: "training step",
    baseline,
    n: steps,
    warmup: 3,
    fn(b) {
      const c0 = process.cpuUsage();
      b.start();
      const t0 = performance.now();
      trainStep(adam, run);
      t.wall.push(performance.now() - t0);
      b.end();
      const c = process.cpuUsage(c0);
      t.cpu.push((c.user + c.system) / 1000);
    },
  });
}

stepBench(`training step, ${tokens} tokens (V65 T64 C128 L4 H4 B12, Adam)`, forward, true);

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

globalThis.addEventListener("unload", () => {
  const perS = (ms: number) => Math.round((tokens * 1000) / ms).toLocaleString("en");
  console.log(`\nOn ${backend}, ${countParams(model).toLocaleString("en")} parameters:`);
  for (const [name, { wall, cpu }] of timings) {
    if (wall.length === 0) continue;
    // Deno's warm-up calls land here too: keep the timed steps, the last `steps`.
    const w = median(wall.slice(-steps)), c = median(cpu.slice(-steps));
    console.log(
      `  ${name}: median of ${Math.min(wall.length, steps)} steps ${w.toFixed(0)} ms wall = ` +
        `${perS(w)} tokens/s; CPU time ${c.toFixed(0)} ms = ${perS(c)} tokens/s`,
    );
  }
});

// --- The layout choices, each against the obvious alternative (forward and backward) ---

const H = config.nHead, T = config.blockSize, D = config.nEmbd / H, C = config.nEmbd;
const q = tf.randomNormal([batch, H, T, D], 0, 1, "float32", 1);
const k = tf.randomNormal([batch, H, T, D], 0, 1, "float32", 2);
const x = tf.randomNormal([batch, T, C], 0, 1, "float32", 3);
const wQkv = tf.randomNormal([C, 3 * C], 0, 0.02, "float32", 4) as tf.Tensor2D;
const bQkv = tf.zeros([3 * C]) as tf.Tensor1D;
const h = tf.randomNormal([batch * T, 4 * C], 0, 1, "float32", 5);

/** Times `f` inside tf.tidy. */
function gradBench(name: string, group: string, f: () => void, baseline = false): void {
  Deno.bench({ name, group, baseline, n: 30, warmup: 3, fn: () => tf.tidy(f) });
}

// S = Q·Kᵀ [12, 4, 64, 64], then S·Q [12, 4, 64, 32], and the gradients of both products.
/** `f` with TensorFlow.js's own wasm kernels instead of lib/wasm_kernels.ts's. */
function withStockKernels(f: () => void): () => void {
  return () => {
    unregisterWasmKernels();
    try {
      f();
    } finally {
      registerWasmKernels();
    }
  };
}

const attentionProducts = () =>
  tf.grads((q: tf.Tensor, k: tf.Tensor) => tf.sum(batchMatMul(batchMatMul(q, k, true), q)))([
    q,
    k,
  ]);
gradBench(
  "Q·Kᵀ then S·V, 48 heads: the stock wasm BatchMatMul (a naive loop for stacks)",
  "attention products",
  withStockKernels(attentionProducts),
  true,
);
gradBench(
  "Q·Kᵀ then S·V, 48 heads: lib/wasm_kernels.ts (one lib/gemm.wat product per head)",
  "attention products",
  attentionProducts,
);

// Forward only: TensorFlow.js 4.22 cannot even differentiate the rank-3 version (its gradient for
// the broadcast matrix has shape [12, 128, 384] and the engine throws).
gradBench(
  "QKV projection (forward): tf.matMul of [12, 64, 128] by [128, 384]",
  "projection",
  () => void tf.matMul(x, wQkv),
  true,
);
gradBench(
  "QKV projection (forward): linear, one 2-D product [768, 128] by [128, 384]",
  "projection",
  () => void linear(x, wQkv, bQkv),
);

gradBench(
  "GELU on [768, 512] with tf.tanh",
  "gelu",
  () =>
    tf.grad((x: tf.Tensor) => {
      const u = tf.mul(
        tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))),
        Math.sqrt(2 / Math.PI),
      );
      return tf.sum(tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(u))));
    })(h),
  true,
);
gradBench(
  "GELU on [768, 512] as x·σ(2u) (kata 09)",
  "gelu",
  () => tf.grad((x) => tf.sum(gelu(x)))(h),
);
gradBench(
  "GELU on [768, 512], exact, with tf.erf",
  "gelu",
  () =>
    tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))))
    )(h),
);
