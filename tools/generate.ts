/**
 * `deno task generate`: loads a checkpoint of `deno task train` and continues a prompt, printing
 * every character the moment it is chosen. Sampling is kata 13's (temperature, top-k, top-p, a
 * seeded generator); the KV cache is kata 14's (`--no-cache` uses kata 13's `generate`, which reads
 * the whole context again for every character). See `deno task generate --help`.
 *
 * Exit status: 0 done, 1 the checkpoint cannot be used, 2 a mistake in the flags or the prompt.
 * @module
 */
import { backend } from "../lib/tf.ts";
import { CharTokenizer } from "../solutions/11_training_data/mod.ts";
import { CheckpointError, denoByteFs, readCheckpoint } from "./checkpoint.ts";
import { DEFAULT_CORPUS_NAME } from "./corpus.ts";
import { disposeTrainee, generateUncached, generateWithCache, restoreTrainee } from "./llm.ts";
import { grouped } from "./progress.ts";
import {
  defaultCheckpoint,
  type GenerateArgs,
  generateUsage,
  parseGenerateArgs,
  UsageError,
} from "./train_args.ts";

const encoder = new TextEncoder();

async function run(args: GenerateArgs): Promise<number> {
  const path = args.checkpoint ?? defaultCheckpoint("tang300");
  let ckpt;
  try {
    ckpt = await readCheckpoint(denoByteFs, path);
  } catch (error) {
    if (error instanceof CheckpointError && !args.checkpoint && /no such/.test(error.message)) {
      throw new CheckpointError(`${error.message}. Train a model first: deno task train`);
    }
    throw error;
  }
  const { header } = ckpt;
  const tokenizer = new CharTokenizer(header.vocab);
  const promptText = args.prompt ?? header.corpus.start;
  const unknown = [...new Set(promptText)].filter((ch) => !tokenizer.index.has(ch));
  if (unknown.length) {
    const list = unknown.map((ch) =>
      `"${ch}" (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`
    ).join(", ");
    throw new UsageError(
      `--prompt has characters the model never saw: ${list}. It knows only the ` +
        `${tokenizer.vocabSize} characters of its training text` +
        (header.corpus.name === DEFAULT_CORPUS_NAME
          ? ", and 唐詩三百首 is in traditional characters (曉, not 晓; 鄉, not 乡)."
          : "."),
    );
  }
  const prompt = Array.from(tokenizer.encode(promptText));
  const t = restoreTrainee(ckpt, path, { optimizer: false });
  const { model } = t;
  const val = header.history.val[header.history.val.length - 1];
  const m = header.model;
  console.error(
    `模型 Model  ${path}: step ${header.step}` +
      (val ? `, validation loss ${val[1].toFixed(3)}` : "") +
      `; ${m.nLayer} blocks, ${m.nHead} heads, embed ${m.nEmbd}, block ${m.blockSize}, ` +
      `vocabulary ${m.vocabSize} · ${backend}`,
  );
  console.error(
    `采样 Sample temperature ${args.temperature}, top-k ${args.topK || "off"}, top-p ` +
      `${args.topP === 1 ? "off" : args.topP}, seed ${args.seed} · KV cache: ` +
      (args.cache
        ? "on (kata 14's forwardCached; it helps while the text fits in the block)"
        : "off (--no-cache: kata 13's generate reads the whole context for every character)") +
      "\n",
  );
  Deno.stdout.writeSync(encoder.encode(promptText));
  const started = performance.now();
  const options = {
    maxNewTokens: args.tokens,
    temperature: args.temperature,
    topK: args.topK,
    topP: args.topP,
    seed: args.seed,
    onToken: (id: number, index: number) => {
      if (index === 0) first = performance.now();
      Deno.stdout.writeSync(encoder.encode(tokenizer.decode([id])));
    },
  };
  let first = started;
  try {
    (args.cache ? generateWithCache : generateUncached)(model, prompt, options);
  } finally {
    disposeTrainee(t);
  }
  const ended = performance.now();
  Deno.stdout.writeSync(encoder.encode("\n"));
  const rest = args.tokens > 1
    ? `, then ${grouped((args.tokens - 1) / ((ended - first) / 1000))}/s`
    : "";
  console.error(
    `\n${args.tokens} characters in ${((ended - started) / 1000).toFixed(2)} s: the first after ` +
      `${Math.round(first - started)} ms${rest} (KV cache ${args.cache ? "on" : "off"})`,
  );
  return 0;
}

/** Runs `deno task generate`; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = parseGenerateArgs(argv);
    if (args.help) {
      console.log(generateUsage());
      return 0;
    }
    return await run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\nRun with --help for usage.`);
      return 2;
    }
    if (error instanceof CheckpointError) {
      console.error(`error: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
