/**
 * Kata 06 · 循环神经网络生成文本 · RNN text generation — the tests.
 *
 * Run: deno test katas/06
 *
 * Values are checked against plain-JavaScript oracles in float64, gradients against finite
 * differences, training on the seed's text "hello world". Measured on the reference solution
 * (wasm backend, hidden 16, Adam lr 0.05, initRnn seed 0):
 * - the first loss is 2.330 (ln 8 = 2.079 would be a uniform guess); the loss is below 0.05 after
 *   13 steps (seeds 0..7: 10 to 14 steps); 50 steps of train end at 7.5e-4
 * - with U fixed at 0 (no memory) the loss stops at 0.4685 after 40 steps, just above the floor
 *   (3 ln 3 + 2 ln 2)/10 = 0.4682, and greedy decoding from "h" cannot give "hello world"
 * - gradient check through 4 time steps: relative error 3e-5 (threshold 1e-3); the same forward
 *   with the gradient cut between steps scores 0.16
 * - with U = 0.5·I the influence of x_1 on h_t halves at every step (0.686 for h_1, 3.3e-4 for
 *   h_12); with U = I it decays by only 1% per step
 * @module
 */
import { AssertionError } from "node:assert";
import {
  allClose,
  assertAllClose,
  assertGradients,
  assertLossFalls,
  assertNoLeaks,
  assertShape,
  gradCheck,
  normalRng,
  rng,
  tf,
} from "../../lib/mod.ts";
import {
  decode,
  encode,
  greedyDecode,
  initRnn,
  makeExamples,
  type Params,
  rnnCell,
  rnnForward,
  sequenceLoss,
  TEXT,
  train,
  trainStep,
  vocabulary,
  type Weights,
} from "./mod.ts";

/** Wraps a test body in `tf.tidy`, so every tensor the test makes is freed, even when it fails. */
function tidy(body: () => void): () => void {
  return () => tf.tidy(body);
}

/** Throws an AssertionError with `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new AssertionError({ message });
}

function disposeParams(p: Params): void {
  tf.dispose([p.W, p.U, p.b, p.V, p.c]);
}

// ---------- plain-JavaScript oracles (float64, no TensorFlow.js) ----------

type Mat = number[][];

/** The weights as nested arrays. */
interface Weights64 {
  W: Mat;
  U: Mat;
  b: number[];
  V: Mat;
  c: number[];
}

function toArrays(w: Weights): Weights64 {
  return {
    W: w.W.arraySync(),
    U: w.U.arraySync(),
    b: w.b.arraySync(),
    V: w.V.arraySync(),
    c: w.c.arraySync(),
  };
}

/** a [n, k] · b [k, m] + bias [m]. */
function affine(a: Mat, b: Mat, bias: number[]): Mat {
  return a.map((row) => bias.map((bj, j) => row.reduce((s, v, k) => s + v * b[k][j], bj)));
}

/** h = tanh(x W + hPrev U + b), row by row. */
function cell64(x: Mat, hPrev: Mat, w: Weights64): Mat {
  const xw = affine(x, w.W, w.b);
  const hu = affine(hPrev, w.U, w.b.map(() => 0));
  return xw.map((row, i) => row.map((v, j) => Math.tanh(v + hu[i][j])));
}

/** The RNN unrolled over xs [batch][time][vocab]; `carry: false` resets h to h0 at every step. */
function forward64(xs: number[][][], h0: Mat, w: Weights64, carry = true) {
  const batch = xs.length, time = xs[0].length;
  const hidden: number[][][] = xs.map(() => []);
  const logits: number[][][] = xs.map(() => []);
  let h = h0;
  for (let t = 0; t < time; t++) {
    h = cell64(xs.map((seq) => seq[t]), carry ? h : h0, w);
    const y = affine(h, w.V, w.c);
    for (let i = 0; i < batch; i++) {
      hidden[i].push(h[i]);
      logits[i].push(y[i]);
    }
  }
  return { hidden, logits };
}

