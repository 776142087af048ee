/**
 * Kata 12 · 训练循环 · The training loop — the reference solution.
 *
 * What turns kata 10's model and kata 11's batches into a model that learns: the cross-entropy of
 * every position ([batch·time, vocab] against [batch·time]), gradient clipping by global norm,
 * AdamW (Adam with decoupled weight decay, on the weight matrices only), a loop over seeded
 * mini-batches that leaks no tensor from one step to the next, and the validation loss on
 * held-out tokens, measured without gradients. Kata 10's model and kata 11's data come from their
 * reference solutions. Katas 13 and 14 and `deno task train` build on these exports.
 * @module
 */
import { tf } from "../../lib/tf.ts";
import {
  forward,
  initMiniLLM,
  type MiniLLM,
  type MiniLLMConfig,
  parameters,
} from "../10_mini_llm/mod.ts";
import { CharTokenizer, getBatch, makeWindows, SEED_TEXT } from "../11_training_data/mod.ts";

// The model of kata 10 and the data of kata 11, from their reference solutions (the tests use
// them to build models and batches).
export { CharTokenizer, forward, getBatch, initMiniLLM, makeWindows, parameters, SEED_TEXT };
export type { MiniLLM, MiniLLMConfig };

/** Options of {@linkcode AdamW}. The defaults are PyTorch's `torch.optim.AdamW`. */
export interface AdamWOptions {
  /** The learning rate γ. */
  lr: number;
  /** β₁, the decay of the first moment (the mean of the gradients); default 0.9. */
  beta1?: number;
  /** β₂, the decay of the second moment (the mean of their squares); default 0.999. */
  beta2?: number;
  /** ε, added to √v̂ so that a parameter with no gradient yet does not divide by 0; default 1e-8. */
  eps?: number;
  /** λ, the decoupled weight decay; default 0.01 (PyTorch's; fit uses nanoGPT's 0.1). */
  weightDecay?: number;
}

/** The two moments AdamW keeps for one variable. */
export interface Moments {
  /** m: the moving average of the gradient, β₁·m + (1 − β₁)·g. */
  m: tf.Variable;
  /** v: the moving average of its square, β₂·v + (1 − β₂)·g². */
  v: tf.Variable;
}

/** Throws a RangeError unless `value` is a finite number in the given range. */
function checkNumber(name: string, value: number, ok: (x: number) => boolean, want: string): void {
  if (!(typeof value === "number" && Number.isFinite(value) && ok(value))) {
    throw new RangeError(`${name} must be ${want}; got ${value}`);
  }
}

/** `[2, 3, 5]`: a shape as it is written in messages. */
function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/**
 * The mean softmax cross-entropy over every position: logits [batch, time, vocab] against int32
 * targets [batch, time], flattened to [batch·time, vocab] and [batch·time]:
 * L = −(1/(B·T)) Σᵢ log softmax(zᵢ)[yᵢ], computed with logSoftmax (finite for any finite logits).
 * Throws a RangeError if the shapes do not pair one target with each row of logits, and a
 * TypeError unless the targets are int32.
 */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  if (logits.rank !== 3) {
    throw new RangeError(
      `crossEntropy: logits must be [batch, time, vocab]; got ${fmt(logits.shape)}`,
    );
  }
  const [batch, time, vocab] = logits.shape;
  if (targets.rank !== 2 || targets.shape[0] !== batch || targets.shape[1] !== time) {
    throw new RangeError(
      `crossEntropy: logits ${fmt(logits.shape)} need targets [batch=${batch}, time=${time}], ` +
        `one target per position; got targets ${fmt(targets.shape)}. ` +
        (targets.rank === 1 && targets.shape[0] === batch
          ? `One target per window is the seed's step 11: its output.view(-1, vocab) has ` +
            `${batch * time} rows for ${batch} targets. Make a target for every position (kata 11).`
          : `Both come from the same windows: inputs and targets are [batch, time].`),
    );
  }
  if (targets.dtype !== "int32") {
    throw new TypeError(
      `crossEntropy: targets must be int32 token ids; got ${targets.dtype}. Make them with ` +
        `tf.tensor2d(ids, shape, "int32") (kata 11's getBatch does).`,
    );
  }
  return tf.tidy(() => {
    const rows = batch * time;
    const logp = tf.logSoftmax(tf.reshape(logits, [rows, vocab])); // log p, [B·T, V]
    const picked = tf.mul(logp, tf.oneHot(tf.reshape(targets, [rows]), vocab));
    return tf.neg(tf.div(tf.sum(picked), rows)) as tf.Scalar; // the mean over B·T rows
  });
}

