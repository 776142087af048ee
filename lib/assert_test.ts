import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import { allClose, assertAllClose, assertShape, type CloseReport } from "./assert.ts";
import { dims, rng } from "./random.ts";
import { tf } from "./tf.ts";

/** The message of the AssertionError that `fn` throws; fails if it throws nothing or another error. */
function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof AssertionError, `expected an AssertionError, got ${e}`);
    return e.message;
  }
  assert.fail("expected an AssertionError, nothing was thrown");
}

/** Oracle for allClose: plain nested loops over 2-D arrays, no flattening, no unravelling. */
function closeOracle(actual: number[][], expected: number[][], rtol: number, atol: number) {
  let mismatched = 0, maxAbs = 0, maxRel = 0;
  let absAt = [0, 0], relAt = [0, 0];
  for (let i = 0; i < expected.length; i++) {
    for (let j = 0; j < expected[i].length; j++) {
      const a = actual[i][j], e = expected[i][j];
      const diff = Math.abs(a - e);
      if (diff > atol + rtol * Math.abs(e)) mismatched++;
      if (diff > maxAbs) [maxAbs, absAt] = [diff, [i, j]];
      if (diff / Math.abs(e) > maxRel) [maxRel, relAt] = [diff / Math.abs(e), [i, j]];
    }
  }
  return { mismatched, maxAbs, absAt, maxRel, relAt };
}

Deno.test("assertShape passes on the right shape, for tensors, arrays and numbers", () => {
  const x = tf.zeros([4, 8, 32]);
  assert.doesNotThrow(() => assertShape(x, { batch: 4, time: 8, embed: 32 }));
  assert.doesNotThrow(() => assertShape(x, [4, 8, 32]));
  assert.doesNotThrow(() => assertShape([[1, 2, 3], [4, 5, 6]], { rows: 2, cols: 3 }));
  assert.doesNotThrow(() => assertShape(Float32Array.of(1, 2, 3), [3]));
  assert.doesNotThrow(() => assertShape(7, []));
  x.dispose();
});

Deno.test("assertShape names the dimensions on a rank mismatch", () => {
  const x = tf.zeros([4, 32]);
  const msg = failure(() => assertShape(x, { batch: 4, time: 8, embed: 32 }, "embeddings"));
  assert.ok(
    msg.startsWith("embeddings: expected shape [batch=4, time=8, embed=32], got [4, 32]"),
    msg,
  );
  assert.match(msg, /rank 2 instead of 3/);
  assert.match(msg, /reshape, squeeze or expandDims/);
  // The default name is "tensor"; one dimension too many is caught too.
  const y = tf.zeros([2, 3, 1]);
  const msg2 = failure(() => assertShape(y, { rows: 2, cols: 3 }));
  assert.ok(msg2.startsWith("tensor: expected shape [rows=2, cols=3], got [2, 3, 1]"), msg2);
  assert.match(msg2, /rank 3 instead of 2/);
  x.dispose();
  y.dispose();
});

Deno.test("assertShape says which axis is wrong", () => {
  const x = tf.zeros([4, 7, 32]);
  const msg = failure(() => assertShape(x, { batch: 4, time: 8, embed: 32 }));
  assert.equal(
    msg,
    'tensor: expected shape [batch=4, time=8, embed=32], got [4, 7, 32]: "time" (axis 1) is 7, ' +
      "expected 8",
  );
  x.dispose();
});

Deno.test("assertShape spots two swapped axes", () => {
  const x = tf.zeros([4, 32, 8]);
  const msg = failure(() => assertShape(x, { batch: 4, time: 8, embed: 32 }, "scores"));
  assert.match(msg, /^scores: expected shape \[batch=4, time=8, embed=32\], got \[4, 32, 8\]/);
  assert.ok(msg.includes('"time" (axis 1) is 32, expected 8'), msg);
  assert.ok(msg.includes('"embed" (axis 2) is 8, expected 32'), msg);
  assert.ok(!msg.includes('"batch"'), msg);
  assert.match(msg, /two axes swapped\? check a transpose/);
  // Two wrong axes that are not a swap get no transpose hint.
  const msg2 = failure(() => assertShape([[1, 2, 3]], { rows: 2, cols: 2 }));
  assert.ok(!msg2.includes("swapped"), msg2);
  x.dispose();
});

Deno.test("assertShape with a plain array of sizes names the axes dim0, dim1, ...", () => {
  const msg = failure(() => assertShape([[1, 2], [3, 4], [5, 6]], [2, 3]));
  assert.ok(msg.startsWith("tensor: expected shape [2, 3], got [3, 2]"), msg);
  assert.ok(msg.includes('"dim0" (axis 0) is 3, expected 2'), msg);
  assert.ok(msg.includes('"dim1" (axis 1) is 2, expected 3'), msg);
});