/** Greedy decoding in float64 (`carry: false` forgets h after every character). */
function greedy64(w: Weights64, chars: string[], first: string, length: number, carry = true) {
  const hidden = w.U.length;
  const zero = [Array(hidden).fill(0)];
  let h = zero, out = first, ch = first;
  while (out.length < length) {
    const x = [chars.map((c) => (c === ch ? 1 : 0))];
    h = cell64(x, carry ? h : zero, w);
    const y = affine(h, w.V, w.c)[0];
    ch = chars[y.indexOf(Math.max(...y))];
    out += ch;
  }
  return out;
}

/** Mean over every position of −log softmax(logits)[target], from logits and target indices. */
function crossEntropy64(logits: number[][][], targets: number[][]): number {
  let sum = 0, n = 0;
  logits.forEach((seq, i) =>
    seq.forEach((y, t) => {
      const max = Math.max(...y);
      const logZ = max + Math.log(y.reduce((s, v) => s + Math.exp(v - max), 0));
      sum += logZ - y[targets[i][t]];
      n++;
    })
  );
  return sum / n;
}

/** Seeded weights N(0, scale²) as plain tensors (not variables). */
function randomWeights(vocab: number, hidden: number, seed: string, scale = 0.8): Weights {
  const normal = normalRng(seed);
  const t = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => scale * normal()),
      shape,
    );
  return {
    W: t([vocab, hidden]) as tf.Tensor2D,
    U: t([hidden, hidden]) as tf.Tensor2D,
    b: t([hidden]) as tf.Tensor1D,
    V: t([hidden, vocab]) as tf.Tensor2D,
    c: t([vocab]) as tf.Tensor1D,
  };
}

/** Seeded indices [batch][time] in [0, vocab). */
function randomIds(batch: number, time: number, vocab: number, seed: string): number[][] {
  const u = rng(seed);
  return Array.from(
    { length: batch },
    () => Array.from({ length: time }, () => Math.floor(u() * vocab)),
  );
}

/** One-hot [batch][time][vocab] arrays of ids. */
function oneHot64(ids: number[][], vocab: number): number[][][] {
  return ids.map((seq) =>
    seq.map((id) => Array.from({ length: vocab }, (_, k) => (k === id ? 1 : 0)))
  );
}

/** The one-hot float32 tensor [batch, time, vocab] of ids, made without the learner's code. */
function oneHotTensor(ids: number[][], vocab: number): tf.Tensor3D {
  return tf.tensor3d(oneHot64(ids, vocab));
}

const carryHint = "Carry the hidden state: the h returned by step t is the hPrev of step t + 1 " +
  "(start from h0, not from zeros, and do not reset it inside the loop).";

// ---------- the data ----------

Deno.test("vocabulary: every character once, sorted, so index i means the same on every run", () => {
  const chars = vocabulary(TEXT);
  const want = [" ", "d", "e", "h", "l", "o", "r", "w"];
  const shown = JSON.stringify(chars);
  check(
    [...chars].sort().join("|") !== want.join("|") || chars.join("|") === want.join("|"),
    `vocabulary("hello world") gave ${shown}: the right characters in the wrong order. Sort ` +
      "them. (The seed's list(set(text)) has the same problem: Python randomises string " +
      "hashing, so the order, and with it every index, changes from run to run.)",
  );
  check(
    chars.join("|") === want.join("|"),
    `vocabulary("hello world") gave ${shown}, expected ${JSON.stringify(want)}: each of the 8 ` +
      "distinct characters once, sorted by code point",
  );
  // Sorting by code point works for any script: 世 U+4E16, 你 U+4F60, 好 U+597D, 界 U+754C.
  const zh = vocabulary("你好世界你好");
  check(
    zh.join("") === "世你好界",
    `vocabulary("你好世界你好") gave ${JSON.stringify(zh)}, expected ["世", "你", "好", "界"]`,
  );
  check(vocabulary("banana").join("") === "abn", `vocabulary("banana") should be a, b, n`);
  // The given helpers round-trip through it.
  check(decode(encode(TEXT, chars), chars) === TEXT, "decode(encode(text)) should be the text");
});

