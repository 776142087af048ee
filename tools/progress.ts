/**
 * The progress line of `deno task train`: step, a bar, the training loss, the last validation
 * loss, tokens per second and the time left. Pure: the command decides where the line goes (on a
 * terminal it is redrawn in place after every step; piped, one line per evaluation).
 * @module
 */
import { clock, progressBar, truncate } from "./term.ts";

/** What the line shows. */
export interface ProgressInfo {
  /** Steps done, counting a resumed run's earlier steps. */
  step: number;
  /** The planned number of steps. */
  steps: number;
  /** The training loss: a moving average of the recent steps' batch losses. */
  trainLoss: number;
  /** The last validation loss and the step it was measured at, if any yet. */
  val?: { step: number; loss: number };
  /** Training tokens per second in this run. */
  tokensPerSecond: number;
  /** Estimated milliseconds until the last step (evaluations and checkpoints included). */
  etaMs: number;
}

/** `1,234`: thousands grouped, whatever the locale. */
export function grouped(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The progress line, cut to `width` columns if given. */
export function progressLine(p: ProgressInfo, width?: number): string {
  const digits = String(p.steps).length;
  const parts = [
    `step ${String(p.step).padStart(digits)} ${
      progressBar(p.step, p.steps, 16).replace(/ .*$/, "")
    }`,
    `loss ${p.trainLoss.toFixed(3)}`,
    p.val
      ? `val ${p.val.loss.toFixed(3)}${p.val.step === p.step ? "" : ` @${p.val.step}`}`
      : "val –",
    `${grouped(p.tokensPerSecond)} tok/s`,
    p.step >= p.steps ? "done" : `ETA ${Number.isFinite(p.etaMs) ? clock(p.etaMs) : "–"}`,
  ];
  const line = parts.join(" · ");
  return width ? truncate(line, width) : line;
}

/**
 * Estimated milliseconds left: the steps still to run at this run's pace so far (wall time per
 * step, evaluations and saves included). Infinity before the first step of the run.
 */
export function eta(stepsDone: number, stepsLeft: number, elapsedMs: number): number {
  return stepsDone > 0 ? (elapsedMs / stepsDone) * stepsLeft : Infinity;
}

/** An exponential moving average that starts at its first value. */
export class Ema {
  value = NaN;
  constructor(readonly decay = 0.9) {}
  add(x: number): number {
    this.value = Number.isNaN(this.value) ? x : this.decay * this.value + (1 - this.decay) * x;
    return this.value;
  }
}
