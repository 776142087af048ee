/**
 * The command lines of `deno task train` and `deno task generate`: flags, defaults, `--help`, and
 * errors for people (exit status 2). Pure: nothing here reads a file or touches tf.
 * @module
 */
import { parseArgs } from "node:util";
import type { ModelConfig, TrainingConfig } from "./checkpoint.ts";

/** A mistake in the command line: exit status 2, with the message and a pointer to --help. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A number flag: integer or real, with its allowed range. */
export interface NumberFlag {
  int: boolean;
  min: number;
  max: number;
  /** The lower bound is excluded (e.g. a learning rate > 0). */
  above?: boolean;
}

/** Reads a number flag's text, or throws a {@linkcode UsageError} that says what is allowed. */
export function readNumber(flag: string, text: string, spec: NumberFlag): number {
  const x = Number(text);
  const ok = text.trim() !== "" && Number.isFinite(x) && (!spec.int || Number.isInteger(x)) &&
    (spec.above ? x > spec.min : x >= spec.min) && x <= spec.max;
  if (!ok) {
    const kind = spec.int ? "a whole number" : "a number";
    const range = spec.max === Infinity
      ? `${spec.above ? "above" : "at least"} ${spec.min}`
      : `${spec.above ? "above" : "from"} ${spec.min} ${
        spec.above ? "and at most" : "to"
      } ${spec.max}`;
    throw new UsageError(`--${flag} must be ${kind} ${range}, not "${text}".`);
  }
  return x;
}

/** Edit distance, to suggest the flag someone meant. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const keep = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = keep;
    }
  }
  return d[b.length];
}

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

/** parseArgs in strict mode, with its errors turned into UsageErrors ("did you mean --steps?"). */
export function parseFlags(
  argv: string[],
  options: Options,
): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs(
      {
        args: argv,
        options,
        strict: true,
        allowPositionals: true,
        allowNegative: true,
      } as Parameters<typeof parseArgs>[0],
    );
    if (positionals.length) {
      throw new UsageError(
        `Unexpected argument "${positionals[0]}": every option is a flag (--name value).`,
      );
    }
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = String((error as { code?: string }).code);
    if (!code.startsWith("ERR_PARSE_ARGS")) throw error;
    let message = (error as Error).message.split("\n")[0];
    if (/ambiguous/.test(message)) {
      message = message.replace(/\.$/, "") +
        ": to give a value that starts with a dash, write --name=value, e.g. --prompt=-";
    }
    const unknown = /Unknown option '(-?-?)([^']+)'/.exec(message);
    if (unknown) {
      message = `Unknown option '${unknown[1]}${unknown[2]}'`;
      const near = Object.keys(options ?? {})
        .map((name) => [name, distance(unknown[2], name)] as const)
        .filter(([, d]) => d <= 2).sort((a, b) => a[1] - b[1])[0];
      if (near) message += `. Did you mean --${near[0]}?`;
    }
    throw new UsageError(`${message}.`.replace(/\?\.$/, "?").replace(/\.\.$/, "."));
  }
}

/** lib/tf.ts reads the backend from the literal argument "--backend=cpu": insist on that form. */
function checkBackend(backend: unknown, argv: string[]): void {
  if (backend === undefined) return;
  if (backend !== "wasm" && backend !== "cpu") {
    throw new UsageError(`Unknown backend "${backend}": use --backend=wasm or --backend=cpu.`);
  }
  if (backend === "cpu" && !argv.includes("--backend=cpu")) {
    throw new UsageError("Write the backend with an equals sign: --backend=cpu.");
  }
}

// ---------------------------------------------------------------- train

/** The default number of training threads: the cores, at most 4 (more rarely pays on wasm). */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

/** The defaults of `deno task train` (the reasons are in the README's "Train your own model"). */
export const TRAIN_DEFAULTS = {
  model: { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0.1, tied: true },
  training: {
    steps: 600,
    batch: 16,
    lr: 1e-3,
    warmup: 50,
    minLrRatio: 0.1,
    weightDecay: 0.1,
    clip: 1,
    seed: 1,
    valFraction: 0.1,
    evalEvery: 50,
  },
} as const;