Deno.test(
  "makeExamples: inputs 'hello worl', targets 'ello world', one-hot float32 [batch, time, vocab]",
  tidy(() => {
    const chars = vocabulary(TEXT);
    const { inputs, targets } = makeExamples(TEXT, chars);
    assertShape(inputs, { batch: 1, time: 10, vocab: 8 }, "makeExamples(...).inputs");
    assertShape(targets, { batch: 1, time: 10, vocab: 8 }, "makeExamples(...).targets");
    for (const [name, t] of [["inputs", inputs], ["targets", targets]] as const) {
      check(
        t.dtype === "float32",
        `${name} has dtype ${t.dtype}: tf.oneHot gives int32; cast to float32 (the given ` +
          "oneHot helper does) so that matMul with the float weights is well defined.",
      );
    }
    const idsOf = (t: tf.Tensor3D) => (t.argMax(-1).arraySync() as number[][])[0];
    const got = { inputs: decode(idsOf(inputs), chars), targets: decode(idsOf(targets), chars) };
    check(
      got.inputs === "hello worl" && got.targets === "ello world",
      `inputs spell "${got.inputs}" and targets "${got.targets}"; expected "hello worl" and ` +
        '"ello world": the target at t is the character after the input at t (text[1:]).',
    );
    assertAllClose(tf.sum(inputs, -1), [Array(10).fill(1)], { what: "each input row sums to 1" });
    assertAllClose(tf.sum(targets, -1), [Array(10).fill(1)], { what: "each target row sums to 1" });
  }),
);

// ---------- the model ----------

Deno.test("rnnCell: h_t = tanh(x_t W + h_{t-1} U + b), [batch, hidden], against a plain-JS oracle", () => {
  const cases = [
    { batch: 1, vocab: 8, hidden: 16, seed: 1 },
    { batch: 3, vocab: 5, hidden: 4, seed: 2 },
    { batch: 2, vocab: 3, hidden: 7, seed: 3 },
  ];
  for (const { batch, vocab, hidden, seed } of cases) {
    tf.tidy(() => {
      const w = randomWeights(vocab, hidden, `cell:${seed}`);
      const x = tf.tensor2d(oneHot64(randomIds(1, batch, vocab, `cell-x:${seed}`), vocab)[0]);
      const hPrev = tf.tanh(randomWeights(batch, hidden, `cell-h:${seed}`).W) as tf.Tensor2D;
      const h = assertNoLeaks(() => rnnCell(x, hPrev, w), { what: "rnnCell" });
      assertShape(
        h,
        { batch, hidden },
        `rnnCell(x [${batch}, ${vocab}], hPrev [${batch}, ${hidden}])`,
      );
      const want = cell64(x.arraySync(), hPrev.arraySync(), toArrays(w));
      const zeros = hPrev.arraySync().map((row) => row.map(() => 0));
      const withoutU = cell64(x.arraySync(), zeros, toArrays(w));
      check(
        !allClose(h, withoutU, { rtol: 1e-4, atol: 1e-5 }).ok,
        "rnnCell ignores hPrev: h_t must depend on h_{t-1} through the term hPrev·U.",
      );
      assertAllClose(h, want, {
        rtol: 1e-4,
        atol: 1e-5,
        what: `h_t, batch ${batch} (x·W [batch, hidden] plus hPrev·U [batch, hidden] plus b, ` +
          "then tanh; not W·x: the rows are the examples)",
      });
    });
  }
});

