/**
 * `deno task train`: trains a mini LLM on a text and saves it. See `deno task train --help` and
 * the README's "Train your own model". The pieces: the corpus (corpus.ts), the flags
 * (train_args.ts), the model and one training step from the reference solutions (llm.ts), the
 * checkpoint (checkpoint.ts), the progress line (progress.ts) and the loss curve (loss_svg.ts).
 *
 * Exit status: 0 done, 1 the corpus or the checkpoint cannot be used (nothing is written), 2 a
 * mistake in the flags, 130 stopped with Ctrl-C (after saving).
 * @module
 */
import process from "node:process";
import { backend } from "../lib/tf.ts";
import { enableNativeMatMul } from "../lib/native_blas.ts";
import { prepareCorpus } from "../solutions/11_training_data/mod.ts";
import {
  type Checkpoint,
  CheckpointError,
  type CheckpointHeader,
  denoByteFs,
  encodeCheckpoint,
  type LossHistory,
  mismatches,
  type ModelConfig,
  readCheckpoint,
  textHash,
  type TrainingConfig,
  writeAtomic,
} from "./checkpoint.ts";
import {
  CorpusError,
  type CorpusText,
  DEFAULT_CORPUS_NAME,
  defaultCorpus,
  readCorpus,
} from "./corpus.ts";
import {
  createTrainee,
  disposeTrainee,
  evaluate,
  restoreTrainee,
  snapshot,
  type Trainee,
  unigramLoss,
} from "./llm.ts";
import { DataParallel } from "./parallel.ts";
import { lossCurveSvg } from "./loss_svg.ts";
import { Ema, eta, grouped, progressLine } from "./progress.ts";
import { clock } from "./term.ts";
import {
  defaultCheckpoint,
  parseTrainArgs,
  svgPathFor,
  type TrainArgs,
  trainUsage,
  UsageError,
} from "./train_args.ts";

const encoder = new TextEncoder();
const write = (s: string) => Deno.stdout.writeSync(encoder.encode(s));

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The flag `deno task generate` needs to find a checkpoint ("" for the default one). */
function generateFlag(checkpoint: string): string {
  return checkpoint === defaultCheckpoint(defaultCorpus().slug)
    ? ""
    : ` --checkpoint ${checkpoint}`;
}

/** Everything a run needs once the flags, the corpus and the checkpoint agree. */
interface Plan {
  corpus: CorpusText;
  corpusSha256: string;
  checkpoint: string;
  svg: string;
  model: ModelConfig;
  training: TrainingConfig;
  /** The step to stop at in this invocation (≥ the schedule's length when training longer). */
  until: number;
  resumed?: Checkpoint;
}

/** Reads the corpus and the checkpoint and checks that they fit the flags. */
async function makePlan(args: TrainArgs): Promise<Plan> {
  let corpus = args.corpus ? await readCorpus(args.corpus, Deno.readFile) : defaultCorpus();
  const checkpoint = args.checkpoint ?? defaultCheckpoint(corpus.slug);
  let resumed: Checkpoint | undefined;
  if (args.resume) {
    resumed = await readCheckpoint(denoByteFs, checkpoint);
    const source = resumed.header.corpus.name;
    if (!args.corpus && source !== DEFAULT_CORPUS_NAME) {
      corpus = await readCorpus(source, Deno.readFile);
    }
  } else if (!args.overwrite && await exists(checkpoint)) {
    throw new CheckpointError(
      `${checkpoint} already exists (检查点已存在). Add --resume to continue that run, or ` +
        `--overwrite to start a new one in its place.`,
    );
  }
  const corpusSha256 = await textHash(corpus.text);
  const vocab = prepareCorpus(corpus.text, { valFraction: args.training.valFraction }).tokenizer
    .chars;
  let model: ModelConfig = { ...args.model, vocabSize: vocab.length };
  let training = args.training;
  let until = training.steps;
  if (resumed) {
    const h = resumed.header;
    const pick = (group: "model" | "training") =>
      Object.fromEntries(
        [...args.given].filter((g) =>
          g.startsWith(`${group}.`) && g !== "training.steps" && g !== "training.evalEvery"
        )
          .map((g) => g.slice(group.length + 1))
          .map((k) => [k, (args[group] as unknown as Record<string, unknown>)[k]]),
      );
    const problems = mismatches(h, {
      vocab,
      model: pick("model"),
      training: pick("training"),
      corpusSha256,
    });
    if (problems.length) {
      throw new CheckpointError(
        `${checkpoint} does not fit this run (检查点与本次训练不符):\n  - ${
          problems.join("\n  - ")
        }\nResume with the same corpus and flags, or start a new run with another --checkpoint ` +
          `(or --overwrite to replace this one).`,
      );
    }
    model = h.model;
    // How often to evaluate may change; everything else is the checkpoint's.
    training = {
      ...h.training,
      evalEvery: args.given.has("training.evalEvery")
        ? args.training.evalEvery
        : h.training.evalEvery,
    };
    until = args.given.has("training.steps") ? args.training.steps : h.training.steps;
    if (until < h.step) {
      throw new UsageError(
        `--steps ${until} is below the checkpoint's step ${h.step}: a run cannot go back.`,
      );
    }
  }
  return {
    corpus,
    corpusSha256,
    checkpoint,
    svg: svgPathFor(checkpoint),
    model,
    training,
    until,
    resumed,
  };
}

