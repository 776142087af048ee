/**
 * The model behind `deno task train` and `deno task generate`, put together from the reference
 * solutions: kata 14's model (dropout, weight tying, the warm-up + cosine schedule, the KV cache)
 * trained with kata 12's `fit` (cross-entropy, gradient clipping, AdamW) on kata 11's seeded
 * batches, measured with kata 12's `estimateLoss` and sampled with kata 13's `generate` and
 * `sampleFrom`. What is here is only the glue: names for the tensors of a checkpoint, the
 * optimizer's state in and out, one resumable training step, and a sampling loop on the cache.
 * @module
 */
import { tf } from "../lib/tf.ts";
import { rng } from "../lib/random.ts";
import type { MiniLLM } from "../solutions/10_mini_llm/mod.ts";
import { getBatch } from "../solutions/11_training_data/mod.ts";
import {
  AdamW,
  clipByGlobalNorm,
  crossEntropy,
  decayedParameters,
  estimateLoss,
  fit,
} from "../solutions/12_training_loop/mod.ts";
import {
  generate,
  nextTokenLogits,
  resolveSampleOptions,
  sampleFrom,
} from "../solutions/13_text_generation/mod.ts";
import {
  createKVCache,
  forwardCached,
  forwardImproved,
  type ImprovedModel,
  improvedParameters,
  initImproved,
  lrAt,
  resetKVCache,
} from "../solutions/14_improvements/mod.ts";
import {
  type Checkpoint,
  CheckpointError,
  type ModelConfig,
  type NamedArray,
  type TrainingConfig,
} from "./checkpoint.ts";

/** A model being trained, with its optimizer. */
export interface Trainee {
  model: ImprovedModel;
  optimizer: AdamW;
  /** The trainable variables, in kata 14's fixed order. */
  vars: tf.Variable[];
  /** Each variable's name in checkpoints ("wte", "blocks.0.attn.wQkv", ...). */
  names: Map<tf.Variable, string>;
}

/** Kata 14's config from a checkpoint's. */
function improvedConfig(c: ModelConfig) {
  const { vocabSize, blockSize, nEmbd, nHead, nLayer, dropout, tied } = c;
  return { vocabSize, blockSize, nEmbd, nHead, nLayer, dropout, tieWeights: tied };
}

/** Every tensor under `value` with a dotted path as its name (arrays by index; null skipped). */
export function namedTensors(value: unknown, prefix = ""): [string, tf.Tensor][] {
  if (value instanceof tf.Tensor) return [[prefix, value]];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, child]) =>
    namedTensors(child, prefix ? `${prefix}.${key}` : key)
  );
}

function namesOf(model: ImprovedModel): Map<tf.Variable, string> {
  const names = new Map<tf.Variable, string>();
  for (const [name, t] of namedTensors(model.params)) {
    if (!names.has(t as tf.Variable)) names.set(t as tf.Variable, name);
  }
  return names;
}

/** A new model (kata 14's initImproved) and a fresh AdamW (kata 12). */
export function createTrainee(config: ModelConfig, training: TrainingConfig): Trainee {
  const model = initImproved(improvedConfig(config), { seed: training.seed });
  const optimizer = new AdamW({ lr: training.lr, weightDecay: training.weightDecay });
  return { model, optimizer, vars: improvedParameters(model), names: namesOf(model) };
}

/** The model's weights and the optimizer's moments, as named arrays for a checkpoint. */
export function snapshot(t: Trainee): NamedArray[] {
  const read = (name: string, x: tf.Tensor): NamedArray => ({
    name,
    shape: [...x.shape],
    data: Float32Array.from(x.dataSync() as Float32Array),
  });
  const out = t.vars.map((v) => read(t.names.get(v)!, v));
  for (const v of t.vars) {
    const m = t.optimizer.moments.get(v);
    if (m) out.push(read(`opt.m/${t.names.get(v)}`, m.m), read(`opt.v/${t.names.get(v)}`, m.v));
  }
  return out;
}

