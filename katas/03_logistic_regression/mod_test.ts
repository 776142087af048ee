/**
 * Tests of kata 03 · 逻辑回归（二分类） · Logistic regression.
 *
 * Values are checked against plain-JavaScript oracles computed in float64, gradients against the
 * formula σ(z) − y and against finite differences, and training on the seeded data set of the kata.
 */
import {
  assertAllClose,
  assertGradients,
  assertLossFalls,
  assertNoLeaks,
  assertShape,
  type Dataset,
  dims,
  makeClassification,
  normalRng,
  rng,
  tf,
  trainTestSplit,
} from "../../lib/mod.ts";
import {
  accuracy,
  bceWithLogits,
  initParams,
  predictLogits,
  sigmoid,
  train,
  trainStep,
} from "./mod.ts";

/** Seeds of the property tests: each one draws its own sizes and values. */
const SEEDS = [1, 2, 3, 4, 5, 6];

/** Wraps a test body in `tf.tidy`, so every tensor the test makes is freed, even when it fails. */
function tidy(body: () => void): () => void {
  return () => tf.tidy(body);
}

/** Throws `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(message);
}

// ---- plain-JavaScript oracles (float64) ----

/** σ(z) in float64, written so that neither branch overflows. */
function sigmoid64(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** ℓ(z, y) = max(z, 0) − z·y + log(1 + e^(−|z|)) in float64. */
function bce64(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** n seeded normal numbers times `scale`, each already a float32 value. */
function randomNumbers(n: number, seed: string, scale = 1): number[] {
  const z = normalRng(seed);
  return Array.from({ length: n }, () => Math.fround(scale * z()));
}

/** n seeded labels, each 0 or 1. */
function randomLabels(n: number, seed: string): number[] {
  const u = rng(seed);
  return Array.from({ length: n }, () => (u() < 0.5 ? 0 : 1));
}

// ---- the kata's data ----

/**
 * The data set of the training tests: `makeClassification` with 1000 samples, 2 features, one
 * Gaussian cluster per class and classSep 1, seed 242, split 800 train / 200 test. Chosen because
 * a linear model needs both features: measured with the reference solution (wasm) and a float64
 * Newton fit, the best line scores 0.99 on the test set (the Bayes classifier, which knows the true
 * clusters, 1.00 there and 0.999 on train: one of the 800 training labels is flipped); the best
 * line through feature 0 alone 0.79, through feature 1 alone 0.49; without the bias b 0.865; a
 * constant class 0.545 or 0.455. The threshold 0.9 sits 0.09 below the solution and above them all.
 */
function kataData(): { train: Dataset; test: Dataset } {
  const all = makeClassification({ nSamples: 1000, nFeatures: 2, classSep: 1, seed: 242 });
  const parts = trainTestSplit(all, { testFraction: 0.2, seed: 242 });
  tf.dispose([all.x, all.y]);
  return parts;
}

function disposeData(...parts: Dataset[]): void {
  for (const { x, y } of parts) tf.dispose([x, y]);
}

// ---- sigmoid ----

Deno.test(
  "sigmoid: 1 / (1 + e^(−z)) element by element, any shape",
  tidy(() => {
    assertAllClose(sigmoid(tf.tensor1d([0, 2, -2])), [0.5, sigmoid64(2), sigmoid64(-2)], {
      what: "sigmoid([0, 2, −2]) (σ(0) = 1/2, and σ(−z) = 1 − σ(z))",
    });
    for (const seed of SEEDS) {
      const { rows, cols } = dims({ rows: [1, 6], cols: [1, 6] }, `sigmoid:${seed}`);
      const z = randomNumbers(rows * cols, `sigmoid:${seed}`, 4);
      const what = `sigmoid(z) for z [rows=${rows}, cols=${cols}] (seed ${seed})`;
      const s = sigmoid(tf.tensor2d(z, [rows, cols]));
      assertShape(s, { rows, cols }, `${what} (element by element: the shape does not change)`);
      assertAllClose(s.reshape([-1]), z.map(sigmoid64), { what });
    }
  }),
);

Deno.test(
  "sigmoid: finite at ±100 and ±1000 (0 and 1, never NaN)",
  tidy(() => {
    const z = [-1000, -100, -20, 20, 100, 1000];
    assertAllClose(sigmoid(tf.tensor1d(z)), z.map(sigmoid64), {
      what: `sigmoid([${z.join(", ")}]) (e^1000 overflows to ∞ in float32, and 1 / (1 + ∞) = 0 ` +
        `is still right; but e^z / (1 + e^z) at z = 100 is ∞ / ∞ = NaN)`,
    });
  }),
);

// ---- logits ----

Deno.test(
  "predictLogits: z = Xw + b, one logit per sample, shape [samples]",
  tidy(() => {
    const z = predictLogits(
      tf.tensor2d([[1, 2], [3, 4], [5, 6]]),
      tf.tensor2d([[1], [-1]]),
      tf.scalar(0.5),
    );
    const what = "predictLogits(X = [[1, 2], [3, 4], [5, 6]], w = [[1], [−1]], b = 0.5)";
    assertShape(
      z,
      { samples: 3 },
      `${what} (matMul gives [samples, 1]: reshape it to [samples], the shape of the labels y; ` +
        `z [n, 1] − y [n] would broadcast to an [n, n] matrix)`,
    );
    assertAllClose(z, [-0.5, -0.5, -0.5], { what });
    for (const seed of SEEDS) {
      const { n, d } = dims({ n: [1, 9], d: [1, 5] }, `logits:${seed}`);
      const x = randomNumbers(n * d, `logits:x:${seed}`);
      const w = randomNumbers(d, `logits:w:${seed}`);
      const [b] = randomNumbers(1, `logits:b:${seed}`);
      const expected = Array.from(
        { length: n },
        (_, i) => w.reduce((sum, wj, j) => sum + x[i * d + j] * wj, b),
      );
      const what = `predictLogits(x, w, b) for x [samples=${n}, features=${d}], w [${d}, 1] ` +
        `(seed ${seed})`;
      const out = predictLogits(tf.tensor2d(x, [n, d]), tf.tensor2d(w, [d, 1]), tf.scalar(b));
      assertShape(out, { samples: n }, what);
      assertAllClose(out, expected, { rtol: 1e-5, atol: 1e-5, what });
    }
  }),
);

// ---- the loss ----

Deno.test(
  "bceWithLogits: the mean binary cross-entropy, against a float64 oracle",
  tidy(() => {
    const two = bceWithLogits(tf.tensor1d([0, 0]), tf.tensor1d([0, 1]));
    assertShape(two, [], "bceWithLogits(z, y) (a scalar: the mean over the samples)");
    assertAllClose(two, Math.log(2), {
      what: "bceWithLogits([0, 0], [0, 1]) (p = 1/2 costs log 2 whatever the label)",
    });
    for (const seed of SEEDS) {
      const { n } = dims({ n: [1, 40] }, `bce:${seed}`);
      const z = randomNumbers(n, `bce:z:${seed}`, 3);
      const y = randomLabels(n, `bce:y:${seed}`);
      const what = `bceWithLogits(z, y) for ${n} logits z ~ N(0, 3²) (seed ${seed})`;
      const loss = bceWithLogits(tf.tensor1d(z), tf.tensor1d(y));
      assertShape(loss, [], what);
      assertAllClose(loss, mean(z.map((zi, i) => bce64(zi, y[i]))), {
        what: `${what}; ℓ = max(z, 0) − z·y + log(1 + e^(−|z|)), averaged`,
      });
    }
  }),
);

Deno.test(
  "bceWithLogits: finite and right at logits ±100 and ±1000 (no log of 0)",
  tidy(() => {
    // [z, y, loss]: a confident wrong answer costs |z|, a confident right one costs ~0.
    const cases: [number, number, number][] = [
      [100, 0, 100],
      [-100, 1, 100],
      [100, 1, 0],
      [-100, 0, 0],
      [1000, 0, 1000],
      [-1000, 1, 1000],
      [1000, 1, 0],
      [-1000, 0, 0],
      [20, 0, 20],
      [-20, 0, bce64(-20, 0)],
    ];
    for (const [z, y, expected] of cases) {
      assertAllClose(bceWithLogits(tf.tensor1d([z]), tf.tensor1d([y])), expected, {
        rtol: 1e-6,
        atol: 1e-5,
        what: `bceWithLogits([${z}], [${y}]) (sigmoid then log fails here: in float32 ` +
          `σ(z) is exactly 1 from z ≈ 17 on, so log(1 − σ(z)) = log 0 = −∞, and 0·(−∞) = NaN; ` +
          `PyTorch's BCELoss clamps the log at −100, which would give 100 for z = 1000. ` +
          `Compute from the logit: max(z, 0) − z·y + log(1 + e^(−|z|)))`,
      });
    }
  }),
);

Deno.test(
  "bceWithLogits: its gradient is (σ(z) − y) / n, even at ±100 and ±1000",
  tidy(() => {
    const z = [...randomNumbers(10, "dz:z", 3), 100, -100, 1000, -1000, 30, -30];
    const y = [...randomLabels(10, "dz:y"), 0, 1, 1, 0, 0, 1];
    const n = z.length;
    const [dz] = tf.grads((zt: tf.Tensor) => bceWithLogits(zt as tf.Tensor1D, tf.tensor1d(y)))([
      tf.tensor1d(z),
    ]);
    assertAllClose(dz, z.map((zi, i) => (sigmoid64(zi) - y[i]) / n), {
      rtol: 1e-4,
      atol: 1e-7,
      what: `∂L/∂z of bceWithLogits for z = [${z.map((v) => v.toFixed(2)).join(", ")}] ` +
        `(the same form as linear regression's residual: prediction minus target, over n. ` +
        `NaN means a log of 0 or 0·∞ somewhere; 0 at z = ±1000 means a clamp that kills the ` +
        `gradient of the most wrong answers)`,
    });
  }),
);

Deno.test(
  "gradient check: bceWithLogits with respect to the logits",
  tidy(() => {
    const y = tf.tensor1d(randomLabels(16, "gc:y"));
    const z = tf.tensor1d(randomNumbers(16, "gc:z"));
    assertGradients((zt) => bceWithLogits(zt as tf.Tensor1D, y), [z], { names: ["z"] });
  }),
);

Deno.test(
  "gradient check: the whole loss with respect to w and b, and ∂L/∂w = Xᵀ(σ(z) − y) / n",
  tidy(() => {
    const n = 12, d = 3;
    const xs = randomNumbers(n * d, "gc:x");
    const ys = randomLabels(n, "gc:labels");
    const x = tf.tensor2d(xs, [n, d]);
    const y = tf.tensor1d(ys);
    const w = tf.tensor2d(randomNumbers(d, "gc:w", 0.5), [d, 1]);
    const b = tf.scalar(0.3);
    const loss = (w: tf.Tensor, b: tf.Tensor) =>
      bceWithLogits(predictLogits(x, w as tf.Tensor2D, b as tf.Scalar), y);
    assertGradients(loss, [w, b], { names: ["w", "b"] });
    // The same gradient by the formula, in float64: the residual σ(z) − y, as in kata 02.
    const wv = w.dataSync(), bv = b.dataSync()[0];
    const r = ys.map((yi, i) => {
      const zi = bv + Array.from(wv).reduce((sum, wj, j) => sum + xs[i * d + j] * wj, 0);
      return sigmoid64(zi) - yi;
    });
    const [dw, db] = tf.grads(loss)([w, b]);
    const what = "autodiff through predictLogits and bceWithLogits";
    assertAllClose(
      dw,
      Array.from({ length: d }, (_, j) => [mean(r.map((ri, i) => ri * xs[i * d + j]))]),
      { rtol: 1e-4, atol: 1e-6, what: `∂L/∂w = Xᵀ(σ(z) − y) / n [features, 1], ${what}` },
    );
    assertAllClose(db, mean(r), {
      rtol: 1e-4,
      atol: 1e-6,
      what: `∂L/∂b = mean(σ(z) − y), ${what}`,
    });
  }),
);

// ---- accuracy ----

Deno.test(
  "accuracy: class 1 when z > 0 (p > 1/2), compared with y, as a plain number",
  tidy(() => {
    const z = tf.tensor1d([-3, -0.3, 0.3, 2, 0.4, -0.2]);
    const acc = accuracy(z, tf.tensor1d([0, 0, 1, 1, 1, 0]));
    check(typeof acc === "number", `accuracy returned ${typeof acc}, expected a number`);
    check(
      acc === 1,
      `accuracy([−3, −0.3, 0.3, 2, 0.4, −0.2], [0, 0, 1, 1, 1, 0]) is ${acc}, expected 1: ` +
        `threshold the logit at 0, which is the probability at 1/2 (σ(0) = 1/2). A logit of 0.3 ` +
        `is p = 0.57: class 1. Thresholding the logit at 0.5 gives 4/6.`,
    );
    const half = accuracy(tf.tensor1d([5, 5, -5, -5]), tf.tensor1d([1, 0, 1, 0]));
    check(half === 0.5, `accuracy([5, 5, −5, −5], [1, 0, 1, 0]) is ${half}, expected 0.5`);
    for (const seed of SEEDS) {
      const { n } = dims({ n: [1, 50] }, `accuracy:${seed}`);
      const zs = randomNumbers(n, `accuracy:z:${seed}`, 2);
      const ys = randomLabels(n, `accuracy:y:${seed}`);
      const expected = mean(zs.map((zi, i) => ((zi > 0 ? 1 : 0) === ys[i] ? 1 : 0)));
      const got = accuracy(tf.tensor1d(zs), tf.tensor1d(ys));
      check(
        Math.abs(got - expected) < 1e-6,
        `accuracy(z, y) for ${n} samples (seed ${seed}) is ${got}, expected ${expected}`,
      );
    }
  }),
);

// ---- memory ----

Deno.test(
  "memory: sigmoid, predictLogits, bceWithLogits and accuracy leave only their result",
  tidy(() => {
    const x = tf.tensor2d(randomNumbers(20, "mem:x"), [10, 2]);
    const w = tf.tensor2d([[1], [-2]]);
    const b = tf.scalar(0.1);
    const y = tf.tensor1d(randomLabels(10, "mem:y"));
    const z = assertNoLeaks(() => predictLogits(x, w, b), {
      what: "predictLogits (Xw is an intermediate [samples, 1] tensor: use tf.tidy)",
    });
    assertNoLeaks(() => sigmoid(z), { what: "sigmoid" });
    assertNoLeaks(() => bceWithLogits(z, y), { what: "bceWithLogits (each term is a tensor)" });
    assertNoLeaks(() => accuracy(z, y), {
      what: "accuracy (it returns a number: every tensor it makes must be freed)",
    });
  }),
);

// ---- training ----

Deno.test("trainStep: the loss falls below 0.1 within 100 Adam steps (lr 0.1)", async () => {
  const { train: data, test } = kataData();
  const params = initParams(2, 1);
  const optimizer = tf.train.adam(0.1);
  try {
    // Measured with the reference solution: below 0.1 after 38 steps (37..44 for init seeds
    // 0..9), 0.044 after 100 steps; the best line reaches 0.022. With the seed's learning rate,
    // 0.001, Adam is still at 0.60..0.68 after 100 steps; a model without b stalls at 0.26, one
    // that sees a single feature at 0.42 or 0.69, one whose logits [n, 1] broadcast against
    // y [n] at 0.69.
    await assertLossFalls(() => trainStep(data, params, optimizer), {
      below: 0.1,
      within: 100,
      what: "training loss (mean BCE on the 800 training samples)",
      hint: "trainStep must return the loss of optimizer.minimize(() => loss, true, [w, b]) and " +
        "update both w and b. Stuck near 0.69 = log 2: the model predicts 1/2 for everyone " +
        "(check the shapes of z and y); stuck near 0.26: b is not trained.",
    });
  } finally {
    optimizer.dispose();
    tf.dispose([params.w, params.b]);
    disposeData(data, test);
  }
});

Deno.test("train: 100 Adam steps end below loss 0.1 and score ≥ 0.9 on 200 held-out samples", () => {
  const { train: data, test } = kataData();
  let result: ReturnType<typeof train> | undefined;
  try {
    result = train(data, { steps: 100, lr: 0.1, seed: 3 });
    const { params, losses } = result;
    check(
      losses.length === 100,
      `train(data, { steps: 100 }) returned ${losses.length} losses: expected one per step`,
    );
    // Measured with the reference solution: 0.723 → 0.045. Adam at lr 0.001 ends at 0.67, at
    // lr 0.01 at 0.38; plain SGD at lr 0.1 at 0.27.
    check(
      losses.every(Number.isFinite) && losses[99] < 0.1,
      `the training loss should be finite and end below 0.1 after 100 Adam steps at lr 0.1 ` +
        `(the reference solution: 0.723 → 0.045); got ${losses[0]} → ${losses[99]}. ` +
        `Is train using tf.train.adam(lr) with the lr it was given?`,
    );
    assertShape(params.w, { features: 2, one: 1 }, "the trained w");
    assertShape(params.b, [], "the trained b");
    // Measured with the reference solution: 0.99 on the test set (0.994 on train), the best line
    // 0.99, the Bayes classifier 1.00; broken models score 0.865 (no b), 0.79 or 0.49 (one
    // feature), 0.455 (logits [n, 1] against y [n]), 0.545 (always class 0). See kataData().
    const testAccuracy = tf.tidy(() => accuracy(predictLogits(test.x, params.w, params.b), test.y));
    check(
      testAccuracy >= 0.9,
      `accuracy on the held-out test set is ${testAccuracy}, expected at least 0.9 (the ` +
        `reference solution scores 0.99). Accuracy on the training set says how well the model ` +
        `remembers; on data it never saw, how well it generalises.`,
    );
  } finally {
    if (result) tf.dispose([result.params.w, result.params.b]);
    disposeData(data, test);
  }
});

Deno.test("memory: a training step leaks no tensor (after Adam's first step)", () => {
  const { train: data, test } = kataData();
  const params = initParams(2, 1);
  const optimizer = tf.train.adam(0.1);
  try {
    // Adam's first step creates its state on purpose: m and v, one of each per parameter.
    trainStep(data, params, optimizer);
    const loss = assertNoLeaks(() => {
      let last = NaN;
      for (let i = 0; i < 5; i++) last = trainStep(data, params, optimizer);
      return last;
    }, {
      what: "5 calls of trainStep (dispose the loss tensor minimize returns once you have read it)",
    });
    check(
      typeof loss === "number" && Number.isFinite(loss),
      `trainStep returned ${loss}: expected the loss as a finite number`,
    );
  } finally {
    optimizer.dispose();
    tf.dispose([params.w, params.b]);
    disposeData(data, test);
  }
});

Deno.test("memory: train frees Adam's state and returns only w and b", () => {
  const { train: data, test } = kataData();
  try {
    const result = assertNoLeaks(() => train(data, { steps: 5, seed: 1 }), {
      what: "train(data, { steps: 5 }) (Adam keeps 2 scalars and an m and a v per parameter: " +
        "call optimizer.dispose() when training ends)",
    });
    tf.dispose([result.params.w, result.params.b]);
  } finally {
    disposeData(data, test);
  }
});
