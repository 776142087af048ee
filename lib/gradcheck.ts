/**
 * Gradient checking in float32: analytic gradients (autodiff, or ones you wrote by hand) against
 * central differences, compared as a whole.
 *
 * TensorFlow.js has no float64, so the recipe is tuned for float32: a step of `eps = 1e-2` on inputs
 * of order 1, divided by the step float32 really took, and the whole-gradient relative error
 * `|a - n| / (|a| + |n|)` (L2 norms). Correct gradients score about 1e-5..1e-4; one off by 1% scores
 * about 5e-3. The default threshold 1e-3 sits between. Per-element relative errors are useless in
 * float32 and are not used. Prefer smooth activations (tanh, GELU) in checked models: ReLU kinks
 * inflate the error.
 *
 * @example
 * ```ts
 * import { assertGradients } from "./gradcheck.ts";
 * import { tf } from "./tf.ts";
 * const x = tf.tensor1d([0.5, -1, 2]);
 * assertGradients((x) => tf.sum(tf.tanh(x)), [x]);
 * ```
 * @module
 */
import { AssertionError } from "node:assert";
import { tf } from "./tf.ts";
import { rng } from "./random.ts";

/** A function of tensors that returns a scalar, e.g. a loss. */
export type ScalarFn = (...xs: tf.Tensor[]) => tf.Scalar;

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-2). */
  eps?: number;
  /** Largest accepted whole-gradient relative error (default 1e-3). */
  threshold?: number;
  /** Gradients to check instead of autodiff's, e.g. ones written by hand. */
  analytic?: tf.Tensor[];
  /** Check at most this many coordinates per input, drawn with `seed` (default: all). */
  maxCoords?: number;
  seed?: number;
  /** Names of the inputs, for messages (default x0, x1, ...). */
  names?: string[];
}

export interface GradCheckReport {
  /** Whole-gradient relative error over every checked coordinate of every input. */
  relError: number;
  /** The same, per input. */
  perInput: {
    name: string;
    relError: number;
    worstAt: number;
    analytic: number;
    numeric: number;
  }[];
  ok: boolean;
  message: string;
}

function checkedCoords(size: number, maxCoords: number | undefined, seed: number): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  if (maxCoords === undefined || maxCoords >= size) return all;
  const u = rng(`gradcheck:${seed}`);
  for (let i = 0; i < maxCoords; i++) {
    const j = i + Math.floor(u() * (size - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, maxCoords).sort((a, b) => a - b);
}

/** Checks the gradient of `f` at `xs` and returns a report; it does not throw on a mismatch. */
export function gradCheck(
  f: ScalarFn,
  xs: tf.Tensor[],
  opts: GradCheckOptions = {},
): GradCheckReport {
  const { eps = 1e-2, threshold = 1e-3, maxCoords, seed = 0 } = opts;
  const names = opts.names ?? xs.map((_, i) => `x${i}`);
  const analytic = opts.analytic
    ? opts.analytic.map((g) => g.dataSync() as Float32Array)
    : tf.tidy(() => tf.grads(f)(xs).map((g) => g.dataSync() as Float32Array));
  if (analytic.length !== xs.length) {
    throw new RangeError(`gradCheck: ${analytic.length} gradients for ${xs.length} inputs`);
  }
  let diff2 = 0, a2 = 0, n2 = 0;
  const perInput = xs.map((x, i) => {
    const values = Float32Array.from(x.dataSync() as Float32Array);
    const at = (v: Float32Array) =>
      tf.tidy(() => {
        const args = xs.slice();
        args[i] = tf.tensor(v, x.shape, "float32");
        return f(...args).dataSync()[0];
      });
    let d2 = 0, ai2 = 0, ni2 = 0, worst = -1, worstAt = 0, worstA = 0, worstN = 0;
    for (const j of checkedCoords(values.length, maxCoords, seed + i)) {
      const orig = values[j];
      const plus = Math.fround(orig + eps), minus = Math.fround(orig - eps);
      values[j] = plus;
      const fPlus = at(values);
      values[j] = minus;
      const fMinus = at(values);
      values[j] = orig;
      const numeric = (fPlus - fMinus) / (plus - minus);
      const a = analytic[i][j];
      const d = (a - numeric) ** 2;
      d2 += d, ai2 += a * a, ni2 += numeric * numeric;
      if (d > worst) [worst, worstAt, worstA, worstN] = [d, j, a, numeric];
    }
    diff2 += d2, a2 += ai2, n2 += ni2;
    const denom = Math.sqrt(ai2) + Math.sqrt(ni2);
    return {
      name: names[i],
      relError: denom === 0 ? 0 : Math.sqrt(d2) / denom,
      worstAt,
      analytic: worstA,
      numeric: worstN,
    };
  });
  const denom = Math.sqrt(a2) + Math.sqrt(n2);
  const relError = denom === 0 ? 0 : Math.sqrt(diff2) / denom;
  const ok = relError <= threshold;
  const g = (v: number) => Number(v.toPrecision(4));
  const lines = perInput.map((p) =>
    `  ${p.name}: relative error ${
      p.relError.toExponential(1)
    }; largest difference at flat index ` +
    `${p.worstAt}: analytic ${g(p.analytic)}, numeric ${g(p.numeric)}`
  );
  const message = `gradient check ${ok ? "passed" : "FAILED"}: relative error ` +
    `${relError.toExponential(1)} (threshold ${threshold.toExponential(0)}; correct gradients in ` +
    `float32 score about 1e-5..1e-4)\n${lines.join("\n")}`;
  return { relError, perInput, ok, message };
}

/** Throws an AssertionError with {@linkcode gradCheck}'s report unless the gradients agree. */
export function assertGradients(f: ScalarFn, xs: tf.Tensor[], opts: GradCheckOptions = {}): void {
  const report = gradCheck(f, xs, opts);
  if (!report.ok) {
    throw new AssertionError({
      message: report.message +
        "\nCommon causes: a missing factor (1/n of a mean, 2 of a square, 1/sqrt(d)), a sum over " +
        "the wrong axis, or a value computed outside the function (so no gradient flows through it).",
    });
  }
}
