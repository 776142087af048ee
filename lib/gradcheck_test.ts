import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import { assertGradients, gradCheck } from "./gradcheck.ts";
import { randn } from "./random.ts";
import { tf } from "./tf.ts";

// Measured with seeds 1..5 on wasm (cpu in parentheses where it differs):
//   correct gradients, whole relError:
//     sum(tanh(x)), autodiff or by hand          1.2e-5 .. 1.7e-5
//     softmax cross-entropy of w, b, x           1.4e-5 .. 2.4e-5 (9.6e-6 .. 1.6e-5)
//       (one input alone up to 1.0e-4)
//     sum(sin(a @ m))                            1.6e-5 .. 4.0e-5
//   gradients 1% too large (analytic * 1.01):
//     sum(tanh(x))                               4.982e-3 .. 4.985e-3
//     softmax cross-entropy                      4.967e-3 .. 4.977e-3 (4.975e-3 .. 4.980e-3)
//     the exact figure is 0.01 / 2.01 = 4.975e-3: |1.01g - g| / (|1.01g| + |g|)
//   sum of squares, gradient missing the factor 2  0.3333 (= 1/3)
//   mean of 20 squares, gradient missing the 1/20  0.9048 (= 1.9/2.1)
const CORRECT_BELOW = 2e-4;
const ONE_PERCENT = 0.01 / 2.01;

const tanhLoss = (x: tf.Tensor): tf.Scalar => tf.sum(tf.tanh(x));
/** d/dx sum(tanh(x)) = 1 - tanh(x)^2, written by hand: the oracle. */
const tanhGrad = (x: tf.Tensor): tf.Tensor => tf.tidy(() => tf.sub(1, tf.square(tf.tanh(x))));

/** A linear classifier's softmax cross-entropy, averaged over the batch. */
function crossEntropy(w: tf.Tensor, b: tf.Tensor, x: tf.Tensor, y: tf.Tensor): tf.Scalar {
  const logits = tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
  return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1)));
}

/** Its gradients with respect to w, b and x, derived by hand: G = (softmax - y) / n. */
function crossEntropyGrads(w: tf.Tensor, b: tf.Tensor, x: tf.Tensor, y: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const p = tf.softmax(tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b));
    const g = tf.div(tf.sub(p, y), x.shape[0]) as tf.Tensor2D;
    return [
      tf.matMul(x as tf.Tensor2D, g, true, false),
      tf.sum(g, 0),
      tf.matMul(g, w as tf.Tensor2D, false, true),
    ];
  });
}

/** Inputs of the cross-entropy check, made from one seed; dispose them with `tf.dispose`. */
function classifier(seed: number) {
  const w = randn([3, 4], { seed: 100 + seed });
  const b = randn([4], { seed: 200 + seed, std: 0.1 });
  const x = randn([6, 3], { seed: 300 + seed });
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 3, 1, 2], "int32"), 4).toFloat());
  return { w, b, x, y, f: (w: tf.Tensor, b: tf.Tensor, x: tf.Tensor) => crossEntropy(w, b, x, y) };
}

function scaled(gs: tf.Tensor[], by: number): tf.Tensor[] {
  return tf.tidy(() => gs.map((g) => tf.mul(g, by)));
}

Deno.test("gradCheck passes correct autodiff gradients of smooth functions", () => {
  for (const seed of [1, 2, 3]) {
    const x = randn([4, 5], { seed });
    const r = gradCheck(tanhLoss, [x]);
    assert.ok(r.ok && r.relError < CORRECT_BELOW, `tanh, seed ${seed}: ${r.message}`);
    assert.match(r.message, /^gradient check passed/);

    const c = classifier(seed);
    const rc = gradCheck(c.f, [c.w, c.b, c.x], { names: ["w", "b", "x"] });
    assert.ok(rc.ok && rc.relError < CORRECT_BELOW, `cross-entropy, seed ${seed}: ${rc.message}`);
    assert.deepEqual(rc.perInput.map((p) => p.name), ["w", "b", "x"]);
    for (const p of rc.perInput) assert.ok(p.relError < CORRECT_BELOW, rc.message);

    // Two inputs of different shapes, both inside a matMul and a nonlinearity.
    const a = randn([2, 3], { seed: 400 + seed }), m = randn([3, 4], { seed: 500 + seed });
    const rm = gradCheck((a, m) => tf.sum(tf.sin(tf.matMul(a as tf.Tensor2D, m as tf.Tensor2D))), [
      a,
      m,
    ]);
    assert.ok(rm.ok && rm.relError < CORRECT_BELOW, `sin(a @ m), seed ${seed}: ${rm.message}`);
    assert.doesNotThrow(() => assertGradients(tanhLoss, [x]));
    tf.dispose([x, c.w, c.b, c.x, c.y, a, m]);
  }
});