Deno.test("allClose passes within rtol and atol and fails just outside", () => {
  // |actual - expected| <= atol + rtol * |expected|
  assert.equal(allClose([100.5, 1], [100, 1], { rtol: 1e-2, atol: 0 }).ok, true); // 0.5 <= 1
  assert.equal(allClose([100.5, 1], [100, 1], { rtol: 1e-3, atol: 0 }).ok, false); // 0.5 > 0.1
  assert.equal(allClose([100.5, 1], [100, 1], { rtol: 1e-3, atol: 0.5 }).ok, true); // 0.5 <= 0.6
  assert.equal(allClose(new Float32Array(0), new Float32Array(0)).ok, true); // empty: nothing differs
  assert.throws(() => allClose(new Float32Array(0), [1]), /shape/i);
  assert.equal(allClose(1e-7, 0, { rtol: 0, atol: 1e-6 }).ok, true);
  assert.equal(allClose(1e-5, 0, { rtol: 0, atol: 1e-6 }).ok, false);
  // The default tolerances are rtol 1e-5, atol 1e-6.
  assert.equal(allClose(1 + 5e-6, 1).ok, true);
  assert.equal(allClose(1 + 5e-5, 1).ok, false);
  // Relative tolerance scales with |expected|, not |actual|.
  assert.equal(allClose(0, 1, { rtol: 0.99, atol: 0 }).ok, false);
  assert.equal(allClose(1, 0.5, { rtol: 1, atol: 0 }).ok, true);
  assert.equal(allClose(0.5, 1, { rtol: 0.5, atol: 0 }).ok, true);
});

Deno.test("allClose reports the largest absolute and relative error and their indices", () => {
  const expected = [[1, 2, 3], [4, 5, 6]];
  const actual = [[1, 2.5, 3], [4, 5, 6.75]];
  const r = allClose(actual, expected, { rtol: 1e-3, atol: 1e-3, what: "logits" });
  assert.deepEqual(
    { ...r, message: undefined },
    {
      ok: false,
      mismatched: 2,
      total: 6,
      maxAbsError: 0.75,
      maxAbsAt: [1, 2],
      maxRelError: 0.25,
      maxRelAt: [0, 1],
      message: undefined,
    } satisfies Record<keyof CloseReport, unknown>,
  );
  assert.equal(
    r.message,
    "logits: 2 of 6 elements differ (rtol=0.001, atol=0.001). Largest absolute error 0.75 at " +
      "[1, 2] (got 6.75, expected 6); largest relative error 0.25 at [0, 1] (got 2.5, expected 2); " +
      "first mismatch at [0, 1].",
  );
});

Deno.test("allClose finds the index in a rank-3 tensor", () => {
  const expected = tf.zeros([2, 3, 4]);
  const buf = tf.buffer([2, 3, 4]);
  buf.set(-0.5, 1, 2, 3);
  buf.set(0.25, 0, 1, 2);
  const actual = buf.toTensor();
  const before = tf.memory().numTensors;
  const r = allClose(actual, expected, { what: "h" });
  assert.equal(tf.memory().numTensors, before, "allClose made tensors");
  assert.equal(r.ok, false);
  assert.equal(r.mismatched, 2);
  assert.equal(r.total, 24);
  assert.equal(r.maxAbsError, 0.5);
  assert.deepEqual(r.maxAbsAt, [1, 2, 3]);
  assert.equal(r.maxRelError, Infinity); // relative to an expected 0
  assert.deepEqual(r.maxRelAt, [0, 1, 2]);
  assert.match(r.message, /Largest absolute error 0\.5 at \[1, 2, 3\] \(got -0\.5, expected 0\)/);
  assert.match(r.message, /first mismatch at \[0, 1, 2\]/);
  actual.dispose();
  expected.dispose();
});

Deno.test("allClose agrees with a nested-loop oracle on random data", () => {
  for (let seed = 0; seed < 30; seed++) {
    const { rows, cols } = dims({ rows: [1, 6], cols: [1, 7] }, seed);
    const u = rng(`allclose:${seed}`);
    const expected = Array.from(
      { length: rows },
      () => Array.from({ length: cols }, () => Math.round((u() * 8 - 4) * 64) / 64),
    );
    // Mostly tiny errors, some large ones; exact binary fractions keep the oracle exact.
    const actual = expected.map((row) =>
      row.map((v) => v + (u() < 0.3 ? Math.round((u() - 0.5) * 64) / 64 : 0))
    );
    const want = closeOracle(actual, expected, 1e-2, 1e-2);
    const r = allClose(actual, expected, { rtol: 1e-2, atol: 1e-2 });
    assert.equal(r.total, rows * cols);
    assert.equal(r.mismatched, want.mismatched, `seed ${seed}`);
    assert.equal(r.ok, want.mismatched === 0, `seed ${seed}`);
    assert.equal(r.maxAbsError, want.maxAbs, `seed ${seed}`);
    assert.equal(r.maxRelError, want.maxRel, `seed ${seed}`);
    if (want.maxAbs > 0) assert.deepEqual(r.maxAbsAt, want.absAt, `seed ${seed}`);
    if (want.maxRel > 0) assert.deepEqual(r.maxRelAt, want.relAt, `seed ${seed}`);
    // The same data as float32 tensors gives the same report (the values are exact in float32).
    const [ta, te] = [tf.tensor2d(actual), tf.tensor2d(expected)];
    assert.deepEqual(allClose(ta, te, { rtol: 1e-2, atol: 1e-2 }), r, `seed ${seed}`);
    ta.dispose();
    te.dispose();
  }
});