/**
 * Gradient clipping by global norm: with ‖g‖ = √(Σ over every tensor and element of g²), every
 * gradient is multiplied by the same factor min(1, maxNorm/‖g‖), so the direction of the whole
 * update is kept and its norm is at most maxNorm. Returns new tensors in the same order (copies
 * when nothing is clipped) and the norm BEFORE clipping. Disposes nothing it was given.
 */
export function clipByGlobalNorm(
  grads: tf.Tensor[],
  maxNorm: number,
): { grads: tf.Tensor[]; norm: number } {
  checkNumber("clipByGlobalNorm: maxNorm", maxNorm, (x) => x > 0, "a positive number");
  if (grads.length === 0) return { grads: [], norm: 0 };
  const norm = tf.tidy(() =>
    tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]
  );
  if (!(norm > maxNorm)) return { grads: grads.map((g) => g.clone()), norm }; // NaN: kept
  const scale = maxNorm / norm;
  return { grads: tf.tidy(() => grads.map((g) => tf.mul(g, scale))), norm };
}

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019), as PyTorch's
 * `torch.optim.AdamW`. At step t, for each variable θ with gradient g:
 *
 *   m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²,   m̂ = m/(1 − β₁ᵗ),   v̂ = v/(1 − β₂ᵗ)
 *   θ ← θ − γ·m̂/(√v̂ + ε) − γ·λ·θ      (the last term only for θ in `decay`)
 *
 * The decay is decoupled: it shrinks θ directly, outside the moments, so every decayed weight
 * shrinks by the same factor 1 − γλ whatever its gradients. (Adam with L2, a λθ added to g, sends
 * the decay through √v̂ too: weights with large gradients are barely decayed.)
 *
 * Which variables decay is the caller's choice; {@linkcode decayedParameters} decays the weight
 * matrices and not the biases, LayerNorm gains and biases, or embeddings.
 */
export class AdamW {
  /** γ. Settable: a schedule (kata 14) changes it between steps. */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** λ. */
  readonly weightDecay: number;
  /** Steps taken, the t of the bias correction: 0 before the first. Save it in a checkpoint. */
  t = 0;
  /**
   * The moments of each variable, made (as zeros) at its first step and kept across steps. A
   * checkpoint saves them with `t`; a resumed run sets them for its new variables.
   */
  readonly moments: Map<tf.Variable, Moments> = new Map();

  constructor(opts: AdamWOptions) {
    const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01 } = opts;
    checkNumber("AdamW: lr", lr, (x) => x >= 0, "a number ≥ 0");
    checkNumber("AdamW: beta1", beta1, (x) => x >= 0 && x < 1, "in [0, 1)");
    checkNumber("AdamW: beta2", beta2, (x) => x >= 0 && x < 1, "in [0, 1)");
    checkNumber("AdamW: eps", eps, (x) => x > 0, "a positive number");
    checkNumber("AdamW: weightDecay", weightDecay, (x) => x >= 0, "a number ≥ 0");
    this.lr = lr;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  /** The moments of `p`, made as zeros (non-trainable variables) the first time it is seen. */
  protected momentsOf(p: tf.Variable): Moments {
    let s = this.moments.get(p);
    if (s === undefined) {
      s = tf.tidy(() => ({
        m: tf.variable(tf.zerosLike(p), false),
        v: tf.variable(tf.zerosLike(p), false),
      }));
      this.moments.set(p, s);
    }
    return s;
  }