/**
 * The model and optimizer of a checkpoint: kata 14's model made from its config, then every
 * weight and moment set from it. Throws a CheckpointError if a tensor is missing, extra or of
 * another shape (a checkpoint that does not fit its own config). With `optimizer: false` (to
 * generate) the moments are not loaded.
 */
export function restoreTrainee(
  ckpt: Checkpoint,
  what = "checkpoint",
  { optimizer = true }: { optimizer?: boolean } = {},
): Trainee {
  const { header, tensors } = ckpt;
  return loadTrainee(header.model, header.training, header.optimizer.step, tensors, what, {
    optimizer,
  });
}

/**
 * {@linkcode restoreTrainee} from its parts: a model and optimizer made from the configs, then
 * every weight (and, unless `optimizer` is false, every moment) set from `tensors`, and the
 * optimizer's step count set to `optimizerStep`. The training threads start their replicas so.
 */
export function loadTrainee(
  config: ModelConfig,
  training: TrainingConfig,
  optimizerStep: number,
  tensors: ReadonlyMap<string, NamedArray>,
  what = "checkpoint",
  { optimizer = true }: { optimizer?: boolean } = {},
): Trainee {
  const t = createTrainee(config, training);
  t.optimizer.t = optimizerStep;
  const used = new Set<string>();
  const take = (name: string, like: tf.Tensor): tf.Tensor | undefined => {
    const a = tensors.get(name);
    if (!a) return undefined;
    if (!tf.util.arraysEqual(a.shape, like.shape)) {
      disposeTrainee(t);
      throw new CheckpointError(
        `${what}: tensor ${name} is [${a.shape}], its model needs [${like.shape}]`,
      );
    }
    used.add(name);
    return tf.tensor(a.data, a.shape);
  };
  for (const v of t.vars) {
    const name = t.names.get(v)!;
    const value = take(name, v);
    if (!value) {
      disposeTrainee(t);
      throw new CheckpointError(`${what}: the weights of ${name} are missing`);
    }
    v.assign(value);
    value.dispose();
    if (!optimizer) continue;
    const m = take(`opt.m/${name}`, v), s = take(`opt.v/${name}`, v);
    if (m && s) t.optimizer.moments.set(v, { m: tf.variable(m, false), v: tf.variable(s, false) });
    tf.dispose([m, s].filter((x): x is tf.Tensor => x !== undefined));
  }
  const extra = [...tensors.keys()].filter((n) =>
    !used.has(n) && (optimizer || !n.startsWith("opt."))
  );
  if (extra.length) {
    disposeTrainee(t);
    throw new CheckpointError(`${what}: tensors its model does not have: ${extra.join(", ")}`);
  }
  return t;
}

/** Frees the model and the optimizer. */
export function disposeTrainee(t: Trainee): void {
  t.optimizer.dispose();
  tf.dispose(t.vars);
}

/** The learning rate of step `step` (kata 14's warm-up + cosine; `steps` is its length). */
export function learningRate(step: number, c: TrainingConfig): number {
  return lrAt(step, {
    warmup: c.warmup,
    total: c.steps,
    maxLr: c.lr,
    minLr: c.lr * c.minLrRatio,
  });
}

/**
 * A non-zero seed for the dropout masks of step `step` (of the rows of training thread `shard`,
 * 0 for the first or only one): it depends only on the seed, the step and the shard.
 */
export function dropoutSeed(seed: number, step: number, shard = 0): number {
  const key = shard === 0 ? `${seed}:dropout:${step}` : `${seed}:dropout:${step}:${shard}`;
  return 1 + Math.floor(rng(key)() * (2 ** 31 - 2));
}

/**
 * Step number `step` of the run (0 for the first): kata 12's `fit` for one step from `startStep`,
 * with the run's optimizer (its moments carry over), so that the batch, the dropout masks and the
 * learning rate depend only on the seed and the step: a resumed run continues exactly.
 */
