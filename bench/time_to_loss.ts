/**
 * Time to quality: the validation loss `deno task train` reaches on a text in a budget of training
 * seconds, with the trainer's default model and settings (tools/train_args.ts: 4 blocks, 4 heads,
 * embed 128, block 64, dropout 0.1, tied head, batch 16, AdamW lr 1e-3, weight decay 0.1, clip 1),
 * its training threads and, with `--native`, its native BLAS. bench/peer_torch.py `--budget` runs
 * the same recipe in PyTorch.
 *
 * The schedule is fitted to the budget: 50 steps of linear warm-up (as the trainer's), then a
 * cosine from lr to lr/10 over the training time left, so each run ends at its floor however many
 * steps it managed. Only training steps count; the validation loss (every window of the last 10%
 * of the text, no dropout) is measured at the start and at the end of each budget, each budget a
 * fresh run. Prints one JSON line.
 *
 * ```sh
 * deno run --allow-read bench/time_to_loss.ts --data=../shared/data/tinyshakespeare.txt --budget=180,600
 * deno run --allow-read --allow-ffi --allow-env bench/time_to_loss.ts --data=... --native
 * ```
 * @module
 */
import process from "node:process";
import { enableNativeMatMul } from "../lib/native_blas.ts";
import { prepareCorpus } from "../solutions/11_training_data/mod.ts";
import type { ModelConfig, TrainingConfig } from "../tools/checkpoint.ts";
import { createTrainee, disposeTrainee, evaluate } from "../tools/llm.ts";
import { DataParallel } from "../tools/parallel.ts";
import { defaultThreads, TRAIN_DEFAULTS } from "../tools/train_args.ts";

const flag = (name: string) =>
  Deno.args.find((s) => s.startsWith(`--${name}=`))?.slice(name.length + 3);
const data = flag("data");
if (!data) {
  console.error(
    "usage: bench/time_to_loss.ts --data=FILE [--budget=180,600] [--threads=N] [--native]",
  );
  Deno.exit(2);
}
const budgets = (flag("budget") ?? "180,600").split(",").map(Number);
const threads = Number(flag("threads") ?? defaultThreads());
const path = Deno.args.includes("--native")
  ? enableNativeMatMul({ quiet: true })
  : { native: false, message: "matMul: wasm" };

const text = await Deno.readTextFile(data);
const training: TrainingConfig = { ...TRAIN_DEFAULTS.training };
const { tokenizer, train, val } = prepareCorpus(text, { valFraction: training.valFraction });
const config: ModelConfig = { ...TRAIN_DEFAULTS.model, vocabSize: tokenizer.vocabSize };
const { lr, warmup } = training, minLr = lr * training.minLrRatio;

const cpuSeconds = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

let valLossStart = NaN, params = 0;
const results: Record<string, unknown> = {};
for (const budget of budgets) {
  const t = createTrainee(config, training);
  if (Number.isNaN(valLossStart)) valLossStart = evaluate(t.model, val);
  params = t.vars.reduce((n, v) => n + v.size, 0);
  const { trainer, notice } = await DataParallel.start(t, train, training, {
    threads,
    native: path.native,
    config,
  });
  if (notice) console.error(notice);
  const used = trainer.threads;
  const wall0 = performance.now(), cpu0 = cpuSeconds();
  let trained = 0, warmEnd = 0, step = 0, rate = lr;
  while (trained < budget) {
    if (step < warmup) rate = (lr * (step + 1)) / (warmup + 1);
    else {
      const r = Math.min(1, (trained - warmEnd) / (budget - warmEnd));
      rate = minLr + 0.5 * (1 + Math.cos(Math.PI * r)) * (lr - minLr);
    }
    const s0 = performance.now();
    await trainer.step(step, rate);
    trained += (performance.now() - s0) / 1000;
    step++;
    if (step === warmup) warmEnd = trained;
  }
  trainer.close();
  results[String(budget)] = {
    steps: step,
    train_s: trained,
    tokens_per_s: (step * training.batch * config.blockSize) / trained,
    val_loss: evaluate(t.model, val),
    last_lr: rate,
    cpu_s: cpuSeconds() - cpu0,
    wall_s: (performance.now() - wall0) / 1000,
    threads: used,
  };
  disposeTrainee(t);
}
console.log(JSON.stringify({
  ours: path.native ? "native" : "wasm",
  message: path.message,
  params,
  vocab: tokenizer.vocabSize,
  train_tokens: train.length,
  val_tokens: val.length,
  val_loss_start: valLossStart,
  budgets: results,
  loadavg: (() => {
    try {
      return Deno.loadavg();
    } catch {
      return null; // needs --allow-sys=loadavg
    }
  })(),
}));
