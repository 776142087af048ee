/**
 * Tests of kata 01 · 环境配置与张量 · Setup and tensors.
 *
 * Every expected value is computed a second way, with plain loops over JavaScript arrays (the
 * "oracle"), and every property is checked on several random sizes drawn with `dims` from
 * lib/random.ts: a function that only works for the worked example does not pass.
 */
import {
  assertAllClose,
  assertNoLeaks,
  assertShape,
  backend,
  dims,
  normalRng,
  tf,
  TodoError,
} from "../../lib/mod.ts";
import {
  addBias,
  columnMeans,
  countPositive,
  currentBackend,
  fromRows,
  linear,
  sumOfSquares,
  toColumn,
} from "./mod.ts";

/** Seeds of the property tests: each one draws its own sizes and values. */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

/**
 * Wraps a test body in `tf.tidy`, so every tensor the test makes is freed when it ends, even when
 * it fails: the discipline this kata teaches, applied to the tests themselves.
 */
function tidy(body: () => void): () => void {
  return () => tf.tidy(body);
}

/** Throws `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

// ---- plain-JavaScript oracles and data ----

/** A rows × cols matrix of seeded normal numbers, each already a float32 value. */
function randomMatrix(rows: number, cols: number, seed: string): number[][] {
  const z = normalRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => Math.fround(z())));
}

/** Seeded normal numbers, already float32 values. */
function randomVector(n: number, seed: string): number[] {
  return randomMatrix(1, n, seed)[0];
}

/** A float32 tensor of random shape (rank 0 to 3, each size 1 to 4) and its values. */
function randomTensor(seed: string): { t: tf.Tensor; values: number[] } {
  const { rank, a, b, c } = dims({ rank: [0, 3], a: [1, 4], b: [1, 4], c: [1, 4] }, seed);
  const shape = [a, b, c].slice(0, rank);
  const values = randomVector(shape.reduce((p, s) => p * s, 1), `values:${seed}`);
  return { t: tf.tensor(values, shape), values };
}

/** x + b, row by row: out[i][j] = x[i][j] + b[j]. */
function addBiasOracle(x: number[][], b: number[]): number[][] {
  return x.map((row) => row.map((v, j) => v + b[j]));
}

/** The mean of each column: out[j] = (1/rows) Σ_i x[i][j]. */
function columnMeansOracle(x: number[][]): number[] {
  const out = new Array<number>(x[0].length).fill(0);
  for (const row of x) row.forEach((v, j) => (out[j] += v / x.length));
  return out;
}

/** y[i][k] = Σ_j x[i][j] w[j][k] + b[k]. */
function linearOracle(x: number[][], w: number[][], b: number[]): number[][] {
  return x.map((row) =>
    b.map((bk, k) => {
      let sum = bk;
      for (let j = 0; j < row.length; j++) sum += row[j] * w[j][k];
      return sum;
    })
  );
}

// ---- setup ----

Deno.test("currentBackend: the backend lib/tf.ts chose (wasm; cpu with -- --backend=cpu)", () => {
  const name = currentBackend();
  check(
    name === tf.getBackend(),
    `currentBackend() returned ${JSON.stringify(name)}, but TensorFlow.js is running on ` +
      `"${tf.getBackend()}". Do not guess: ask tf which backend is active.`,
  );
  check(
    name === backend,
    `currentBackend() is "${name}", but lib/tf.ts chose "${backend}". Import tf from ` +
      `lib/tf.ts, never from the npm package: lib/tf.ts sets the backend before any tensor exists.`,
  );
});

// ---- creating tensors ----