Deno.test(
  "rnnForward: hidden [batch, time, hidden] and logits [batch, time, vocab] match an unrolled oracle",
  () => {
    const cases = [
      { batch: 2, time: 5, vocab: 6, hidden: 4, seed: 1 },
      { batch: 1, time: 10, vocab: 8, hidden: 16, seed: 2 },
      { batch: 3, time: 3, vocab: 4, hidden: 5, seed: 3 },
    ];
    for (const { batch, time, vocab, hidden, seed } of cases) {
      tf.tidy(() => {
        const w = randomWeights(vocab, hidden, `fwd:${seed}`, 0.6);
        const ids = randomIds(batch, time, vocab, `fwd-x:${seed}`);
        const xs = oneHotTensor(ids, vocab);
        const h0 = tf.tanh(randomWeights(batch, hidden, `fwd-h:${seed}`).W) as tf.Tensor2D;
        const out = assertNoLeaks(() => rnnForward(xs, h0, w), { what: "rnnForward" });
        assertShape(out.hidden, { batch, time, hidden }, "rnnForward(...).hidden");
        assertShape(out.logits, { batch, time, vocab }, "rnnForward(...).logits");
        const w64 = toArrays(w);
        const want = forward64(oneHot64(ids, vocab), h0.arraySync(), w64);
        const forgetful = forward64(oneHot64(ids, vocab), h0.arraySync(), w64, false);
        check(
          !allClose(out.hidden, forgetful.hidden, { rtol: 1e-4, atol: 1e-5 }).ok,
          `every h_t was computed from h0: ${carryHint}`,
        );
        assertAllClose(out.hidden, want.hidden, {
          rtol: 1e-4,
          atol: 1e-5,
          what: `hidden states (batch ${batch}, time ${time}; h_1 is the first, computed from h0)`,
        });
        assertAllClose(out.logits, want.logits, {
          rtol: 1e-4,
          atol: 1e-4,
          what: "logits y_t = h_t V + c at every step",
        });
      });
    }
  },
);

Deno.test(
  "rnnForward carries the hidden state: x_1 changes h_3, x_3 changes nothing before it",
  tidy(() => {
    const [batch, vocab, hidden] = [2, 5, 6];
    const w = randomWeights(vocab, hidden, "carry", 0.6);
    const h0 = tf.zeros([batch, hidden]) as tf.Tensor2D;
    const ids = [[0, 1, 2, 3], [4, 3, 2, 1]];
    const base = rnnForward(oneHotTensor(ids, vocab), h0, w);
    const at = (t: tf.Tensor3D, step: number) => t.slice([0, step, 0], [batch, 1, -1]);
    const diff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
    // Array index i holds x_{i+1} and h_{i+1} (h_0 is the initial state).
    // A different third character x_3: h_1 and h_2 were computed before it was read.
    const late = rnnForward(oneHotTensor([[0, 1, 4, 3], [4, 3, 0, 1]], vocab), h0, w);
    for (const step of [0, 1]) {
      const d = diff(at(base.hidden, step), at(late.hidden, step));
      check(
        d === 0,
        `changing x_3 changed h_${step + 1} (by ${d.toExponential(1)}): h_t may only depend on ` +
          "x_1..x_t. Is the time axis (axis 1) read in order, from the first step?",
      );
    }
    check(diff(at(base.hidden, 2), at(late.hidden, 2)) > 1e-2, "changing x_3 should move h_3");
    // A different first character x_1: the RNN must still remember it two steps later, in h_3.
    const early = rnnForward(oneHotTensor([[2, 1, 2, 3], [1, 3, 2, 1]], vocab), h0, w);
    // Measured: h_3 moves by 0.31, the logits y_3 by 0.36.
    const moved = diff(at(base.hidden, 2), at(early.hidden, 2));
    check(
      moved > 1e-2,
      `changing x_1 moved h_3 by only ${moved.toExponential(1)}: the output at step 3 does not ` +
        `depend on the input two steps back. ${carryHint}`,
    );
    check(diff(at(base.logits, 2), at(early.logits, 2)) > 1e-2, "changing x_1 should move y_3");
  }),
);

// ---------- the loss and its gradient ----------