/** Flag name → [group, key, number spec]: every number flag of `train`. */
const trainNumbers: Record<
  string,
  ["model" | "training", string, NumberFlag]
> = {
  layers: ["model", "nLayer", { int: true, min: 1, max: 48 }],
  heads: ["model", "nHead", { int: true, min: 1, max: 64 }],
  embed: ["model", "nEmbd", { int: true, min: 1, max: 4096 }],
  block: ["model", "blockSize", { int: true, min: 1, max: 4096 }],
  dropout: ["model", "dropout", { int: false, min: 0, max: 0.9 }],
  steps: ["training", "steps", { int: true, min: 1, max: Infinity }],
  batch: ["training", "batch", { int: true, min: 1, max: 4096 }],
  lr: ["training", "lr", { int: false, min: 0, max: 1, above: true }],
  warmup: ["training", "warmup", { int: true, min: 0, max: Infinity }],
  "min-lr": ["training", "minLrRatio", { int: false, min: 0, max: 1 }],
  "weight-decay": ["training", "weightDecay", { int: false, min: 0, max: 10 }],
  clip: ["training", "clip", { int: false, min: 0, max: Infinity, above: true }],
  seed: ["training", "seed", { int: true, min: 1, max: 2 ** 31 - 1 }],
  "val-fraction": ["training", "valFraction", { int: false, min: 0, max: 0.5, above: true }],
  "eval-every": ["training", "evalEvery", { int: true, min: 1, max: Infinity }],
};

/** What `deno task train` was asked to do. */
export interface TrainArgs {
  help: boolean;
  /** A corpus file; undefined: the built-in corpus (or, with --resume, the checkpoint's). */
  corpus?: string;
  /** The checkpoint file; undefined: .dojo/runs/<corpus>.ckpt. */
  checkpoint?: string;
  resume: boolean;
  overwrite: boolean;
  model: Omit<ModelConfig, "vocabSize">;
  training: TrainingConfig;
  /** Flags given on the command line, as "model.nLayer", "training.lr", ... */
  given: Set<string>;
  /** Training threads (--threads; default: the cores, at most 4). How fast, not what is learned. */
  threads: number;
  /** false with --no-blas: keep matrix products on wasm even where a native BLAS would load. */
  blas: boolean;
}

/** The text of `deno task train --help`. */
export function trainUsage(): string {
  const m = TRAIN_DEFAULTS.model, t = TRAIN_DEFAULTS.training;
  return `deno task train · 训练你自己的迷你 LLM · train your own mini LLM

用法 Usage: deno task train [options]

Trains the model of katas 10-14 on a text, with kata 12's AdamW and loss, kata 14's dropout,
weight tying and warm-up + cosine schedule. Saves a checkpoint (and its loss curve as an SVG
beside it) at every evaluation, at the end, and on Ctrl-C; --resume continues from it.

语料 Corpus
  --corpus PATH         a UTF-8 text file (default: 唐詩三百首, built in, see data/README.md)
  --val-fraction F      the share of the text kept for validation, its end (default ${t.valFraction})

模型 Model (fixed once a run has started)
  --layers N            transformer blocks (default ${m.nLayer})
  --heads N             attention heads per block; must divide --embed (default ${m.nHead})
  --embed N             the width of every token's vector (default ${m.nEmbd})
  --block N             the context: tokens the model reads at once (default ${m.blockSize})
  --dropout P           dropout rate while training, 0 for none (default ${m.dropout})
  --no-tie              give the output head its own matrix (default: tied to the embedding)

训练 Training
  --steps N             optimizer steps in all, counting those of a resumed run (default ${t.steps})
  --batch N             windows per step (default ${t.batch})
  --lr X                the peak learning rate of AdamW (default ${t.lr})
  --warmup N            steps of linear warm-up before the cosine decay (default ${t.warmup},
                        or 1/12 of --steps when that is less)
  --min-lr F            the learning rate at the end, as a share of --lr (default ${t.minLrRatio})
  --weight-decay X      AdamW's decoupled weight decay, on the matrices (default ${t.weightDecay})
  --clip X              the global gradient-norm clip (default ${t.clip})
  --seed N              fixes the initial weights, every batch and every dropout mask (default ${t.seed})
  --eval-every N        validation loss, progress line and checkpoint every N steps (default ${t.evalEvery})

检查点 Checkpoint
  --checkpoint PATH     where to save (default .dojo/runs/<corpus>.ckpt, e.g. .dojo/runs/tang300.ckpt);
                        the loss curve goes beside it (.dojo/runs/tang300.svg)
  --resume              continue the run saved there: same corpus, model and settings; the step
                        count and the batches carry on (--steps may be raised to train longer)
  --overwrite           start a new run even though a checkpoint exists there (it is replaced)

速度 Speed (how fast, not what is learned)
  --threads N           split each batch over N threads, one core each (default: the cores, at
                        most 4; here ${defaultThreads()}). Only the dropout masks depend on it: resume with the same N
                        to continue exactly
  --no-blas             keep matrix products on WebAssembly even where a native BLAS library
                        (OpenBLAS, Accelerate) would load; by default it is used when present
  --backend=cpu         TensorFlow.js's pure-JavaScript backend instead of WebAssembly (slow)
  -h, --help            this text

Ctrl-C saves a checkpoint and stops; run the same command with --resume to go on.
Then: deno task generate (deno task generate --help).`;
}