Deno.test(
  "fromRows: a [rows, cols] tensor holding the rows in order",
  tidy(() => {
    const t = fromRows([[1, 2, 3], [4, 5, 6]]);
    assertShape(t, { rows: 2, cols: 3 }, "fromRows([[1, 2, 3], [4, 5, 6]])");
    assertAllClose(t, [[1, 2, 3], [4, 5, 6]], { what: "fromRows([[1, 2, 3], [4, 5, 6]])" });
    for (const seed of SEEDS) {
      const { rows, cols } = dims({ rows: [1, 6], cols: [1, 6] }, `fromRows:${seed}`);
      const m = randomMatrix(rows, cols, `fromRows:${seed}`);
      const what = `fromRows of ${rows} rows of ${cols} numbers (seed ${seed})`;
      const x = fromRows(m);
      assertShape(x, { rows, cols }, what);
      assertAllClose(x, m, { atol: 0, rtol: 0, what });
    }
  }),
);

Deno.test(
  "fromRows: numbers become float32, the default dtype (tfjs has no float64)",
  tidy(() => {
    const whole = fromRows([[1, 2], [3, 4]]);
    check(
      whole.dtype === "float32",
      `fromRows([[1, 2], [3, 4]]) has dtype ${whole.dtype}, expected float32: whole numbers are ` +
        `float32 too unless you ask for int32, and an int32 tensor would turn 0.1 into 0.`,
    );
    // What float32 means: about 7 significant digits, integers exact only up to 2^24.
    const [tenth, big] = fromRows([[0.1, 2 ** 24 + 1]]).dataSync();
    check(
      tenth === Math.fround(0.1) && tenth !== 0.1,
      `0.1 should come back as the float32 value ${Math.fround(0.1)}, got ${tenth}`,
    );
    check(
      big === 2 ** 24,
      `2^24 + 1 = 16777217 has no float32 value and should round to 16777216, got ${big}`,
    );
  }),
);

Deno.test(
  "toColumn: [n] becomes [n, 1], the same values in the same order",
  tidy(() => {
    const col = toColumn(tf.tensor1d([1, 2, 3]));
    assertShape(
      col,
      { n: 3, one: 1 },
      "toColumn(tensor1d([1, 2, 3])) (a column has one row per element: [n, 1], not [1, n])",
    );
    assertAllClose(col, [[1], [2], [3]], { what: "toColumn(tensor1d([1, 2, 3]))" });
    for (const seed of SEEDS) {
      const { n } = dims({ n: [1, 12] }, `toColumn:${seed}`);
      const v = randomVector(n, `toColumn:${seed}`);
      const what = `toColumn(x) for x of shape [n=${n}] (seed ${seed})`;
      const x = tf.tensor1d(v);
      const c = toColumn(x);
      assertShape(c, { n, one: 1 }, what);
      assertAllClose(c, v.map((e) => [e]), { atol: 0, rtol: 0, what });
    }
  }),
);

// ---- broadcasting and reductions ----

Deno.test(
  "addBias: b [d] is broadcast over every row of x [n, d]",
  tidy(() => {
    const y = addBias(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), tf.tensor1d([10, 20, 30]));
    const what = "addBias([[1, 2, 3], [4, 5, 6]], [10, 20, 30])";
    assertShape(y, { n: 2, d: 3 }, what);
    assertAllClose(y, [[11, 22, 33], [14, 25, 36]], {
      what: `${what} (b[j] is added to column j of every row)`,
    });
    for (const seed of SEEDS) {
      const { n, d } = dims({ n: [1, 7], d: [1, 6] }, `addBias:${seed}`);
      const x = randomMatrix(n, d, `addBias:x:${seed}`);
      const b = randomVector(d, `addBias:b:${seed}`);
      const what = `addBias(x, b) for x [n=${n}, d=${d}] and b [d=${d}] (seed ${seed})`;
      const out = addBias(tf.tensor2d(x), tf.tensor1d(b));
      assertShape(out, { n, d }, what);
      assertAllClose(out, addBiasOracle(x, b), { what });
    }
  }),
);

