import { strictEqual } from "node:assert/strict";
import { displayWidth } from "./term.ts";
import { Ema, eta, grouped, progressLine } from "./progress.ts";

Deno.test("the progress line: step, bar, losses, tokens/s and ETA", () => {
  const line = progressLine({
    step: 150,
    steps: 600,
    trainLoss: 4.56789,
    val: { step: 150, loss: 5.1234 },
    tokensPerSecond: 1234.4,
    etaMs: 7 * 60_000 + 5_000,
  });
  strictEqual(
    line,
    "step 150 [████░░░░░░░░░░░░] · loss 4.568 · val 5.123 · 1,234 tok/s · ETA 7:05",
  );
});

Deno.test("the progress line says when the validation loss is older, and when it is done", () => {
  const base = { steps: 600, trainLoss: 3, tokensPerSecond: 2000, etaMs: 1000 };
  strictEqual(
    progressLine({ ...base, step: 7, val: { step: 0, loss: 7.9 } }),
    "step   7 [░░░░░░░░░░░░░░░░] · loss 3.000 · val 7.900 @0 · 2,000 tok/s · ETA 0:01",
  );
  strictEqual(
    progressLine({ ...base, step: 600 }),
    "step 600 [████████████████] · loss 3.000 · val – · 2,000 tok/s · done",
  );
  strictEqual(progressLine({ ...base, step: 1, etaMs: Infinity }).endsWith("ETA –"), true);
});

Deno.test("the progress line fits the terminal's width", () => {
  const line = progressLine({
    step: 1,
    steps: 10,
    trainLoss: 3,
    tokensPerSecond: 10,
    etaMs: 1,
  }, 30);
  strictEqual(displayWidth(line) <= 30, true);
  strictEqual(line.endsWith("…"), true);
});

Deno.test("eta, grouped and Ema", () => {
  strictEqual(eta(10, 90, 5000), 45_000);
  strictEqual(eta(0, 90, 5000), Infinity);
  strictEqual(grouped(1234567.6), "1,234,568");
  strictEqual(grouped(999), "999");
  const ema = new Ema(0.5);
  strictEqual(ema.add(4), 4);
  strictEqual(ema.add(2), 3);
});