/** Reads the command line of `train`. Throws a {@linkcode UsageError} for any mistake. */
export function parseTrainArgs(argv: string[]): TrainArgs {
  const values = parseFlags(argv, {
    help: { type: "boolean", short: "h" },
    corpus: { type: "string" },
    checkpoint: { type: "string" },
    resume: { type: "boolean" },
    overwrite: { type: "boolean" },
    tie: { type: "boolean" },
    blas: { type: "boolean" },
    threads: { type: "string" },
    backend: { type: "string" },
    ...Object.fromEntries(Object.keys(trainNumbers).map((k) => [k, { type: "string" }])),
  });
  const model: Omit<ModelConfig, "vocabSize"> = { ...TRAIN_DEFAULTS.model };
  const training: TrainingConfig = { ...TRAIN_DEFAULTS.training };
  const given = new Set<string>();
  for (const [flag, [group, key, spec]] of Object.entries(trainNumbers)) {
    const text = values[flag];
    if (typeof text !== "string") continue;
    const target = (group === "model" ? model : training) as unknown as Record<string, unknown>;
    target[key] = readNumber(flag, text, spec);
    given.add(`${group}.${key}`);
  }
  if (values.tie !== undefined) {
    model.tied = values.tie as boolean;
    given.add("model.tied");
  }
  checkBackend(values.backend, argv);
  for (const flag of ["corpus", "checkpoint"]) {
    if (values[flag] === "") throw new UsageError(`--${flag} needs a path.`);
  }
  if (model.nEmbd % model.nHead !== 0) {
    throw new UsageError(
      `--embed ${model.nEmbd} must be a multiple of --heads ${model.nHead}: each head gets ` +
        `embed/heads features (try --embed ${Math.ceil(model.nEmbd / model.nHead) * model.nHead}).`,
    );
  }
  if (values.resume && values.overwrite) {
    throw new UsageError("--resume continues a checkpoint, --overwrite replaces it: pick one.");
  }
  if (!given.has("training.warmup")) {
    // The default warm-up is 1/12 of the default run (50 of 600): keep that share for short runs.
    training.warmup = Math.min(TRAIN_DEFAULTS.training.warmup, Math.round(training.steps / 12));
  }
  if (training.warmup > training.steps) {
    throw new UsageError(
      `--warmup ${training.warmup} is longer than the run (--steps ${training.steps}).`,
    );
  }
  return {
    help: Boolean(values.help),
    corpus: values.corpus as string | undefined,
    checkpoint: values.checkpoint as string | undefined,
    resume: Boolean(values.resume),
    overwrite: Boolean(values.overwrite),
    model,
    training,
    given,
    threads: typeof values.threads === "string"
      ? readNumber("threads", values.threads, { int: true, min: 1, max: 64 })
      : defaultThreads(),
    blas: values.blas !== false,
  };
}