Deno.test(
  "columnMeans: one mean per column, a reduction over axis 0",
  tidy(() => {
    const means = columnMeans(tf.tensor2d([[1, 2, 3], [4, 5, 6]]));
    const what = "columnMeans([[1, 2, 3], [4, 5, 6]]) (reduce over axis 0, the rows, so one " +
      "value per column remains; axis 1 would give the 2 row means [2, 5])";
    assertShape(means, { cols: 3 }, what);
    assertAllClose(means, [2.5, 3.5, 4.5], { what });
    for (const seed of SEEDS) {
      const { rows, cols } = dims({ rows: [2, 8], cols: [1, 6] }, `columnMeans:${seed}`);
      const x = randomMatrix(rows, cols, `columnMeans:${seed}`);
      const what = `columnMeans(x) for x [rows=${rows}, cols=${cols}] (seed ${seed}; reduce ` +
        `over axis 0 without keepDims)`;
      const m = columnMeans(tf.tensor2d(x));
      assertShape(m, { cols }, what);
      assertAllClose(m, columnMeansOracle(x), { what });
    }
  }),
);

// ---- matrix product ----

Deno.test(
  "linear: y = xW + b has shape [n, out]",
  tidy(() => {
    // The shapes of kata 02, as in the seed: 100 inputs in a column, one weight, one bias.
    const xs = Array.from({ length: 100 }, (_, i) => [i / 10]);
    const y = linear(tf.tensor2d(xs), tf.tensor2d([[3]]), tf.tensor1d([2]));
    const what = "linear(x, W = [[3]], b = [2]) for x [n=100, in=1]";
    assertShape(y, { n: 100, out: 1 }, what);
    assertAllClose(y, xs.map(([x]) => [3 * x + 2]), { what: `${what}: 3x + 2` });
    for (const seed of SEEDS) {
      const { n, in: inDim, out } = dims({ n: [1, 8], in: [1, 6], out: [1, 5] }, `linear:${seed}`);
      const x = randomMatrix(n, inDim, `linear:x:${seed}`);
      const w = randomMatrix(inDim, out, `linear:w:${seed}`);
      const b = randomVector(out, `linear:b:${seed}`);
      const what = `linear(x, W, b) for x [n=${n}, in=${inDim}], W [in=${inDim}, out=${out}], ` +
        `b [out=${out}] (seed ${seed}; x times W, in that order)`;
      const yt = linear(tf.tensor2d(x), tf.tensor2d(w), tf.tensor1d(b));
      assertShape(yt, { n, out }, what);
      assertAllClose(yt, linearOracle(x, w, b), { rtol: 1e-5, atol: 1e-5, what });
    }
  }),
);

// ---- dtypes ----

Deno.test(
  "countPositive: an int32 scalar counting the elements > 0, for any shape",
  tidy(() => {
    const c = countPositive(tf.tensor2d([[-1, 0, 2], [3, -0.5, 0]]));
    const what = "countPositive([[-1, 0, 2], [3, -0.5, 0]])";
    check(
      c.dtype === "int32",
      `${what} has dtype ${c.dtype}, expected int32: a count is an integer. tf.greater gives a ` +
        `bool tensor; cast it to "int32" (not "float32") before summing.`,
    );
    assertShape(c, [], `${what} (a scalar: sum over every axis, so give no axis)`);
    assertAllClose(c, 2, { what: `${what} (0 is not positive: strictly greater than 0)` });
    for (const seed of SEEDS) {
      const { t, values } = randomTensor(`countPositive:${seed}`);
      const what = `countPositive(x) for x of shape [${t.shape.join(", ")}] (seed ${seed})`;
      const count = countPositive(t);
      check(count.dtype === "int32", `${what} has dtype ${count.dtype}, expected int32`);
      assertShape(count, [], what);
      assertAllClose(count, values.filter((v) => v > 0).length, { atol: 0, rtol: 0, what });
    }
  }),
);

// ---- many tensors, and memory ----