Deno.test(
  "sequenceLoss: softmax cross-entropy averaged over every position (plain-JS oracle)",
  tidy(() => {
    const [batch, time, vocab] = [2, 3, 5];
    const normal = normalRng("loss");
    const logits64 = Array.from(
      { length: batch },
      () => Array.from({ length: time }, () => Array.from({ length: vocab }, () => 2 * normal())),
    );
    const ids = randomIds(batch, time, vocab, "loss-y");
    const logits = tf.tensor3d(logits64);
    const targets = oneHotTensor(ids, vocab);
    const loss = assertNoLeaks(() => sequenceLoss(logits, targets), { what: "sequenceLoss" });
    assertShape(loss, [], "sequenceLoss(...)");
    const want = crossEntropy64(logits64, ids);
    const got = loss.dataSync()[0];
    const n = batch * time;
    check(
      Math.abs(got - want * n) > 1e-3,
      `sequenceLoss gave ${got}, the sum over the ${n} positions: take the mean.`,
    );
    check(
      Math.abs(got - want / vocab) > 1e-3,
      `sequenceLoss gave ${got}, ${vocab} times too small: sum over the vocabulary axis (the one-hot ` +
        "picks one log-probability), then average over batch and time.",
    );
    assertAllClose(loss, want, { rtol: 1e-4, what: "the mean of −log softmax(logits)[target]" });
    // Equal logits give every character probability 1/vocab: the loss is ln(vocab).
    const uniform = sequenceLoss(
      tf.zeros([batch, time, vocab]) as tf.Tensor3D,
      oneHotTensor(ids, vocab),
    );
    assertAllClose(uniform, Math.log(vocab), {
      rtol: 1e-5,
      what: "the loss of equal logits, ln(5)",
    });
  }),
);

/** Sizes of the gradient checks: 4 time steps, small enough to perturb every weight. */
const GC = { batch: 2, time: 4, vocab: 5, hidden: 3 };

function gradCheckSetup() {
  const w = randomWeights(GC.vocab, GC.hidden, "gradcheck");
  const xs = oneHotTensor([[0, 3, 1, 4], [2, 2, 0, 1]], GC.vocab);
  const ys = oneHotTensor([[3, 1, 4, 2], [2, 0, 1, 3]], GC.vocab);
  const h0 = tf.mul(0.5, randomWeights(GC.batch, GC.hidden, "gradcheck-h0").W) as tf.Tensor2D;
  return { w, xs, ys, h0 };
}

Deno.test(
  "BPTT: the gradient through 4 time steps w.r.t. W, U, b, V, c passes a finite-difference check",
  tidy(() => {
    const { w, xs, ys, h0 } = gradCheckSetup();
    const loss = (W: tf.Tensor, U: tf.Tensor, b: tf.Tensor, V: tf.Tensor, c: tf.Tensor) =>
      sequenceLoss(
        rnnForward(xs, h0, { W, U, b, V, c } as Weights).logits,
        ys,
      );
    // Measured relative error: 3e-5 (threshold 1e-3).
    assertGradients(loss, [w.W, w.U, w.b, w.V, w.c], { names: ["W", "U", "b", "V", "c"] });
  }),
);

