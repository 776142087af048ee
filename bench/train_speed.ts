/**
 * Training tokens/s of `deno task train`'s step (tools/parallel.ts: kata 14's model trained with
 * kata 12's loss, clipping and AdamW, split over training threads) for nanoGPT's CPU config: V65
 * T64 C128 L4 H4, batch 12, no dropout, an untied head (kata 10's model), on seeded random tokens.
 * Prints one JSON line.
 *
 * ```sh
 * deno run --allow-read=. bench/train_speed.ts                # default path: wasm, every core
 * deno run --allow-read=. bench/train_speed.ts --threads=1    # one thread
 * deno run --allow-read=. --allow-ffi --allow-env bench/train_speed.ts --native  # native BLAS
 * ```
 * @module
 */
import process from "node:process";
import { tf } from "../lib/tf.ts";
import { rng } from "../lib/random.ts";
import { enableNativeMatMul } from "../lib/native_blas.ts";
import { createTrainee, disposeTrainee } from "../tools/llm.ts";
import { DataParallel } from "../tools/parallel.ts";
import { defaultThreads } from "../tools/train_args.ts";
import { speedModel, speedTraining } from "./speed_config.ts";

const arg = (name: string, fallback: number) => {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const steps = arg("steps", 20),
  warmup = arg("warmup", 3),
  threads = arg("threads", defaultThreads());
const path = Deno.args.includes("--native")
  ? enableNativeMatMul({ quiet: true })
  : { native: false, message: "matMul: wasm" };

const config = speedModel;
const training = speedTraining(arg("batch", 12));
const tokens = training.batch * config.blockSize;
const u = rng("train_speed");
const ids = Int32Array.from({ length: 100_000 }, () => Math.floor(u() * config.vocabSize));
const t = createTrainee(config, training);
const { trainer, notice } = await DataParallel.start(t, ids, training, {
  threads,
  native: path.native,
  config,
});
if (notice) console.error(notice);

for (let s = 0; s < warmup; s++) await trainer.step(s);
const wall: number[] = [];
const c0 = process.cpuUsage();
let loss = NaN;
for (let s = warmup; s < warmup + steps; s++) {
  const t0 = performance.now();
  loss = (await trainer.step(s)).loss;
  wall.push(performance.now() - t0);
}
const c = process.cpuUsage(c0);
const used = trainer.threads;
trainer.close();
disposeTrainee(t);
const cpuMs = (c.user + c.system) / 1000 / steps;
wall.sort((a, b) => a - b);
const med = wall[wall.length >> 1];
console.log(JSON.stringify({
  path: path.native ? "native" : "wasm",
  message: path.message,
  backend: tf.getBackend(),
  threads: used,
  batch: training.batch,
  steps,
  last_loss: loss,
  step_ms_median: med,
  step_ms_min: wall[0],
  step_ms_max: wall[wall.length - 1],
  tokens_per_s: tokens * 1000 / med,
  cpu_ms_per_step: cpuMs,
  tokens_per_cpu_s: tokens * 1000 / cpuMs,
}));
