/**
 * Tensor assertions whose failure messages teach: expected against got, which dimension is wrong,
 * where the largest error is.
 *
 * @example
 * ```ts
 * import { assertAllClose, assertShape } from "./assert.ts";
 * import { tf } from "./tf.ts";
 * const x = tf.zeros([4, 8, 32]);
 * assertShape(x, { batch: 4, time: 8, embed: 32 });
 * assertAllClose(tf.add(x, 1e-7), x, { atol: 1e-6 });
 * ```
 * @module
 */
import { AssertionError } from "node:assert";
import { tf } from "./tf.ts";

/** Anything that holds numbers: a tensor, a number, a (nested) array or a typed array. */
export type Numeric = tf.Tensor | number | number[] | number[][] | number[][][] | ArrayLike<number>;

/** Expected sizes named after the math, e.g. `{ batch: 4, time: 8, embed: 32 }`. */
export type Dims = Record<string, number>;

function shapeOf(x: Numeric): number[] {
  if (x instanceof tf.Tensor) return x.shape;
  if (typeof x === "number") return [];
  if (Array.isArray(x)) return x.length === 0 ? [0] : [x.length, ...shapeOf(x[0] as Numeric)];
  return [(x as ArrayLike<number>).length];
}

function valuesOf(x: Numeric): Float64Array {
  if (x instanceof tf.Tensor) return Float64Array.from(x.dataSync() as ArrayLike<number>);
  if (typeof x === "number") return Float64Array.of(x);
  if (Array.isArray(x)) return Float64Array.from((x as unknown[]).flat(Infinity) as number[]);
  return Float64Array.from(x as ArrayLike<number>);
}

function fmtDims(dims: Dims): string {
  return `[${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(", ")}]`;
}

/**
 * Asserts a tensor's shape. Name the dimensions to get messages like
 * `expected [batch=4, time=8, embed=32], got [4, 32]`.
 */
export function assertShape(x: Numeric, expected: Dims | number[], what = "tensor"): void {
  const dims: Dims = Array.isArray(expected)
    ? Object.fromEntries(expected.map((v, i) => [`dim${i}`, v]))
    : expected;
  const want = Object.values(dims);
  const got = shapeOf(x);
  const names = Object.keys(dims);
  const shown = Array.isArray(expected) ? `[${want.join(", ")}]` : fmtDims(dims);
  if (got.length !== want.length) {
    throw new AssertionError({
      message: `${what}: expected shape ${shown}, got [${got.join(", ")}] ` +
        `(rank ${got.length} instead of ${want.length}; a missing reshape, squeeze or expandDims?)`,
    });
  }
  const wrong = want.flatMap((v, i) =>
    v === got[i] ? [] : [`"${names[i]}" (axis ${i}) is ${got[i]}, expected ${v}`]
  );
  if (wrong.length > 0) {
    throw new AssertionError({
      message: `${what}: expected shape ${shown}, got [${got.join(", ")}]: ${wrong.join("; ")}` +
        (wrong.length === 2 && got.slice().sort().join() === want.slice().sort().join()
          ? " (two axes swapped? check a transpose)"
          : ""),
    });
  }
}

/** Tolerances of {@linkcode allClose}: `|actual - expected| <= atol + rtol * |expected|`. */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  /** Names what is compared in the message. */
  what?: string;
}

/** The result of {@linkcode allClose}. `message` describes the comparison, pass or fail. */
export interface CloseReport {
  ok: boolean;
  mismatched: number;
  total: number;
  maxAbsError: number;
  maxAbsAt: number[];
  maxRelError: number;
  maxRelAt: number[];
  message: string;
}

function unravel(flat: number, shape: number[]): number[] {
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return idx;
}

/**
 * Compares two numeric values element-wise (shapes must match exactly; no broadcasting) and reports
 * the largest absolute and relative error and where they are. NaN never matches; an infinity
 * matches only the same infinity.
 */
export function allClose(actual: Numeric, expected: Numeric, opts: CloseOptions = {}): CloseReport {
  const { rtol = 1e-5, atol = 1e-6, what = "value" } = opts;
  assertShape(actual, shapeOf(expected), what);
  const shape = shapeOf(expected);
  const a = valuesOf(actual), e = valuesOf(expected);
  if (e.length === 0) {
    const none = shape.map(() => 0);
    const message = `${what}: both are empty, shape [${shape.join(", ")}].`;
    return {
      ok: true,
      mismatched: 0,
      total: 0,
      maxAbsError: 0,
      maxAbsAt: none,
      maxRelError: 0,
      maxRelAt: none,
      message,
    };
  }
  let mismatched = 0, nan = 0, first = -1, firstNaN = -1;
  let maxAbs = 0, absAt = 0, maxRel = 0, relAt = 0;
  for (let i = 0; i < e.length; i++) {
    // Equal infinities match (as in NumPy); anything else next to an infinity does not.
    const diff = a[i] === e[i] ? 0 : Math.abs(a[i] - e[i]);
    if (!(a[i] === e[i] || (Number.isFinite(e[i]) && diff <= atol + rtol * Math.abs(e[i])))) {
      mismatched++;
      if (first < 0) first = i;
    }
    if (Number.isNaN(diff)) {
      if (nan++ === 0) firstNaN = i;
      continue;
    }
    const rel = diff === 0 ? 0 : diff / Math.abs(e[i]);
    if (diff > maxAbs) [maxAbs, absAt] = [diff, i];
    if (rel > maxRel) [maxRel, relAt] = [rel, i];
  }
  const at = (i: number) => `[${unravel(i, shape).join(", ")}]`;
  const g = (x: number) => Number(x.toPrecision(6));
  const message = `${what}: ${mismatched} of ${e.length} elements differ ` +
    `(rtol=${rtol}, atol=${atol}). ` +
    (nan > 0 ? `${nan} are NaN, the first at ${at(firstNaN)}. ` : "") +
    `Largest absolute error ${g(maxAbs)} at ${at(absAt)} ` +
    `(got ${g(a[absAt])}, expected ${g(e[absAt])}); largest relative error ${g(maxRel)} ` +
    `at ${at(relAt)} (got ${g(a[relAt])}, expected ${g(e[relAt])})` +
    (first >= 0 && first !== absAt ? `; first mismatch at ${at(first)}` : "") + ".";
  return {
    ok: mismatched === 0,
    mismatched,
    total: e.length,
    maxAbsError: maxAbs,
    maxAbsAt: unravel(absAt, shape),
    maxRelError: maxRel,
    maxRelAt: unravel(relAt, shape),
    message,
  };
}

/** Throws an AssertionError with {@linkcode allClose}'s report unless the values are close. */
export function assertAllClose(actual: Numeric, expected: Numeric, opts: CloseOptions = {}): void {
  const report = allClose(actual, expected, opts);
  if (!report.ok) throw new AssertionError({ message: report.message });
}
