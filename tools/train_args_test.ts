import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  defaultCheckpoint,
  defaultThreads,
  GENERATE_DEFAULTS,
  generateUsage,
  parseGenerateArgs,
  parseTrainArgs,
  svgPathFor,
  TRAIN_DEFAULTS,
  trainUsage,
  UsageError,
} from "./train_args.ts";

/** Asserts that `argv` is refused with a UsageError whose message matches `pattern`. */
function refused(parse: (argv: string[]) => unknown, argv: string[], pattern: RegExp): void {
  throws(() => parse(argv), (e: Error) => {
    ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    ok(pattern.test(e.message), `"${e.message}" should match ${pattern}`);
    return true;
  });
}

Deno.test("train: no flags gives the defaults, and nothing counts as given", () => {
  const args = parseTrainArgs([]);
  deepStrictEqual(args.model, TRAIN_DEFAULTS.model);
  deepStrictEqual(args.training, TRAIN_DEFAULTS.training);
  strictEqual(args.corpus, undefined);
  strictEqual(args.checkpoint, undefined);
  strictEqual(args.resume, false);
  strictEqual(args.help, false);
  deepStrictEqual([...args.given], []);
  strictEqual(args.threads, defaultThreads());
  ok(args.threads >= 1 && args.threads <= 4);
  strictEqual(args.blas, true);
});

Deno.test("train: --threads and --no-blas set how fast, not what is learned", () => {
  const args = parseTrainArgs(["--threads", "3", "--no-blas"]);
  strictEqual(args.threads, 3);
  strictEqual(args.blas, false);
  deepStrictEqual(args.training, TRAIN_DEFAULTS.training);
  deepStrictEqual([...args.given], [], "not part of the run's config: a resume may change them");
  refused(parseTrainArgs, ["--threads", "0"], /--threads must be a whole number from 1 to 64/);
  refused(parseTrainArgs, ["--threads", "two"], /--threads must be/);
});

Deno.test("train: flags set the model and the training, and are remembered as given", () => {
  const args = parseTrainArgs([
    "--layers=2",
    "--heads",
    "2",
    "--embed",
    "64",
    "--block",
    "32",
    "--steps",
    "100",
    "--lr",
    "1e-3",
    "--no-tie",
    "--dropout",
    "0",
    "--corpus",
    "data/my.txt",
    "--resume",
    "--eval-every",
    "10",
  ]);
  deepStrictEqual(args.model, {
    nLayer: 2,
    nHead: 2,
    nEmbd: 64,
    blockSize: 32,
    dropout: 0,
    tied: false,
  });
  strictEqual(args.training.steps, 100);
  strictEqual(args.training.lr, 0.001);
  strictEqual(args.training.evalEvery, 10);
  strictEqual(args.corpus, "data/my.txt");
  strictEqual(args.resume, true);
  deepStrictEqual([...args.given].sort(), [
    "model.blockSize",
    "model.dropout",
    "model.nEmbd",
    "model.nHead",
    "model.nLayer",
    "model.tied",
    "training.evalEvery",
    "training.lr",
    "training.steps",
  ]);
  strictEqual(parseTrainArgs(["-h"]).help, true);
});

