/**
 * Training tokens/s of the GPT of katas 08-12 in this process: kata 12's `trainModel` step (AdamW,
 * clipping) for V65 T64 C128 L4 H4 B12 on seeded random tokens. Prints one JSON line.
 *
 * ```sh
 * deno run bench/train_speed.ts                                # the default path: wasm, no permission
 * deno run --allow-ffi --allow-env bench/train_speed.ts --native  # matMul on the native BLAS
 * ```
 * @module
 */
import process from "node:process";
import { tf } from "../lib/tf.ts";
import { rng } from "../lib/random.ts";
import { enableNativeMatMul } from "../lib/native_blas.ts";
import { initMiniLLM } from "../solutions/10_mini_llm/mod.ts";
import { AdamW, trainModel } from "../solutions/12_training_loop/mod.ts";

const arg = (name: string, fallback: number) => {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const steps = arg("steps", 20), warmup = arg("warmup", 3);
const path = Deno.args.includes("--native")
  ? enableNativeMatMul({ quiet: true })
  : { native: false, message: "matMul: wasm" };

const config = { vocabSize: 65, blockSize: 64, nEmbd: 128, nHead: 4, nLayer: 4 };
const batch = 12, tokens = batch * config.blockSize;
const model = initMiniLLM(config, { seed: 1 });
const u = rng("train_speed");
const ids = Int32Array.from({ length: 100_000 }, () => Math.floor(u() * config.vocabSize));
const optimizer = new AdamW({ lr: 1e-3, weightDecay: 0.1 });
const step = (s: number) =>
  trainModel(model, ids, { steps: 1, startStep: s, batch, time: 64, seed: 1, lr: 1e-3, optimizer });

for (let s = 0; s < warmup; s++) step(s);
const wall: number[] = [];
const c0 = process.cpuUsage();
for (let s = warmup; s < warmup + steps; s++) {
  const t0 = performance.now();
  step(s);
  wall.push(performance.now() - t0);
}
const c = process.cpuUsage(c0);
const cpuMs = (c.user + c.system) / 1000 / steps;
wall.sort((a, b) => a - b);
const med = wall[wall.length >> 1];
console.log(JSON.stringify({
  path: path.native ? "native" : "wasm",
  message: path.message,
  backend: tf.getBackend(),
  steps,
  step_ms_median: med,
  step_ms_min: wall[0],
  step_ms_max: wall[wall.length - 1],
  tokens_per_s: tokens * 1000 / med,
  cpu_ms_per_step: cpuMs,
  tokens_per_cpu_s: tokens * 1000 / cpuMs,
}));
