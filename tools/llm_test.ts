import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import { tf } from "../lib/tf.ts";
import {
  CheckpointError,
  type CheckpointHeader,
  decodeCheckpoint,
  encodeCheckpoint,
  type ModelConfig,
  type TrainingConfig,
} from "./checkpoint.ts";
import {
  asMiniLLM,
  createTrainee,
  disposeTrainee,
  dropoutSeed,
  evaluate,
  generateUncached,
  generateWithCache,
  learningRate,
  namedTensors,
  restoreTrainee,
  snapshot,
  type Trainee,
  trainStep,
  unigramLoss,
} from "./llm.ts";

const model: ModelConfig = {
  vocabSize: 7,
  blockSize: 8,
  nEmbd: 8,
  nHead: 2,
  nLayer: 1,
  dropout: 0.1,
  tied: true,
};
const training: TrainingConfig = {
  steps: 6,
  batch: 2,
  lr: 1e-2,
  warmup: 2,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  clip: 1,
  seed: 3,
  valFraction: 0.1,
  evalEvery: 3,
};
const ids = Int32Array.from({ length: 80 }, (_, i) => (i * 3 + (i >> 2)) % 7);

/** The trainee in a checkpoint and back, through the bytes. */
async function roundTrip(t: Trainee, step: number): Promise<Trainee> {
  const header: Omit<CheckpointHeader, "tensors" | "dataBytes" | "format" | "version"> = {
    step,
    model,
    training,
    vocab: ["a", "b", "c", "d", "e", "f", "g"],
    corpus: { name: "test", sha256: "0", chars: 80, start: "a" },
    optimizer: { name: "AdamW", step: t.optimizer.t, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    history: { train: [], val: [], resumes: [] },
    seconds: 0,
    savedAt: "now",
  };
  const bytes = await encodeCheckpoint(header, snapshot(t));
  return restoreTrainee(await decodeCheckpoint(bytes), "test.ckpt");
}

Deno.test("tensors get stable names; a tied model has no head matrix", () => {
  const t = createTrainee(model, training);
  const names = namedTensors(t.model.params).map(([n]) => n);
  deepStrictEqual(names.slice(0, 3), ["wte", "wpe", "blocks.0.ln1.gain"]);
  ok(names.includes("blocks.0.attn.wQkv") && names.includes("head.b"));
  ok(!names.includes("head.w"));
  strictEqual(new Set(t.names.values()).size, t.vars.length);
  disposeTrainee(t);
});

Deno.test("a resumed run continues exactly: same losses, same weights as a run without a stop", async () => {
  const straight = createTrainee(model, training);
  const lossesA = [0, 1, 2, 3, 4, 5].map((s) => trainStep(straight, ids, s, training).loss);
  const first = createTrainee(model, training);
  const lossesB = [0, 1, 2].map((s) => trainStep(first, ids, s, training).loss);
  const resumed = await roundTrip(first, 3);
  disposeTrainee(first);
  strictEqual(resumed.optimizer.t, 3);
  lossesB.push(...[3, 4, 5].map((s) => trainStep(resumed, ids, s, training).loss));
  deepStrictEqual(lossesB, lossesA);
  const a = snapshot(straight), b = snapshot(resumed);
  deepStrictEqual(b.map((x) => x.name), a.map((x) => x.name));
  a.forEach((x, i) => deepStrictEqual(b[i].data, x.data, x.name));
  ok(a.some((x) => x.name.startsWith("opt.m/")), "the moments are saved");
  disposeTrainee(straight);
  disposeTrainee(resumed);
});

Deno.test("restoring checks the tensors against the model's config", async () => {
  const t = createTrainee(model, training);
  trainStep(t, ids, 0, training);
  const before = tf.memory().numTensors;
  const good = await encodeCheckpoint(
    {
      step: 1,
      model,
      training,
      vocab: ["a", "b", "c", "d", "e", "f", "g"],
      corpus: { name: "test", sha256: "0", chars: 80, start: "a" },
      optimizer: { name: "AdamW", step: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
      history: { train: [], val: [], resumes: [] },
      seconds: 0,
      savedAt: "now",
    },
    snapshot(t),
  );
  const ckpt = await decodeCheckpoint(good);
  const gone = { ...ckpt, tensors: new Map(ckpt.tensors) };
  gone.tensors.delete("wpe");
  throws(() => restoreTrainee(gone), /the weights of wpe are missing/);
  const other = { ...ckpt, header: { ...ckpt.header, model: { ...model, nEmbd: 4 } } };
  throws(() => restoreTrainee(other), (e: Error) => e instanceof CheckpointError);
  strictEqual(tf.memory().numTensors, before, "a refused restore frees what it made");
  const generating = restoreTrainee(ckpt, "x", { optimizer: false });
  strictEqual(generating.optimizer.moments.size, 0);
  disposeTrainee(generating);
  disposeTrainee(t);
});

Deno.test("the evaluation view of a tied model is kata 10's model with wteᵀ as its head", () => {
  const t = createTrainee(model, training);
  trainStep(t, ids, 0, training);
  const before = tf.memory().numTensors;
  const loss = evaluate(t.model, ids);
  ok(loss > 0 && loss < 3, `${loss}`);
  asMiniLLM(t.model, (m) => deepStrictEqual(m.params.head.w.shape, [8, 7]));
  strictEqual(tf.memory().numTensors, before, "the temporary head is freed");
  disposeTrainee(t);
});

Deno.test("sampling with the KV cache writes exactly what kata 13's generate writes", () => {
  const t = createTrainee({ ...model, tied: false }, training);
  for (let s = 0; s < 4; s++) trainStep(t, ids, s, training);
  const options = { maxNewTokens: 20, temperature: 1, topK: 0, topP: 0.9, seed: 5 };
  const streamed: number[] = [];
  const cached = generateWithCache(t.model, [1, 2], {
    ...options,
    onToken: (id) => streamed.push(id),
  });
  const plain = generateUncached(t.model, [1, 2], options);
  deepStrictEqual(cached, plain);
  deepStrictEqual(streamed, plain.slice(2), "every new token is announced once, in order");
  strictEqual(cached.length, 22, "past the block size (8): the cache is refilled");
  disposeTrainee(t);
});

Deno.test("the schedule and the dropout seeds depend only on the settings and the step", () => {
  const near = (a: number, b: number) => ok(Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);
  near(learningRate(1, training), (1e-2 * 2) / 3); // warm-up: lr·(step + 1)/(warmup + 1)
  near(learningRate(2, training), 1e-2); // the peak
  near(learningRate(6, training), 1e-3); // the floor, lr·minLrRatio, at the schedule's end
  strictEqual(dropoutSeed(3, 10), dropoutSeed(3, 10));
  ok(dropoutSeed(3, 10) !== dropoutSeed(3, 11) && dropoutSeed(3, 10) > 0);
});

Deno.test("unigramLoss: the cross-entropy of predicting each token by its training frequency", () => {
  // train: a ×3, b ×1 (+½ each, 3 tokens of vocabulary): p(a) = 3.5/5.5, p(c) = 0.5/5.5.
  const loss = unigramLoss(Int32Array.of(0, 0, 0, 1), Int32Array.of(0, 2), 3);
  ok(Math.abs(loss - -(Math.log(3.5 / 5.5) + Math.log(0.5 / 5.5)) / 2) < 1e-12, `${loss}`);
});
