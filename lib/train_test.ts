import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import { assertLossFalls, formatCurve } from "./train.ts";

/** Runs assertLossFalls over a fixed curve, counting the steps it asks for. */
async function run(curve: number[], opts: Parameters<typeof assertLossFalls>[1]) {
  const asked: number[] = [];
  let error: AssertionError | undefined;
  let losses: number[] | undefined;
  try {
    losses = await assertLossFalls((i) => {
      asked.push(i);
      return curve[i];
    }, opts);
  } catch (e) {
    assert.ok(e instanceof AssertionError, `expected an AssertionError, got ${e}`);
    error = e;
  }
  return { asked, losses, error };
}

const halving = Array.from({ length: 50 }, (_, i) => 0.5 ** i);

Deno.test("assertLossFalls returns the curve and stops as soon as the loss is below", async () => {
  const { asked, losses, error } = await run(halving, { below: 0.01, within: 50 });
  assert.equal(error, undefined);
  // 0.5^6 = 0.0156 is not below 0.01; 0.5^7 = 0.0078 is: eight steps, 0..7.
  assert.deepEqual(asked, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(losses, halving.slice(0, 8));
  // "Below" is strict: reaching exactly 0.0078125 is not enough.
  const strict = await run(halving, { below: 0.5 ** 7, within: 50 });
  assert.equal(strict.asked.length, 9);
});

Deno.test("assertLossFalls awaits async steps", async () => {
  let w = 5;
  const losses = await assertLossFalls(async () => {
    await Promise.resolve();
    w -= 0.2 * 2 * w; // gradient descent on w^2
    return w * w;
  }, { below: 1e-3, within: 50 });
  // w shrinks by 0.6 a step: 25 * 0.36^n < 1e-3 first at n = 10.
  assert.equal(losses.length, 10);
  assert.ok(losses[9] < 1e-3 && losses[8] >= 1e-3);
});

Deno.test("assertLossFalls throws with the curve when the loss does not fall far enough", async () => {
  const curve = [1, 0.2, 0.5, 0.45, 0.4, 0.35];
  const { asked, error } = await run(curve, {
    below: 0.1,
    within: 5,
    what: "training loss",
    hint: "try a larger learning rate",
  });
  assert.deepEqual(asked, [0, 1, 2, 3, 4]);
  assert.ok(error);
  const lines = error.message.split("\n");
  assert.equal(
    lines[0],
    "training loss did not fall below 0.1 within 5 steps (last: 0.4000, lowest: 0.2000).",
  );
  assert.equal(lines.slice(1, 6).join("\n"), formatCurve(curve.slice(0, 5)));
  assert.match(lines[1], /^ {2}step 0 /);
  assert.match(lines[5], /^ {2}step 4 /);
  assert.equal(lines[6], "Hint: try a larger learning rate");
  // Without a hint there is no hint line.
  const plain = await run(curve, { below: 0.1, within: 3 });
  assert.ok(plain.error && !plain.error.message.includes("Hint"));
  assert.match(plain.error.message, /^loss did not fall below 0\.1 within 3 steps/);
});

Deno.test("assertLossFalls fails at once on NaN or an infinity", async () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const { asked, error } = await run([1, 0.5, bad, 0.001], { below: 0.01, within: 10 });
    assert.deepEqual(asked, [0, 1, 2], `${bad}`);
    assert.ok(error, `${bad} was accepted`);
    assert.ok(
      error.message.startsWith(
        `loss became ${bad} at step 2 (a learning rate too large, or a log of 0?).\n`,
      ),
      error.message,
    );
    assert.match(error.message, /step 2 .*\(not finite\)/);
  }
});

Deno.test("formatCurve draws one bar per step, scaled to the largest loss", () => {
  assert.equal(
    formatCurve([4, 2, 1]),
    [
      "  step 0       4.000  " + "█".repeat(30),
      "  step 1       2.000  " + "█".repeat(15),
      "  step 2       1.000  " + "█".repeat(8), // 7.5 rounds up
    ].join("\n"),
  );
  assert.equal(formatCurve([]), "  (no steps ran)");
  assert.equal(
    formatCurve([2, NaN, Infinity, 0]),
    [
      "  step 0       2.000  " + "█".repeat(30),
      "  step 1         NaN  (not finite)",
      "  step 2    Infinity  (not finite)",
      "  step 3       0.000  ",
    ].join("\n"),
  );
});

Deno.test("formatCurve samples long curves and always shows the last step", () => {
  const steps = (text: string) => text.split("\n").map((l) => Number(l.match(/step +(\d+)/)![1]));
  const curve = (n: number) => Array.from({ length: n }, (_, i) => 1 / (i + 1));
  // 100 steps in about 12 rows: every 9th step, 99 included.
  assert.deepEqual(steps(formatCurve(curve(100))), [0, 9, 18, 27, 36, 45, 54, 63, 72, 81, 90, 99]);
  // 26 steps: every 3rd, and the last one although 25 is not a multiple of 3.
  assert.deepEqual(steps(formatCurve(curve(26))), [0, 3, 6, 9, 12, 15, 18, 21, 24, 25]);
  assert.deepEqual(steps(formatCurve(curve(26), 30)), Array.from({ length: 26 }, (_, i) => i));
  // Step numbers are padded to the widest one.
  assert.match(formatCurve(curve(100)).split("\n")[0], /^ {2}step {2}0 {2}/);
});