  /**
   * One update of every variable in `vars` with the gradient at the same index of `grads`, in
   * place (`assign`). Weight decay only for the variables in `decay`. Frees every temporary
   * tensor; disposes nothing it was given.
   */
  step(vars: tf.Variable[], grads: tf.Tensor[], decay: ReadonlySet<tf.Variable>): void {
    if (vars.length !== grads.length) {
      throw new RangeError(
        `AdamW.step: ${vars.length} variables but ${grads.length} gradients: one per variable`,
      );
    }
    vars.forEach((p, i) => {
      if (!tf.util.arraysEqual(p.shape, grads[i].shape)) {
        throw new RangeError(
          `AdamW.step: variable ${i} (${p.name}) is ${fmt(p.shape)} but its gradient is ` +
            `${fmt(grads[i].shape)}: grads must be in the order of vars`,
        );
      }
    });
    this.t += 1;
    const { beta1, beta2, eps, lr, weightDecay, t } = this;
    const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t; // the bias corrections
    tf.tidy(() => {
      vars.forEach((p, i) => {
        const g = grads[i], s = this.momentsOf(p);
        s.m.assign(tf.add(tf.mul(s.m, beta1), tf.mul(g, 1 - beta1)));
        s.v.assign(tf.add(tf.mul(s.v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const mHat = tf.div(s.m, c1), vHat = tf.div(s.v, c2);
        const update = tf.div(mHat, tf.add(tf.sqrt(vHat), eps));
        const decayed = decay.has(p) && weightDecay > 0 ? tf.mul(p, 1 - lr * weightDecay) : p;
        p.assign(tf.sub(decayed, tf.mul(update, lr)));
      });
    });
  }

  /** Frees the moments. The optimizer can step again afterwards, from fresh moments. */
  dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }
}

/** What {@linkcode fit} does at each step. */
export interface FitOptions {
  /** How many steps (updates) to run. */
  steps: number;
  /** Windows per batch, B. */
  batch: number;
  /** Tokens per window, T (at most the model's block size). */
  time: number;
  /** The batch of step s is getBatch(ids, { batch, time, seed: `${seed}:${s}` }). */
  seed: number;
  /** The learning rate γ. */
  lr: number;
  /** The learning rate of step s; overrides `lr` when given (kata 14's schedule). */
  lrAt?: (step: number) => number;
  /** λ of the AdamW that fit makes (default 0.1, nanoGPT's); ignored with `optimizer`. */
  weightDecay?: number;
  /** The global-norm clip (default 1.0). */
  clip?: number;
  /** Called after every step with the loss before its update, the norm before clipping, γ. */
  onStep?: (info: { step: number; loss: number; gradNorm: number; lr: number }) => void;
  /**
   * An optimizer to use (and keep) instead of a new one: its moments carry over between calls,
   * e.g. to train in chunks with a validation pass between them, or to resume from a checkpoint.
   * fit sets its lr from `lr` or `lrAt` at every step, and disposes the optimizer it makes
   * itself, never one it is given.
   */
  optimizer?: AdamW;
  /** The number of the first step (default 0): a resumed run continues its batches and lrAt. */
  startStep?: number;
}

/** What {@linkcode fit} returns. */
export interface FitResult {
  /** The loss of each step on its batch, before that step's update. */
  losses: number[];
}

/** Throws a RangeError for options fit cannot run with. */
function checkFitOptions(opts: FitOptions): void {
  const whole = (x: number) => Number.isInteger(x);
  checkNumber("fit: steps", opts.steps, (x) => whole(x) && x >= 0, "a whole number ≥ 0");
  checkNumber("fit: batch", opts.batch, (x) => whole(x) && x >= 1, "a whole number ≥ 1");
  checkNumber("fit: time", opts.time, (x) => whole(x) && x >= 1, "a whole number ≥ 1");
  checkNumber("fit: seed", opts.seed, () => true, "a number");
  checkNumber("fit: lr", opts.lr, (x) => x >= 0, "a number ≥ 0");
  checkNumber("fit: clip", opts.clip ?? 1, (x) => x > 0, "a positive number");
  checkNumber("fit: startStep", opts.startStep ?? 0, (x) => whole(x) && x >= 0, "whole, ≥ 0");
}

/**
 * The training loop. For each step s (from `startStep`): the seeded batch of step s, the loss and
 * the gradients of `vars` (tf.variableGrads), clipping to global norm `clip`, one AdamW update
 * with weight decay on `decay`. `loss(inputs, targets)` builds the scalar loss from the int32
 * [batch, time] tensors. One step's tensors are all freed before the next: only the AdamW moments
 * (made at the first step) outlive it. Throws a RangeError, before updating anything, at the
 * first loss that is not finite.
 */
export function fit(
  vars: tf.Variable[],
  decay: ReadonlySet<tf.Variable>,
  loss: (inputs: tf.Tensor2D, targets: tf.Tensor2D) => tf.Scalar,
  ids: Int32Array,
  opts: FitOptions,
): FitResult {
  checkFitOptions(opts);
  const { steps, batch, time, seed, clip = 1, startStep = 0 } = opts;
  const optimizer = opts.optimizer ??
    new AdamW({ lr: opts.lr, weightDecay: opts.weightDecay ?? 0.1 });
  const losses: number[] = [];
  try {
    for (let step = startStep; step < startStep + steps; step++) {
      const lr = opts.lrAt ? opts.lrAt(step) : opts.lr;
      optimizer.lr = lr;
      const { value, gradNorm } = tf.tidy(() => {
        const { inputs, targets } = getBatch(ids, { batch, time, seed: `${seed}:${step}` });
        const { value, grads } = tf.variableGrads(() => loss(inputs, targets), vars);
        const v = value.dataSync()[0]; // the one read of the step (and clipping reads the norm)
        if (!Number.isFinite(v)) {
          throw new RangeError(
            `fit: the loss is ${v} at step ${step}; no update was made. A learning rate too ` +
              `large, or a log of 0 in the loss?`,
          );
        }
        // A variable the loss does not use has no gradient: it is left alone (as in PyTorch).
        const used = vars.filter((p) => grads[p.name] != null);
        const clipped = clipByGlobalNorm(used.map((p) => grads[p.name]), clip);
        optimizer.step(used, clipped.grads, decay);
        return { value: v, gradNorm: clipped.norm };
      });
      losses.push(value);
      opts.onStep?.({ step, loss: value, gradNorm, lr });
    }
  } finally {
    if (opts.optimizer === undefined) optimizer.dispose();
  }
  return { losses };
}

/**
 * Given: the variables of a model that get weight decay: the weight matrices of every block
 * (W_QKV, W_O, W_fc, W_proj) and of the head. Not the biases, not the LayerNorm gains and biases
 * (decay would pull γ towards 0, not towards 1, its neutral value), and not the embeddings wte
 * and wpe: a row of wte gets a gradient only when its token occurs, while decay shrinks every row
 * at every step, so the rare tokens would fade (minGPT's choice; nanoGPT decays them too).
 */
export function decayedParameters(model: MiniLLM): Set<tf.Variable> {
  const { blocks, head } = model.params;
  return new Set(
    [
      ...blocks.flatMap((b) => [b.attn.wQkv, b.attn.wO, b.mlp.wFc, b.mlp.wProj]),
      head.w,
    ] as tf.Variable[],
  );
}

/**
 * Given: {@linkcode fit} for a MiniLLM of kata 10: loss = crossEntropy(forward(model, inputs),
 * targets), weight decay on {@linkcode decayedParameters}.
 */
export function trainModel(model: MiniLLM, ids: Int32Array, opts: FitOptions): FitResult {
  const loss = (inputs: tf.Tensor2D, targets: tf.Tensor2D) =>
    crossEntropy(forward(model, inputs), targets);
  return fit(parameters(model), decayedParameters(model), loss, ids, opts);
}

/**
 * The validation loss: the mean cross-entropy over every position of the non-overlapping windows
 * of `ids` (makeWindows(ids, time, time)), evaluated `batch` windows at a time (default 32), with
 * no gradients. Deterministic; changes no weight. Throws a RangeError if `ids` has fewer than
 * time + 1 tokens.
 */
export function estimateLoss(
  model: MiniLLM,
  ids: Int32Array,
  opts: { time: number; batch?: number },
): number {
  const { time, batch = 32 } = opts;
  checkNumber("estimateLoss: batch", batch, (x) => Number.isInteger(x) && x >= 1, "whole, ≥ 1");
  const { inputs, targets } = makeWindows(ids, time, time);
  try {
    const windows = inputs.shape[0];
    let sum = 0;
    for (let start = 0; start < windows; start += batch) {
      const size = Math.min(batch, windows - start);
      const mean = tf.tidy(() => {
        const x = tf.slice(inputs, [start, 0], [size, time]);
        const y = tf.slice(targets, [start, 0], [size, time]);
        return crossEntropy(forward(model, x), y).dataSync()[0];
      });
      sum += mean * size; // a chunk's mean counts for its windows: the last may be smaller
    }
    return sum / windows;
  } finally {
    tf.dispose([inputs, targets]);
  }
}