Deno.test("train: bad flags are UsageErrors that say what is allowed", () => {
  refused(
    parseTrainArgs,
    ["--steps", "ten"],
    /--steps must be a whole number at least 1, not "ten"/,
  );
  refused(parseTrainArgs, ["--steps", "2.5"], /whole number/);
  refused(parseTrainArgs, ["--steps", "0"], /at least 1/);
  refused(parseTrainArgs, ["--lr", "0"], /--lr must be a number above 0 and at most 1, not "0"/);
  refused(parseTrainArgs, ["--lr", ""], /--lr must be/);
  refused(parseTrainArgs, ["--dropout", "1"], /--dropout must be a number from 0 to 0\.9/);
  refused(parseTrainArgs, ["--seed", "0"], /--seed must be a whole number from 1/);
  refused(parseTrainArgs, ["--stpes", "5"], /Unknown option '--stpes'\. Did you mean --steps\?/);
  refused(parseTrainArgs, ["--colour"], /Unknown option '--colour'\.$/);
  refused(parseTrainArgs, ["--steps"], /argument missing/);
  refused(parseTrainArgs, ["--resume=yes"], /does not take an argument/);
  refused(parseTrainArgs, ["600"], /Unexpected argument "600"/);
  refused(parseTrainArgs, ["--embed", "100", "--heads", "8"], /multiple of --heads 8.*--embed 104/);
  refused(parseTrainArgs, ["--resume", "--overwrite"], /pick one/);
  refused(parseTrainArgs, ["--warmup", "700"], /--warmup 700 is longer than the run/);
  strictEqual(
    parseTrainArgs(["--steps", "24"]).training.warmup,
    2,
    "a short run warms up for 1/12",
  );
  refused(parseTrainArgs, ["--corpus="], /--corpus needs a path/);
  refused(parseTrainArgs, ["--backend", "gpu"], /Unknown backend "gpu"/);
  refused(parseTrainArgs, ["--backend", "cpu"], /--backend=cpu/);
  strictEqual(parseTrainArgs(["--backend=cpu"]).help, false);
});

Deno.test("train: the usage text lists every flag with its default", () => {
  const text = trainUsage();
  for (
    const flag of [
      "--corpus",
      "--layers",
      "--heads",
      "--embed",
      "--block",
      "--dropout",
      "--no-tie",
      "--steps",
      "--batch",
      "--lr",
      "--warmup",
      "--min-lr",
      "--weight-decay",
      "--clip",
      "--seed",
      "--eval-every",
      "--val-fraction",
      "--checkpoint",
      "--resume",
      "--overwrite",
      "--threads",
      "--no-blas",
      "--help",
    ]
  ) ok(text.includes(flag), flag);
  ok(text.includes(`(default ${TRAIN_DEFAULTS.training.steps})`));
});

Deno.test("checkpoint paths: under .dojo/runs, with the loss curve beside", () => {
  strictEqual(defaultCheckpoint("tang300"), ".dojo/runs/tang300.ckpt");
  strictEqual(svgPathFor(".dojo/runs/tang300.ckpt"), ".dojo/runs/tang300.svg");
  strictEqual(svgPathFor("runs/model.bin"), "runs/model.bin.svg");
});

Deno.test("generate: defaults, flags and mistakes", () => {
  const d = parseGenerateArgs([]);
  strictEqual(d.tokens, GENERATE_DEFAULTS.tokens);
  strictEqual(d.temperature, GENERATE_DEFAULTS.temperature);
  strictEqual(d.topK, 0);
  strictEqual(d.topP, GENERATE_DEFAULTS.topP);
  strictEqual(d.seed, 1337);
  strictEqual(d.cache, true);
  strictEqual(d.prompt, undefined);
  const a = parseGenerateArgs([
    "--prompt",
    "床前明月光",
    "--tokens",
    "50",
    "--temperature",
    "0",
    "--top-k",
    "5",
    "--top-p",
    "1",
    "--seed",
    "7",
    "--no-cache",
    "--checkpoint",
    "x.ckpt",
  ]);
  deepStrictEqual(
    [a.prompt, a.tokens, a.temperature, a.topK, a.topP, a.seed, a.cache, a.checkpoint],
    ["床前明月光", 50, 0, 5, 1, 7, false, "x.ckpt"],
  );
  refused(parseGenerateArgs, ["--top-p", "0"], /--top-p must be a number above 0 and at most 1/);
  refused(
    parseGenerateArgs,
    ["--temperature=-1"],
    /--temperature must be a number from 0 to 100, not "-1"/,
  );
  refused(parseGenerateArgs, ["--prompt", "-x"], /write --name=value/);
  refused(parseGenerateArgs, ["--tokens", "many"], /--tokens must be a whole number/);
  refused(parseGenerateArgs, ["--top_k", "5"], /Did you mean --top-k\?/);
  refused(parseGenerateArgs, ["--prompt="], /--prompt needs at least one character/);
  ok(generateUsage().includes("--no-cache"));
});