Deno.test("gradCheck passes correct hand-written gradients (the oracle)", () => {
  for (const seed of [1, 2, 3]) {
    const x = randn([4, 5], { seed });
    const gx = tanhGrad(x);
    const r = gradCheck(tanhLoss, [x], { analytic: [gx] });
    assert.ok(r.ok && r.relError < CORRECT_BELOW, r.message);

    const c = classifier(seed);
    const gs = crossEntropyGrads(c.w, c.b, c.x, c.y);
    const rc = gradCheck(c.f, [c.w, c.b, c.x], { analytic: gs });
    assert.ok(rc.ok && rc.relError < CORRECT_BELOW, rc.message);
    tf.dispose([x, gx, c.w, c.b, c.x, c.y, ...gs]);
  }
});

Deno.test("gradCheck catches gradients off by exactly 1%", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const x = randn([4, 5], { seed });
    const off = scaled([tanhGrad(x)], 1.01);
    const r = gradCheck(tanhLoss, [x], { analytic: off });
    assert.ok(r.relError > 1e-3 && !r.ok, `tanh, seed ${seed}: ${r.message}`);
    assert.ok(Math.abs(r.relError - ONE_PERCENT) < 3e-4, `tanh, seed ${seed}: ${r.relError}`);
    assert.match(r.message, /^gradient check FAILED: relative error 5\.0e-3 \(threshold 1e-3;/);

    const c = classifier(seed);
    const exact = crossEntropyGrads(c.w, c.b, c.x, c.y);
    const offs = scaled(exact, 1.01);
    const rc = gradCheck(c.f, [c.w, c.b, c.x], { analytic: offs });
    assert.ok(rc.relError > 1e-3 && !rc.ok, `cross-entropy, seed ${seed}: ${rc.message}`);
    assert.ok(Math.abs(rc.relError - ONE_PERCENT) < 3e-4, `cross-entropy, seed ${seed}`);
    // 1% off in one input only is still caught.
    const oneOff = [exact[0], offs[1], exact[2]];
    const r1 = gradCheck(c.f, [c.w, c.b, c.x], { analytic: oneOff, names: ["w", "b", "x"] });
    assert.ok(r1.perInput[1].relError > 1e-3, r1.message);
    assert.ok(r1.perInput[0].relError < CORRECT_BELOW, r1.message);
    assert.ok(r1.perInput[2].relError < CORRECT_BELOW, r1.message);
    assert.throws(() => assertGradients(tanhLoss, [x], { analytic: off }), AssertionError);
    tf.dispose([x, ...off, c.w, c.b, c.x, c.y, ...exact, ...offs]);
  }
});

Deno.test("gradCheck catches a gradient missing a factor, and says so", () => {
  const x = randn([4, 5], { seed: 7 });
  // d/dx sum(x^2) = 2x; x alone misses the 2: |x - 2x| / (|x| + |2x|) = 1/3.
  const r = gradCheck((x) => tf.sum(tf.square(x)), [x], { analytic: [x] });
  assert.ok(!r.ok && Math.abs(r.relError - 1 / 3) < 1e-3, r.message);
  // d/dx mean(x^2) = 2x/20; 2x misses the 1/20: 1.9 / 2.1.
  const twice = tf.mul(x, 2);
  const rm = gradCheck((x) => tf.mean(tf.square(x)), [x], { analytic: [twice] });
  assert.ok(!rm.ok && Math.abs(rm.relError - 1.9 / 2.1) < 1e-3, rm.message);
  let msg = "";
  try {
    assertGradients((x) => tf.mean(tf.square(x)), [x], { analytic: [twice], names: ["pred"] });
  } catch (e) {
    assert.ok(e instanceof AssertionError);
    msg = e.message;
  }
  assert.match(msg, /^gradient check FAILED: relative error 9\.0e-1/);
  assert.match(msg, /\n {2}pred: relative error 9\.0e-1; largest difference at flat index \d+/);
  assert.match(msg, /a missing factor \(1\/n of a mean, 2 of a square, 1\/sqrt\(d\)\)/);
  tf.dispose([x, twice]);
});

Deno.test("gradCheck points at the worst coordinate", () => {
  const x = randn([4, 5], { seed: 3 });
  const exact = tanhGrad(x);
  const values = exact.dataSync().slice();
  values[7] = 5;
  const wrong = tf.tensor(values, x.shape);
  const r = gradCheck(tanhLoss, [x], { analytic: [wrong] });
  assert.equal(r.ok, false);
  const p = r.perInput[0];
  assert.equal(p.name, "x0");
  assert.equal(p.worstAt, 7);
  assert.equal(p.analytic, 5);
  assert.ok(Math.abs(p.numeric - exact.dataSync()[7]) < 1e-3, `numeric ${p.numeric}`);
  assert.match(r.message, /x0: relative error .*; largest difference at flat index 7: analytic 5,/);
  tf.dispose([x, exact, wrong]);
});

