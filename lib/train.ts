/**
 * Training assertions: "the loss falls below X within N steps", with the loss curve printed when it
 * does not.
 *
 * @example
 * ```ts
 * import { assertLossFalls } from "./train.ts";
 * let w = 5;
 * await assertLossFalls(() => { w -= 0.2 * 2 * w; return w * w; }, { below: 1e-3, within: 50 });
 * ```
 * @module
 */
import { AssertionError } from "node:assert";

export interface LossFallsOptions {
  /** The loss must go strictly below this... */
  below: number;
  /** ...within this many steps. */
  within: number;
  /** Names the loss in messages (default "loss"). */
  what?: string;
  /** Advice added to the failure message. */
  hint?: string;
}

/** A small text plot of a loss curve: about `rows` sampled steps, each with a bar. */
export function formatCurve(losses: readonly number[], rows = 12): string {
  if (losses.length === 0) return "  (no steps ran)";
  const step = Math.max(1, Math.ceil(losses.length / rows));
  const picked = losses.map((l, i) => [i, l] as const)
    .filter(([i]) => i % step === 0 || i === losses.length - 1);
  const finite = picked.map(([, l]) => l).filter(Number.isFinite);
  const max = Math.max(...finite, 1e-12);
  const width = String(losses.length - 1).length;
  return picked.map(([i, l]) =>
    `  step ${String(i).padStart(width)}  ${l.toPrecision(4).padStart(10)}  ` +
    (Number.isFinite(l) ? "█".repeat(Math.max(0, Math.round((30 * l) / max))) : "(not finite)")
  ).join("\n");
}

/**
 * Calls `step(i)` for i = 0, 1, ... until it returns a loss below `below` (success) or `within`
 * steps have run (failure: an AssertionError with the loss curve). Returns the losses seen.
 * `step` may be async. A loss that is NaN or infinite fails at once.
 */
export async function assertLossFalls(
  step: (i: number) => number | Promise<number>,
  { below, within, what = "loss", hint }: LossFallsOptions,
): Promise<number[]> {
  const losses: number[] = [];
  for (let i = 0; i < within; i++) {
    const loss = await step(i);
    losses.push(loss);
    if (!Number.isFinite(loss)) break;
    if (loss < below) return losses;
  }
  const last = losses[losses.length - 1];
  const why = Number.isFinite(last)
    ? `did not fall below ${below} within ${within} steps (last: ${last.toPrecision(4)}, ` +
      `lowest: ${Math.min(...losses).toPrecision(4)})`
    : `became ${last} at step ${losses.length - 1} (a learning rate too large, or a log of 0?)`;
  throw new AssertionError({
    message: `${what} ${why}.\n${formatCurve(losses)}` + (hint ? `\nHint: ${hint}` : ""),
  });
}