export function trainStep(
  t: Trainee,
  ids: Int32Array,
  step: number,
  c: TrainingConfig,
): { loss: number; gradNorm: number; lr: number } {
  const seed = dropoutSeed(c.seed, step);
  const loss = (inputs: tf.Tensor2D, targets: tf.Tensor2D) =>
    crossEntropy(forwardImproved(t.model, inputs, { train: true, seed }), targets);
  // kata 12's choice of decayed variables; a tied model has no head matrix (null) to decay.
  const decay = decayed(t);
  let info = { loss: NaN, gradNorm: NaN, lr: NaN };
  fit(t.vars, decay, loss, ids, {
    steps: 1,
    startStep: step,
    batch: c.batch,
    time: t.model.config.blockSize,
    seed: c.seed,
    lr: c.lr,
    lrAt: (s) => learningRate(s, c),
    clip: c.clip,
    optimizer: t.optimizer,
    onStep: ({ loss, gradNorm, lr }) => void (info = { loss, gradNorm, lr }),
  });
  return info;
}

/** The rows [start, end) of a batch that shard `index` of `count` takes: as equal as can be. */
export function shardRows(batch: number, index: number, count: number): [number, number] {
  const at = (i: number) => Math.floor((i * batch) / count);
  return [at(index), at(index + 1)];
}

/** The variables that get weight decay: kata 12's choice (a tied model has no head matrix). */
function decayed(t: Trainee): Set<tf.Variable> {
  return new Set([...decayedParameters(t.model as unknown as MiniLLM)].filter((v) => v !== null));
}

/**
 * One training thread's part of step `step`: the rows {@linkcode shardRows} of the step's batch
 * (the same getBatch as kata 12's `fit`), their mean loss and its gradient for every variable of
 * `t.vars`, in that order (zeros for a variable the loss does not use). Changes no weight. Shard
 * 0's dropout masks are those of {@linkcode trainStep}; the others' have seeds of their own. The
 * caller frees `grads`.
 */