Deno.test("allClose: NaN never matches, not even NaN", () => {
  assert.equal(allClose(NaN, NaN, { atol: Infinity }).ok, false);
  assert.equal(allClose([1, NaN], [1, 1], { atol: 1e9 }).ok, false);
  const r = allClose([[1, 2], [NaN, 4]], [[1, 2], [NaN, 4]]);
  assert.equal(r.ok, false);
  assert.equal(r.mismatched, 1);
  assert.match(r.message, /1 are NaN, the first at \[1, 0\]/);
  const t = tf.tensor1d([0, NaN, 2]);
  assert.match(failure(() => assertAllClose(t, [0, 1, 2])), /1 of 3 elements differ.*NaN/);
  t.dispose();
});

Deno.test("allClose: an infinity matches only the same infinity", () => {
  assert.equal(allClose([-Infinity, 1], [-Infinity, 1]).ok, true);
  assert.equal(allClose(Infinity, Infinity).ok, true);
  assert.equal(allClose(Infinity, -Infinity, { atol: Infinity }).ok, false);
  // A finite value is never close to an infinity, however large rtol is.
  assert.equal(allClose(5, Infinity, { rtol: 1 }).ok, false);
  assert.equal(allClose([0, 3], [0, -Infinity], { rtol: 1 }).ok, false); // a forgotten mask
  assert.equal(allClose(Infinity, 5, { rtol: 1 }).ok, false);
});

Deno.test("allClose and assertAllClose fail on a shape mismatch, without broadcasting", () => {
  assert.match(failure(() => allClose([1, 2, 3], [1, 2])), /expected shape \[2\], got \[3\]/);
  assert.match(failure(() => allClose([[1, 2]], [1, 2])), /rank 2 instead of 1/);
  assert.match(failure(() => assertAllClose(1, [1])), /expected shape \[1\], got \[\]/);
  const a = tf.zeros([2, 3]), b = tf.zeros([3, 2]);
  const msg = failure(() => assertAllClose(a, b, { what: "weights" }));
  assert.match(msg, /^weights: expected shape \[3, 2\], got \[2, 3\]/);
  assert.match(msg, /swapped/);
  a.dispose();
  b.dispose();
});

Deno.test("allClose works on numbers, nested and typed arrays, and tensors, mixed", () => {
  const t = tf.tensor2d([[0.1, 0.2], [0.3, 0.4]]);
  const s = tf.scalar(2.5);
  assert.equal(allClose(2.5, 2.5).ok, true);
  assert.equal(allClose(s, 2.5).ok, true);
  assert.equal(allClose(2.5, s).ok, true);
  assert.equal(allClose(t, [[0.1, 0.2], [0.3, 0.4]]).ok, true); // float32 vs float64: within rtol
  assert.equal(allClose([[0.1, 0.2], [0.3, 0.4]], t).ok, true);
  assert.equal(allClose(t, [[0.1, 0.2], [0.3, 0.41]]).ok, false);
  assert.equal(allClose(Float32Array.of(1, 2, 3), [1, 2, 3]).ok, true);
  assert.equal(allClose([1, 2, 3], Float64Array.of(1, 2, 3.1)).ok, false);
  const t3 = tf.tensor3d([[[1], [2]]]);
  assert.equal(allClose([[[1], [2]]], t3).ok, true);
  assert.equal(allClose(t3, [[[1], [2.5]]]).ok, false);
  t.dispose();
  s.dispose();
  t3.dispose();
});

Deno.test("assertAllClose passes silently or throws the report", () => {
  assert.doesNotThrow(() => assertAllClose([1, 2], [1, 2 + 1e-7]));
  const msg = failure(() => assertAllClose([1, 2], [1, 3], { what: "loss" }));
  assert.equal(msg, allClose([1, 2], [1, 3], { what: "loss" }).message);
  assert.match(msg, /^loss: 1 of 2 elements differ/);
  assert.match(msg, /Largest absolute error 1 at \[1\] \(got 2, expected 3\)/);
});