/** The default checkpoint of a corpus: .dojo/runs/<slug>.ckpt. */
export function defaultCheckpoint(slug: string): string {
  return `.dojo/runs/${slug}.ckpt`;
}

/** The loss curve beside a checkpoint: x.ckpt → x.svg (any other name: name + ".svg"). */
export function svgPathFor(checkpoint: string): string {
  return checkpoint.endsWith(".ckpt") ? `${checkpoint.slice(0, -5)}.svg` : `${checkpoint}.svg`;
}

// ---------------------------------------------------------------- generate

/** The defaults of `deno task generate`. */
export const GENERATE_DEFAULTS = {
  tokens: 200,
  temperature: 0.8,
  topK: 0,
  topP: 0.95,
  seed: 1337,
} as const;

/** What `deno task generate` was asked to do. */
export interface GenerateArgs {
  help: boolean;
  checkpoint?: string;
  /** The text to continue; undefined: the first character of the training text. */
  prompt?: string;
  tokens: number;
  temperature: number;
  /** 0: no top-k. */
  topK: number;
  topP: number;
  seed: number;
  /** false with --no-cache: recompute the whole context for every token. */
  cache: boolean;
}

/** The text of `deno task generate --help`. */
export function generateUsage(): string {
  const g = GENERATE_DEFAULTS;
  return `deno task generate · 让模型写作 · let your model write

用法 Usage: deno task generate [options]

Loads a checkpoint of deno task train and continues a prompt, printing each character as soon
as it is chosen (kata 13's sampling; kata 14's KV cache).

  --checkpoint PATH     the checkpoint (default .dojo/runs/tang300.ckpt)
  --prompt TEXT         the text to continue (default: the first character of the training
                        text, 《 for 唐詩三百首); every character must be in the vocabulary
  --tokens N            how many characters to write (default ${g.tokens})
  --temperature T       0 = greedy; below 1 safer, above 1 wilder (default ${g.temperature})
  --top-k K             sample only from the K most likely characters; 0 = off (default ${g.topK})
  --top-p P             sample from the smallest set of likeliest characters whose
                        probabilities add up to P; 1 = off (default ${g.topP})
  --seed N              the same seed, checkpoint and options write the same text (default ${g.seed})
  --no-cache            recompute the whole context for every character instead of using the
                        KV cache (slower; the text is the same)
  --backend=cpu         TensorFlow.js's pure-JavaScript backend instead of WebAssembly (slow)
  -h, --help            this text

The text goes to stdout; the model, the speed (characters per second) and whether the KV cache
was used go to stderr.`;
}

/** Reads the command line of `generate`. Throws a {@linkcode UsageError} for any mistake. */
export function parseGenerateArgs(argv: string[]): GenerateArgs {
  const values = parseFlags(argv, {
    help: { type: "boolean", short: "h" },
    checkpoint: { type: "string" },
    prompt: { type: "string" },
    tokens: { type: "string" },
    temperature: { type: "string" },
    "top-k": { type: "string" },
    "top-p": { type: "string" },
    seed: { type: "string" },
    cache: { type: "boolean" },
    backend: { type: "string" },
  });
  const g = GENERATE_DEFAULTS;
  const num = (flag: string, fallback: number, spec: NumberFlag) =>
    typeof values[flag] === "string" ? readNumber(flag, values[flag] as string, spec) : fallback;
  checkBackend(values.backend, argv);
  if (values.prompt === "") {
    throw new UsageError("--prompt needs at least one character (or leave it out).");
  }
  if (values.checkpoint === "") throw new UsageError("--checkpoint needs a path.");
  return {
    help: Boolean(values.help),
    checkpoint: values.checkpoint as string | undefined,
    prompt: values.prompt as string | undefined,
    tokens: num("tokens", g.tokens, { int: true, min: 1, max: Infinity }),
    temperature: num("temperature", g.temperature, { int: false, min: 0, max: 100 }),
    topK: num("top-k", g.topK, { int: true, min: 0, max: Infinity }),
    topP: num("top-p", g.topP, { int: false, min: 0, max: 1, above: true }),
    seed: num("seed", g.seed, { int: true, min: 0, max: Infinity }),
    cache: values.cache !== false,
  };
}