Deno.test(
  "the check can fail: a forward that cuts the gradient between steps is caught",
  tidy(() => {
    const { w, xs, ys, h0 } = gradCheckSetup();
    // Your rnnCell, unrolled with h copied out of the graph after every step (as h.dataSync() or
    // tf.tensor(h.arraySync()) would do): the values are the same, the gradient through time is lost.
    const cut = (W: tf.Tensor, U: tf.Tensor, b: tf.Tensor) => {
      const weights = { ...w, W, U, b } as Weights;
      let h = h0;
      const hs: tf.Tensor2D[] = [];
      for (const x of tf.unstack(xs, 1) as tf.Tensor2D[]) {
        h = rnnCell(x, h, weights);
        hs.push(h);
        h = tf.tensor2d(h.arraySync());
      }
      const flat = tf.reshape(tf.stack(hs, 1), [-1, GC.hidden]);
      const logits = tf.reshape(tf.add(tf.matMul(flat, w.V), w.c), [GC.batch, GC.time, GC.vocab]);
      return sequenceLoss(logits as tf.Tensor3D, ys);
    };
    const report = gradCheck(cut, [w.W, w.U, w.b], { names: ["W", "U", "b"] });
    // Measured: 0.16. Finite differences see every path through time; the cut autodiff does not.
    check(
      !report.ok && report.relError > 0.05,
      "Cutting the hidden state out of the graph should fail the check (measured 0.16), but it " +
        `scored ${
          report.relError.toExponential(1)
        }. Does your rnnCell use hPrev?\n${report.message}`,
    );
  }),
);

Deno.test(
  "vanishing gradients: with U = 0.5·I the influence of x_1 on h_t halves at every step",
  tidy(() => {
    const [vocab, hidden, time] = [3, 4, 12];
    /** |∂(Σ h_t)/∂x_1| for t = 1..time (array index t - 1). */
    const influence = (a: number): number[] => {
      // Small inputs keep tanh in its linear range, so ∂h_t/∂h_{t-1} ≈ U = a·I.
      const w: Weights = {
        W: tf.fill([vocab, hidden], 0.1) as tf.Tensor2D,
        U: tf.mul(a, tf.eye(hidden)) as tf.Tensor2D,
        b: tf.zeros([hidden]) as tf.Tensor1D,
        V: tf.ones([hidden, vocab]) as tf.Tensor2D,
        c: tf.zeros([vocab]) as tf.Tensor1D,
      };
      // x_1 is a character, every later x_t is all zeros: only x_1 feeds the network.
      const xs = tf.tensor3d([
        Array.from({ length: time }, (_, i) => (i === 0 ? [1, 0, 0] : [0, 0, 0])),
      ]);
      const h0 = tf.zeros([1, hidden]) as tf.Tensor2D;
      return Array.from({ length: time }, (_, i) => {
        const g = tf.grad((x: tf.Tensor) =>
          tf.sum(rnnForward(x as tf.Tensor3D, h0, w).hidden.slice([0, i, 0], [1, 1, hidden]))
        )(xs);
        return tf.norm(g.slice([0, 0, 0], [1, 1, vocab])).dataSync()[0];
      });
    };
    const half = influence(0.5);
    const shown = half.map((v) => v.toExponential(1)).join(", ");
    // Measured: 0.686, 0.342, 0.171, ... 3.3e-4 for h_12 (a ratio of 0.499 per step).
    for (let t = 2; t <= time; t++) {
      const ratio = half[t - 1] / half[t - 2];
      check(
        Math.abs(ratio - 0.5) < 0.02,
        `with U = 0.5·I, |∂h_${t}/∂x_1| / |∂h_${t - 1}/∂x_1| = ${ratio.toPrecision(3)}, expected ` +
          `about 0.5 (for h_1..h_${time}: ${shown}). ` +
          (half[t - 1] === 0
            ? `A gradient of 0: h_${t} does not depend on x_1 at all. ${carryHint}`
            : "Each step should multiply the gradient by U (times tanh' ≈ 1): is hPrev · U there?"),
      );
    }
    const one = influence(1);
    // Measured: 0.686 → 0.617 for h_12: with U = I only tanh' < 1 shrinks it, 1% per step.
    check(
      one[time - 1] / one[0] > 0.8,
      `with U = I the influence of x_1 should barely shrink (measured 0.686 → 0.617), got ` +
        `${one.map((v) => v.toExponential(1)).join(", ")}`,
    );
  }),
);

// ---------- decoding and training ----------

