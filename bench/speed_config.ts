/**
 * The configuration the speed benchmarks share (bench/train_speed.ts, bench/generate_speed.ts):
 * nanoGPT's CPU configuration for Shakespeare-char, in the trainer's terms.
 * @module
 */
import type { ModelConfig, TrainingConfig } from "../tools/checkpoint.ts";

/** V65 T64 C128 L4 H4, no dropout, an untied head (kata 10's model): 818,241 parameters. */
export const speedModel: ModelConfig = {
  vocabSize: 65,
  blockSize: 64,
  nEmbd: 128,
  nHead: 4,
  nLayer: 4,
  dropout: 0,
  tied: false,
};

/** The trainer's settings with a constant learning rate (no warm-up, no decay), seed 1. */
export function speedTraining(batch: number): TrainingConfig {
  return {
    steps: 1_000_000,
    batch,
    lr: 1e-3,
    warmup: 0,
    minLrRatio: 1,
    weightDecay: 0.1,
    clip: 1,
    seed: 1,
    valFraction: 0.1,
    evalEvery: 1_000_000,
  };
}
