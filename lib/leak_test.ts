import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import { assertNoLeaks } from "./leak.ts";
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

Deno.test("assertNoLeaks catches a leak, names the count and the cure", () => {
  const x = tf.ones([3]);
  const kept: tf.Tensor[] = []; // the "leaked" tensors, kept here only to clean up after the test
  const before = tf.memory().numTensors;
  const msg = failure(() =>
    assertNoLeaks(() => {
      kept.push(tf.square(x), tf.sum(x));
      return 1;
    }, { what: "the training step" })
  );
  assert.equal(kept.length, 2);
  assert.ok(msg.startsWith("the training step leaked 2 tensors "), msg);
  assert.ok(msg.includes(`tf.memory().numTensors went ${before} → ${before + 2}`), msg);
  assert.match(msg, /tf\.tidy\(\(\) => \.\.\.\)/);
  assert.match(msg, /\.dispose\(\)/);
  // One tensor: singular.
  const msg1 = failure(() => assertNoLeaks(() => void kept.push(tf.neg(x))));
  assert.ok(msg1.startsWith("the call leaked 1 tensor (tf.memory"), msg1);
  tf.dispose([x, ...kept]);
});

Deno.test("assertNoLeaks passes a clean function and returns its result", () => {
  const x = tf.ones([3]);
  const before = tf.memory().numTensors;
  assert.equal(assertNoLeaks(() => 42), 42);
  assert.equal(assertNoLeaks(() => tf.tidy(() => tf.sum(tf.square(x)).dataSync()[0])), 3);
  assert.doesNotThrow(() =>
    assertNoLeaks(() => {
      const y = tf.square(x);
      y.dispose();
    })
  );
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
});

Deno.test("assertNoLeaks does not count returned tensors: single, array, object", () => {
  const x = tf.ones([3]);
  const single = assertNoLeaks(() => tf.tidy(() => tf.sum(tf.square(x))));
  assert.ok(single instanceof tf.Tensor);
  const array = assertNoLeaks(() => [tf.square(x), [tf.neg(x)]]);
  const object = assertNoLeaks(() => ({
    loss: tf.sum(x),
    grads: { w: tf.neg(x), b: [tf.square(x)] },
    step: 3,
    raw: Float32Array.of(1, 2),
  }));
  assert.equal(object.step, 3);
  // A returned tensor counts once, however often it appears.
  const t: tf.Tensor[] = [];
  const msg = failure(() =>
    assertNoLeaks(() => {
      const y = tf.square(x);
      t.push(y, tf.neg(x)); // the second one leaks
      return [y, y, { again: y }];
    })
  );
  assert.match(msg, /leaked 1 tensor \(.*; 1 of them returned\)/);
  tf.dispose([x, single, ...array.flat(), object.loss, object.grads.w, ...object.grads.b, ...t]);
});

Deno.test("assertNoLeaks does not let a returned old tensor or a disposed one hide a leak", () => {
  const x = tf.ones([3]);
  const t: tf.Tensor[] = [];
  // x existed before the call: returning it does not excuse the leaked square.
  const msg = failure(() =>
    assertNoLeaks(() => {
      t.push(tf.square(x));
      return x;
    })
  );
  assert.match(msg, /leaked 1 tensor \(.*; 0 of them returned\)/);
  // A returned tensor that was disposed is not alive: it excuses nothing either.
  const msg2 = failure(() =>
    assertNoLeaks(() => {
      const y = tf.neg(x);
      y.dispose();
      t.push(tf.square(x));
      return y;
    })
  );
  assert.match(msg2, /leaked 1 tensor/);
  tf.dispose([x, ...t]);
});

Deno.test("assertNoLeaks handles returned objects with cycles", () => {
  const x = tf.ones([3]);
  const model: Record<string, unknown> = { w: tf.neg(x) };
  model.self = model;
  model.layers = [model, { parent: model }];
  assert.equal(assertNoLeaks(() => model), model);
  const t: tf.Tensor[] = [];
  const msg = failure(() =>
    assertNoLeaks(() => {
      const m: Record<string, unknown> = { w: tf.square(x) };
      m.self = m;
      t.push(m.w as tf.Tensor, tf.sum(x)); // the sum leaks
      return m;
    })
  );
  assert.match(msg, /leaked 1 tensor/);
  tf.dispose([x, model.w as tf.Tensor, ...t]);
});

Deno.test("assertNoLeaks works with async functions", async () => {
  const x = tf.ones([3]);
  const p = assertNoLeaks(async () => {
    await Promise.resolve();
    return tf.tidy(() => tf.sum(tf.square(x)));
  });
  assert.ok(p instanceof Promise);
  const y = await p;
  assert.deepEqual(Array.from(y.dataSync()), [3]);

  const kept: tf.Tensor[] = [];
  await assert.rejects(
    assertNoLeaks(async () => {
      await Promise.resolve();
      kept.push(tf.square(x)); // made after the first await: still counted
      const s = tf.sum(x);
      kept.push(s); // returned, so not a leak; kept only to dispose it below
      return s;
    }, { what: "the async step" }),
    (e: unknown) =>
      e instanceof AssertionError && /^the async step leaked 1 tensor/.test(e.message),
  );
  tf.dispose([x, y, ...kept]);
});

Deno.test("assertNoLeaks accepts up to `allowed` extra tensors", () => {
  const x = tf.ones([3]);
  const kept: tf.Tensor[] = [];
  assert.doesNotThrow(() => assertNoLeaks(() => void kept.push(tf.neg(x)), { allowed: 1 }));
  const msg = failure(() =>
    assertNoLeaks(() => void kept.push(tf.neg(x), tf.square(x)), { allowed: 1 })
  );
  assert.ok(msg.includes("leaked 2 tensors"), msg);
  assert.ok(msg.includes(", more than the 1 allowed."), msg);
  assert.doesNotThrow(() =>
    assertNoLeaks(() => void kept.push(tf.neg(x), tf.abs(x)), { allowed: 2 })
  );
  tf.dispose([x, ...kept]);
});