/** Saves the checkpoint, then the loss curve beside it. Returns the milliseconds it took. */
async function save(
  plan: Plan,
  t: Trainee,
  step: number,
  history: LossHistory,
  seconds: number,
): Promise<number> {
  const started = performance.now();
  const header: Omit<CheckpointHeader, "tensors" | "dataBytes" | "format" | "version"> = {
    step,
    model: plan.model,
    training: plan.training,
    vocab: [
      ...prepareCorpus(plan.corpus.text, { valFraction: plan.training.valFraction })
        .tokenizer.chars,
    ],
    corpus: {
      name: plan.corpus.name,
      sha256: plan.corpusSha256,
      chars: [...plan.corpus.text].length,
      start: [...plan.corpus.text][0],
    },
    optimizer: {
      name: "AdamW",
      step: t.optimizer.t,
      beta1: t.optimizer.beta1,
      beta2: t.optimizer.beta2,
      eps: t.optimizer.eps,
    },
    history,
    seconds,
    savedAt: new Date().toISOString(),
  };
  await writeAtomic(denoByteFs, plan.checkpoint, await encodeCheckpoint(header, snapshot(t)));
  const title = `${plan.corpus.slug} · step ${step} · L${plan.model.nLayer} H${plan.model.nHead} ` +
    `C${plan.model.nEmbd} T${plan.model.blockSize}`;
  await writeAtomic(
    denoByteFs,
    plan.svg,
    encoder.encode(lossCurveSvg(history, { title })),
  );
  return performance.now() - started;
}