Deno.test("greedyDecode carries h from character to character (plain-JS oracle, untrained weights)", () => {
  const chars = vocabulary(TEXT);
  const params = initRnn(chars.length, 16, 0);
  try {
    const w64 = toArrays(params);
    // The oracle self-check: with these weights forgetting h changes the text (measured: for
    // every start, e.g. "hr edoedrhe" with memory, "hrhrhrhrhrh" without).
    check(
      chars.some((c) => greedy64(w64, chars, c, 11) !== greedy64(w64, chars, c, 11, false)),
      "test set-up: these weights should decode differently with and without memory",
    );
    for (const first of chars) {
      const got = assertNoLeaks(() => greedyDecode(params, chars, first, 11), {
        what: "greedyDecode",
      });
      const want = greedy64(w64, chars, first, 11);
      const forgetful = greedy64(w64, chars, first, 11, false);
      check(
        !(got === forgetful && got !== want),
        `greedyDecode from ${JSON.stringify(first)} gave ${JSON.stringify(got)}, what a model ` +
          `without memory writes; expected ${JSON.stringify(want)}. Keep the h of one step as ` +
          "hPrev of the next.",
      );
      check(
        got === want,
        `greedyDecode from ${JSON.stringify(first)} gave ${JSON.stringify(got)}, expected ` +
          `${JSON.stringify(want)} (start from h = 0; at each step feed the last character, ` +
          "take the argmax of h V + c, append it; stop at `length` characters, `first` included)",
      );
    }
    check(greedyDecode(params, chars, "h", 1) === "h", "greedyDecode(..., 'h', 1) should be 'h'");
  } finally {
    disposeParams(params);
  }
});

Deno.test("trainStep: returns the loss before the update, changes the weights, leaks nothing", () => {
  const chars = vocabulary(TEXT);
  const examples = makeExamples(TEXT, chars);
  const params = initRnn(chars.length, 16, 0);
  const optimizer = tf.train.adam(0.05);
  try {
    const before = tf.tidy(() => {
      const h0 = tf.zeros([1, 16]) as tf.Tensor2D;
      return sequenceLoss(rnnForward(examples.inputs, h0, params).logits, examples.targets)
        .dataSync()[0];
    });
    const U0 = params.U.arraySync();
    const first = trainStep(params, examples, optimizer); // Adam makes its state here, on purpose
    check(typeof first === "number", "trainStep must return the loss as a plain number");
    assertAllClose(first, before, {
      rtol: 1e-5,
      what: "the loss trainStep returns (before the update)",
    });
    const moved = Math.max(
      ...params.U.arraySync().flat().map((v, i) => Math.abs(v - U0.flat()[i])),
    );
    check(
      moved > 1e-3,
      `U moved by ${moved.toExponential(1)} in one Adam step: minimize the loss with respect ` +
        "to every weight, the recurrent U included.",
    );
    for (let i = 0; i < 3; i++) {
      assertNoLeaks(() => trainStep(params, examples, optimizer), {
        what: `trainStep (step ${i + 2})`,
      });
    }
  } finally {
    optimizer.dispose();
    disposeParams(params);
    tf.dispose([examples.inputs, examples.targets]);
  }
});

Deno.test("after training, greedy decoding from 'h' writes 'hello world' (the 3 l's need memory)", async () => {
  const chars = vocabulary(TEXT);
  const examples = makeExamples(TEXT, chars);
  const params = initRnn(chars.length, 16, 0);
  const optimizer = tf.train.adam(0.05);
  try {
    // Measured: below 0.05 after 13 steps (seeds 0..7: 10 to 14). A mean below ln(2)/10 = 0.069
    // over the 10 positions puts probability above 1/2 on every right next character, so greedy
    // decoding must follow the text. A model without memory cannot go below 0.468.
    await assertLossFalls(() => trainStep(params, examples, optimizer), {
      below: 0.05,
      within: 60,
      hint:
        "stuck near 0.468? That is the best a model without memory can do: 'l' is followed by " +
        "'l', 'o' and 'd', 'o' by ' ' and 'r'. Check that h is carried between steps.",
    });
    const text = assertNoLeaks(() => greedyDecode(params, chars, "h", 11), {
      what: "greedyDecode",
    });
    check(
      text === "hello world",
      `greedy decoding from "h" gave ${JSON.stringify(text)} although the loss is low. ` +
        (text.startsWith("helll") ? `It forgets which "l" it is at. ${carryHint} ` : "") +
        "Decode as you train: h_0 = 0, the same rnnCell, the argmax of h V + c, and 11 " +
        "characters in all, the first one included.",
    );
  } finally {
    optimizer.dispose();
    disposeParams(params);
    tf.dispose([examples.inputs, examples.targets]);
  }
});