Deno.test(
  "sumOfSquares: every element of every tensor, squared and summed",
  tidy(() => {
    const xs = [tf.tensor1d([1, 2]), tf.tensor2d([[3], [4]]), tf.scalar(-5)];
    const s = sumOfSquares(xs);
    const what = "sumOfSquares([[1, 2], [[3], [4]], -5])";
    check(s.dtype === "float32", `${what} has dtype ${s.dtype}, expected float32`);
    assertShape(s, [], `${what} (a scalar: sum over every axis of every tensor)`);
    assertAllClose(s, 55, { what: `${what}: 1 + 4 + 9 + 16 + 25` });
    check(
      xs.every((x) => !x.isDisposed),
      `${what} disposed one of its inputs. Free only the tensors you make (tf.tidy does that for ` +
        `you), never the ones you were given: the caller still uses them.`,
    );
    const emptyHint = "an empty sum is 0: start from tf.scalar(0) and add to it";
    let empty: tf.Scalar;
    try {
      empty = sumOfSquares([]);
    } catch (error) {
      if (error instanceof TodoError) throw error;
      throw new Error(`sumOfSquares([]) threw "${(error as Error).message}"; ${emptyHint}.`);
    }
    assertAllClose(empty, 0, { what: `sumOfSquares([]) (${emptyHint})` });
    for (const seed of SEEDS) {
      const { k } = dims({ k: [1, 5] }, `sumOfSquares:${seed}`);
      const drawn = Array.from({ length: k }, (_, i) => randomTensor(`sumOfSquares:${seed}:${i}`));
      const what = `sumOfSquares of ${k} tensors of shapes ` +
        `${drawn.map(({ t }) => `[${t.shape.join(", ")}]`).join(", ")} (seed ${seed})`;
      const expected = drawn.flatMap(({ values }) => values).reduce((sum, v) => sum + v * v, 0);
      assertAllClose(sumOfSquares(drawn.map(({ t }) => t)), expected, { what });
    }
  }),
);

Deno.test(
  "memory: linear leaves no tensor behind but y (tf.tidy)",
  tidy(() => {
    const x = tf.tensor2d(randomMatrix(4, 3, "leak:x"));
    const w = tf.tensor2d(randomMatrix(3, 2, "leak:w"));
    const b = tf.tensor1d(randomVector(2, "leak:b"));
    const y = assertNoLeaks(() => linear(x, w, b), {
      what: "linear(x, W, b) (the product xW is an intermediate tensor: free it)",
    });
    assertShape(y, { n: 4, out: 2 }, "linear(x, W, b)");
  }),
);

Deno.test(
  "memory: countPositive leaves no tensor behind but the count",
  tidy(() => {
    const x = tf.tensor1d([-2, -1, 0, 1, 2]);
    const c = assertNoLeaks(() => countPositive(x), {
      what: "countPositive(x) (the bool mask and its int32 copy are intermediates: free them)",
    });
    assertAllClose(c, 2, { what: "countPositive([-2, -1, 0, 1, 2])" });
  }),
);

Deno.test(
  "memory: sumOfSquares frees its intermediates, even called in a loop",
  tidy(() => {
    const xs = Array.from({ length: 10 }, (_, i) => randomTensor(`leak:${i}`).t);
    const s = assertNoLeaks(() => sumOfSquares(xs), {
      what: "sumOfSquares over 10 tensors (each square, each sum, each partial total is a tensor)",
    });
    assertShape(s, [], "sumOfSquares(xs)");
    check(
      xs.every((x) => !x.isDisposed),
      "sumOfSquares disposed its inputs: free only the tensors you make, never the ones you were " +
        "given.",
    );
    // A training loop calls the same code thousands of times: a leak of a few tensors per call
    // grows without bound.
    assertNoLeaks(() => {
      for (let step = 0; step < 100; step++) sumOfSquares(xs).dispose();
    }, { what: "100 calls of sumOfSquares, each result disposed by the caller" });
  }),
);