/** Trains; returns the exit status. */
async function train(args: TrainArgs): Promise<number> {
  const plan = await makePlan(args);
  const { model: config, training } = plan;
  const { tokenizer, train: trainIds, val: valIds } = prepareCorpus(plan.corpus.text, {
    valFraction: training.valFraction,
  });
  for (const [part, ids] of [["training", trainIds], ["validation", valIds]] as const) {
    if (ids.length < config.blockSize + 1) {
      throw new CorpusError(
        `${plan.corpus.name}: its ${part} part has ${ids.length} characters, fewer than a ` +
          `window of --block ${config.blockSize} needs (${config.blockSize + 1}). Use a longer ` +
          `text, a smaller --block, or another --val-fraction.`,
      );
    }
  }
  const t = plan.resumed ? restoreTrainee(plan.resumed, plan.checkpoint) : createTrainee(
    config,
    training,
  );
  const start = plan.resumed?.header.step ?? 0;
  const history: LossHistory = plan.resumed
    ? structuredClone(plan.resumed.header.history)
    : { train: [], val: [], resumes: [] };
  if (plan.resumed && start > 0) history.resumes.push(start);
  const secondsBefore = plan.resumed?.header.seconds ?? 0;
  const params = t.vars.reduce((n, v) => n + v.size, 0);
  const tokensPerStep = training.batch * config.blockSize;

  console.log(
    `语料 Corpus   ${plan.corpus.name}: ${grouped([...plan.corpus.text].length)} characters, ` +
      `${tokenizer.vocabSize} distinct; ${grouped(trainIds.length)} to train on, ` +
      `${grouped(valIds.length)} to validate on`,
  );
  console.log(
    `模型 Model    ${config.nLayer} block${
      config.nLayer === 1 ? "" : "s"
    }, ${config.nHead} heads, embed ${config.nEmbd}, ` +
      `block ${config.blockSize}, dropout ${config.dropout}, ` +
      `${config.tied ? "tied" : "untied"} head: ${grouped(params)} parameters · ${backend}`,
  );
  console.log(
    `训练 Training ${plan.resumed ? `resumed at step ${start}, ` : ""}to step ${plan.until}` +
      `${
        plan.until > training.steps
          ? ` (past the schedule's ${training.steps}: lr stays at its floor)`
          : ""
      }` +
      `, batch ${training.batch} × ${config.blockSize} = ${tokensPerStep} tokens, ` +
      `lr ${training.lr} (warm-up ${training.warmup}, cosine to ${
        Number((training.lr * training.minLrRatio).toPrecision(3))
      }), ` +
      `seed ${training.seed}`,
  );

  if (start >= plan.until) {
    console.log(
      `\nThe checkpoint is already at step ${start}. Raise --steps to train longer; or: ` +
        `deno task generate${generateFlag(plan.checkpoint)}`,
    );
    disposeTrainee(t);
    return 0;
  }
  // The fastest path there is: matrix products on a native BLAS when one loads (--allow-ffi), and
  // the batch split over the cores.
  const matMul = backend === "wasm" && args.blas
    ? enableNativeMatMul({ quiet: true })
    : { native: false, message: `matMul: ${backend}${args.blas ? "" : " (--no-blas)"}` };
  const { trainer, notice } = await DataParallel.start(t, trainIds, training, {
    threads: args.threads,
    native: matMul.native,
    config,
  });
  console.log(
    `计算 Compute   ${trainer.threads} thread${
      trainer.threads === 1 ? "" : "s"
    } · ${matMul.message}` +
      (notice ? `\n             ${notice}` : ""),
  );
  console.log(`检查点 Saving  ${plan.checkpoint} (+ ${plan.svg}); Ctrl-C saves and stops\n`);

  let interrupted = 0;
  const onSigint = () => {
    interrupted++;
    if (interrupted > 1) {
      write("\n中断 Stopped without saving (the last checkpoint is intact).\n");
      Deno.exit(130);
    }
  };
  Deno.addSignalListener("SIGINT", onSigint);
  const tty = Deno.stdout.isTerminal();
  const width = () => {
    try {
      return Deno.consoleSize().columns - 1;
    } catch {
      return 100;
    }
  };
  const ema = new Ema(0.95);
  for (const [, loss] of history.train) ema.add(loss); // a resumed line continues the same average
  const lastVal = () => {
    const v = history.val[history.val.length - 1];
    return v ? { step: v[0], loss: v[1] } : undefined;
  };
  const began = performance.now();
  const cpuBefore = process.cpuUsage();
  let stepMs = 0;
  let step = start;
  const seconds = () => secondsBefore + (performance.now() - began) / 1000;
  const line = () =>
    progressLine({
      step,
      steps: plan.until,
      trainLoss: ema.value,
      val: lastVal(),
      tokensPerSecond: stepMs > 0 ? ((step - start) * tokensPerStep * 1000) / stepMs : 0,
      etaMs: eta(step - start, plan.until - step, performance.now() - began),
    }, tty ? width() : undefined);
  try {
    if (!plan.resumed) history.val.push([0, evaluate(t.model, valIds)]); // the curve's start
    while (step < plan.until && !interrupted) {
      const t0 = performance.now();
      const { loss } = await trainer.step(step);
      stepMs += performance.now() - t0;
      step++;
      history.train.push([step, loss]);
      ema.add(loss);
      const checkpointNow = step % training.evalEvery === 0 || step === plan.until;
      if (checkpointNow) {
        history.val.push([step, evaluate(t.model, valIds)]);
        await save(plan, t, step, history, seconds());
      }
      if (tty) write(`\r\x1b[2K${line()}${checkpointNow ? "\n" : ""}`);
      else if (checkpointNow || step === start + 1) console.log(line());
      // Let the event loop run: Ctrl-C is heard here, between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (interrupted) {
      if (tty) write("\n");
      const ms = await save(plan, t, step, history, seconds());
      console.log(
        `中断 Stopped at step ${step}; saved ${plan.checkpoint} in ${Math.round(ms)} ms. ` +
          `Continue with: deno task train --resume${args.corpus ? ` --corpus ${args.corpus}` : ""}${
            args.checkpoint ? ` --checkpoint ${args.checkpoint}` : ""
          }`,
      );
      return 130;
    }
    console.log("\n最终损失 Final loss on every window of each part (no dropout):");
    const trainLoss = evaluate(t.model, trainIds);
    const wall = (performance.now() - began) / 1000;
    const valLoss = history.val[history.val.length - 1][1];
    const best = history.val.reduce((a, b) => (b[1] < a[1] ? b : a));
    console.log(
      `  train ${trainLoss.toFixed(3)} · validation ${valLoss.toFixed(3)} ` +
        `(lowest ${best[1].toFixed(3)} at step ${best[0]})`,
    );
    console.log(
      `  for comparison: a uniform guess ln ${tokenizer.vocabSize} = ` +
        `${Math.log(tokenizer.vocabSize).toFixed(3)}; character frequencies alone ` +
        `${unigramLoss(trainIds, valIds, tokenizer.vocabSize).toFixed(3)} on validation`,
    );
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    console.log(
      `  ${step - start} steps in ${clock(wall * 1000)}` +
        (secondsBefore ? ` (${clock(seconds() * 1000)} with the earlier runs)` : "") +
        `; ${grouped(((step - start) * tokensPerStep * 1000) / stepMs)} training tokens/s; ` +
        `CPU time ${clock(cpuSeconds * 1000)}, ${Math.round((100 * cpuSeconds) / wall)}% of wall`,
    );
    console.log(
      `\n已保存 Saved ${plan.checkpoint} and its loss curve ${plan.svg}\n` +
        `Now let it write: deno task generate${generateFlag(plan.checkpoint)}`,
    );
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    trainer.close();
    disposeTrainee(t);
  }
}

/** Runs `deno task train`; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseTrainArgs(argv);
    if (args.help) {
      console.log(trainUsage());
      return 0;
    }
    return await train(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\nRun with --help for usage.`);
      return 2;
    }
    if (error instanceof CorpusError || error instanceof CheckpointError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      console.error(
        `error: ${(error as Error).message}\ndeno task train writes only under .dojo/: ` +
          `pick a --checkpoint there, or run deno run --allow-read --allow-write=DIR tools/train.ts`,
      );
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