Deno.test("the hidden state is required: with U = 0 the loss stops at 0.468 and decoding fails", () => {
  const chars = vocabulary(TEXT);
  const examples = makeExamples(TEXT, chars);
  const params = initRnn(chars.length, 16, 0);
  const noMemory = { ...params, U: tf.zeros([16, 16]) as tf.Tensor2D };
  const optimizer = tf.train.adam(0.05);
  const h0 = tf.zeros([1, 16]) as tf.Tensor2D;
  try {
    let loss = Infinity;
    for (let i = 0; i < 40; i++) {
      const l = optimizer.minimize(
        () => sequenceLoss(rnnForward(examples.inputs, h0, noMemory).logits, examples.targets),
        true,
        [params.W, params.b, params.V, params.c],
      )!;
      loss = l.dataSync()[0];
      l.dispose();
    }
    // Without memory the best guess after "l" is l, o, d with 1/3 each and after "o" is " ", r
    // with 1/2 each: (3 ln 3 + 2 ln 2)/10 = 0.4682. Measured after 40 steps: 0.4685 (seeds 0..3:
    // 0.4685..0.4687); 0.4728 after 20.
    const floor = (3 * Math.log(3) + 2 * Math.log(2)) / 10;
    check(
      loss > floor - 1e-3 && loss < floor + 0.01,
      `with U = 0 the loss should settle just above ${floor.toFixed(4)}, got ${loss.toFixed(4)}` +
        (loss < floor
          ? " (below what is possible without memory: is sequenceLoss the mean over positions " +
            "of −log p(target), and does rnnForward use only x_t and h_{t-1}?)"
          : " (is sequenceLoss the mean over all positions, not the sum?)"),
    );
    // Without memory the next character is a fixed function of the current one, so after "l" it
    // is always the same character: "hello world" is impossible whatever the weights.
    // Measured: "helorlorlor" after 40 steps ("heldo wo wo" after 60, "helllllllll" after 100).
    const text = greedyDecode(noMemory, chars, "h", 11);
    check(text !== "hello world", `a model without memory decoded ${JSON.stringify(text)}`);
  } finally {
    optimizer.dispose();
    disposeParams(params);
    tf.dispose([noMemory.U, h0, examples.inputs, examples.targets]);
  }
});

Deno.test("train (given) runs the whole recipe with your functions and leaks nothing", () => {
  const result = assertNoLeaks(() => train(TEXT, { seed: 0, steps: 50 }), { what: "train" });
  try {
    check(result.losses.length === 50, `train ran ${result.losses.length} steps, not 50`);
    // Measured: 2.330 first (an untrained model guesses about uniformly: ln 8 = 2.079), 7.5e-4
    // after 50 steps (seeds 0..3: 3e-4..8e-4).
    check(
      result.losses[0] > 1.5 && result.losses[0] < 3,
      `the first loss is ${result.losses[0]}, expected about ln 8 = 2.08 (measured 2.33)`,
    );
    check(
      result.losses[49] < 0.01,
      `after 50 steps the loss is ${result.losses[49]} (measured 7.5e-4)`,
    );
    check(
      greedyDecode(result.params, result.chars, "h", 11) === "hello world",
      "the trained model should write 'hello world' from 'h'",
    );
  } finally {
    disposeParams(result.params);
  }
});