/** Runs gradCheck on a 20-element input and records which coordinates it perturbed. */
function sampled(maxCoords: number | undefined, seed: number, analytic?: tf.Tensor) {
  const x = randn([4, 5], { seed: 11 });
  const orig = x.dataSync().slice();
  const touched: number[] = [];
  let calls = 0;
  const f = (t: tf.Tensor) => {
    calls++;
    t.dataSync().forEach((v, i) => {
      if (v !== orig[i]) touched.push(i);
    });
    return tanhLoss(t);
  };
  const g = analytic ?? tanhGrad(x);
  const report = gradCheck(f, [x], { analytic: [g], maxCoords, seed });
  if (!analytic) g.dispose();
  x.dispose();
  return { report, calls, coords: [...new Set(touched)] };
}

Deno.test("gradCheck samples maxCoords coordinates, deterministically per seed", () => {
  const all = sampled(undefined, 0);
  assert.equal(all.calls, 40); // two evaluations per coordinate
  assert.deepEqual(all.coords, Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(sampled(50, 0).coords, all.coords);

  const sets = [0, 1, 2, 3, 4].map((seed) => sampled(5, seed));
  for (const s of sets) {
    assert.equal(s.calls, 10);
    assert.equal(s.coords.length, 5);
    assert.ok(s.coords.every((j) => Number.isInteger(j) && j >= 0 && j < 20));
    assert.ok(s.report.ok && s.report.relError < CORRECT_BELOW, s.report.message);
  }
  // The same seed picks the same coordinates and gives the same figure...
  const again = sampled(5, 3);
  assert.deepEqual(again.coords, sets[3].coords);
  assert.equal(again.report.relError, sets[3].report.relError);
  // ...and other seeds pick other coordinates.
  assert.ok(new Set(sets.map((s) => s.coords.join())).size > 1);
});

Deno.test("gradCheck with maxCoords only sees errors at the coordinates it samples", () => {
  const { coords } = sampled(5, 2);
  const outside = Array.from({ length: 20 }, (_, i) => i).find((i) => !coords.includes(i))!;
  const x = randn([4, 5], { seed: 11 });
  const broken = (j: number) => {
    const v = tanhGrad(x);
    const values = v.dataSync().slice();
    v.dispose();
    values[j] += 1;
    return tf.tensor(values, x.shape);
  };
  const gIn = broken(coords[2]), gOut = broken(outside);
  assert.equal(sampled(5, 2, gIn).report.ok, false);
  assert.equal(sampled(5, 2, gOut).report.ok, true);
  assert.equal(sampled(undefined, 2, gOut).report.ok, false); // checking all coordinates finds it
  tf.dispose([x, gIn, gOut]);
});

Deno.test("gradCheck does not modify, dispose or leak", () => {
  const c = classifier(4);
  const inputs = [c.w, c.b, c.x];
  const saved = inputs.map((t) => Array.from(t.dataSync()));
  const gs = crossEntropyGrads(c.w, c.b, c.x, c.y);
  const savedGs = gs.map((t) => Array.from(t.dataSync()));
  const offs = scaled(gs, 1.01);
  const before = tf.memory().numTensors;

  gradCheck(c.f, inputs); // autodiff
  gradCheck(c.f, inputs, { analytic: gs }); // hand-written
  gradCheck(c.f, inputs, { maxCoords: 3, seed: 9 });
  assert.throws(() => assertGradients(c.f, inputs, { analytic: offs }), AssertionError);

  assert.equal(tf.memory().numTensors, before, "gradCheck leaked tensors");
  inputs.forEach((t, i) => {
    assert.equal(t.isDisposed, false);
    assert.deepEqual(Array.from(t.dataSync()), saved[i], `input ${i} was modified`);
  });
  gs.forEach((t, i) => assert.deepEqual(Array.from(t.dataSync()), savedGs[i]));
  tf.dispose([...inputs, c.y, ...gs, ...offs]);
});

Deno.test("gradCheck rejects a wrong number of analytic gradients", () => {
  const c = classifier(5);
  const gs = crossEntropyGrads(c.w, c.b, c.x, c.y);
  assert.throws(
    () => gradCheck(c.f, [c.w, c.b, c.x], { analytic: gs.slice(0, 2) }),
    (e: unknown) => e instanceof RangeError && /2 gradients for 3 inputs/.test(e.message),
  );
  tf.dispose([c.w, c.b, c.x, c.y, ...gs]);
});