export function shardGradients(
  t: Trainee,
  ids: Int32Array,
  step: number,
  c: TrainingConfig,
  shard: { index: number; count: number },
): { loss: number; rows: number; grads: tf.Tensor[] } {
  const [start, end] = shardRows(c.batch, shard.index, shard.count);
  const seed = dropoutSeed(c.seed, step, shard.index);
  const time = t.model.config.blockSize;
  return tf.tidy(() => {
    const batch = getBatch(ids, { batch: c.batch, time, seed: `${c.seed}:${step}` });
    const rows = (x: tf.Tensor2D) => tf.slice(x, [start, 0], [end - start, time]);
    const inputs = rows(batch.inputs), targets = rows(batch.targets);
    const { value, grads } = tf.variableGrads(
      () => crossEntropy(forwardImproved(t.model, inputs, { train: true, seed }), targets),
      t.vars,
    );
    const loss = value.dataSync()[0];
    return { loss, rows: end - start, grads: t.vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
  });
}

/**
 * The update of step `step` from the gradient of the whole batch, `grads` (in the order of
 * `t.vars`): as kata 12's `fit` does it, clipping to the global norm c.clip, then one AdamW step
 * with the learning rate of the schedule (or `lr`) and weight decay on kata 12's matrices.
 * `loss` is the step's loss, checked first: a RangeError, with nothing updated, if it is not
 * finite. Frees nothing it was given.
 */
export function applyGradients(
  t: Trainee,
  grads: tf.Tensor[],
  loss: number,
  step: number,
  c: TrainingConfig,
  lr = learningRate(step, c),
): { gradNorm: number; lr: number } {
  if (!Number.isFinite(loss)) {
    throw new RangeError(
      `the loss is ${loss} at step ${step}; no update was made. Try a smaller --lr.`,
    );
  }
  t.optimizer.lr = lr;
  const clipped = clipByGlobalNorm(grads, c.clip);
  try {
    t.optimizer.step(t.vars, clipped.grads, decayed(t));
  } finally {
    tf.dispose(clipped.grads);
  }
  return { gradNorm: clipped.norm, lr };
}

/**
 * Runs `f` on the model seen as kata 10's MiniLLM, in evaluation mode: kata 14's model without
 * dropout is kata 10's, except that a tied head reads wteᵀ. For a tied model, wteᵀ is made as a
 * temporary head matrix for the call (and freed after it).
 */
export function asMiniLLM<T>(model: ImprovedModel, f: (m: MiniLLM) => T): T {
  const { head, wte } = model.params;
  if (head.w) return f(model as unknown as MiniLLM);
  const w = tf.transpose(wte) as tf.Tensor2D;
  try {
    return f({ config: model.config, params: { ...model.params, head: { w, b: head.b } } });
  } finally {
    w.dispose();
  }
}

/** The mean loss over the non-overlapping windows of `ids` (kata 12's estimateLoss). */
export function evaluate(model: ImprovedModel, ids: Int32Array): number {
  return asMiniLLM(
    model,
    (m) => estimateLoss(m, ids, { time: model.config.blockSize, batch: 32 }),
  );
}

/**
 * A baseline for the validation loss: the cross-entropy on `val` of a model that ignores the
 * context and predicts each token with its frequency in `train` (add-½ smoothing, so that a
 * token never seen in training costs a finite amount). A trained model should beat it.
 */
export function unigramLoss(train: Int32Array, val: Int32Array, vocabSize: number): number {
  const counts = new Float64Array(vocabSize).fill(0.5);
  for (const id of train) counts[id]++;
  const total = train.length + 0.5 * vocabSize;
  let sum = 0;
  for (const id of val) sum -= Math.log(counts[id] / total);
  return sum / val.length;
}

/** Sampling options of kata 13, and the generation's length and seed. */
export interface SampleRun {
  maxNewTokens: number;
  temperature: number;
  /** 0 or Infinity: no top-k. */
  topK: number;
  topP: number;
  seed: number;
  onToken?: (id: number, index: number) => void;
}

const kata13Options = (o: SampleRun) => ({
  temperature: o.temperature,
  topK: o.topK > 0 ? o.topK : Infinity,
  topP: o.topP,
});

/** Kata 13's `generate`: every token reads the whole (cropped) context again. */
export function generateUncached(model: ImprovedModel, prompt: number[], o: SampleRun): number[] {
  return asMiniLLM(model, (m) =>
    generate(m, prompt, {
      ...kata13Options(o),
      maxNewTokens: o.maxNewTokens,
      seed: o.seed,
      onToken: o.onToken,
    }));
}

/**
 * The same tokens as {@linkcode generateUncached} (same draws from one rng(seed), same context of
 * at most blockSize tokens) with kata 14's KV cache: the prompt is read once, then each step feeds
 * only the newest token. Learned positions are absolute, so once the text fills the block the
 * cache cannot slide: from then on every token needs the whole window again, and that is done as
 * kata 13 does it (`nextTokenLogits`, kata 10's forward pass), which is faster on wasm than
 * refilling the cache at every step. The cache therefore saves time only while the text is
 * shorter than the block (see the README).
 */
export function generateWithCache(model: ImprovedModel, prompt: number[], o: SampleRun): number[] {
  const opts = kata13Options(o);
  resolveSampleOptions(opts);
  if (prompt.length === 0) throw new RangeError("the prompt needs at least one token");
  const { blockSize } = model.config;
  const u = rng(o.seed);
  const tokens = [...prompt];
  const cache = createKVCache(model);
  const cachedLogits = (fresh: number[]) => {
    const last = tf.tidy(() => {
      const out = forwardCached(model, tf.tensor2d([fresh], [1, fresh.length], "int32"), cache);
      return tf.reshape(tf.slice(out, [0, fresh.length - 1, 0], [1, 1, -1]), [-1]);
    });
    const values = last.dataSync() as Float32Array;
    last.dispose();
    return values;
  };
  try {
    return asMiniLLM(model, (plain) => {
      for (let i = 0; i < o.maxNewTokens; i++) {
        const logits = tokens.length > blockSize
          ? nextTokenLogits(plain, tokens) // the window slides: no cache can help
          : cachedLogits(cache.length === 0 ? tokens : tokens.slice(-1));
        const id = sampleFrom(logits, opts, u);
        tokens.push(id);
        o.onToken?.(id, i);
      }
      return tokens;
    });
  } finally {
    resetKVCache(cache);
  }
}
