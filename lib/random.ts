/**
 * Seeded randomness, so that every test run and every training run is reproducible.
 *
 * TensorFlow.js ops that take a seed (`randomNormal`, `randomUniform`, `dropout`, ...) give the
 * same tensor for the same seed on every call; give each parameter its own seed with
 * {@linkcode seedSequence}. `tf.util.shuffle` and unseeded ops use `Math.random`: use
 * {@linkcode shuffle} instead.
 *
 * @example
 * ```ts
 * import { randn, seedSequence, shuffle } from "./random.ts";
 * const next = seedSequence(42);
 * const w = randn([3, 4], { seed: next() });
 * const order = shuffle([0, 1, 2, 3], 7); // the same order on every run
 * ```
 * @module
 */
// @ts-types="npm:@types/seedrandom@3.0.8"
import seedrandom from "seedrandom";
import { tf } from "./tf.ts";

/** A seeded generator of floats in [0, 1). */
export function rng(seed: number | string): () => number {
  return seedrandom(String(seed));
}

/** A seeded generator of standard normal samples (Box–Muller). */
export function normalRng(seed: number | string): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** A copy of `items` in a seeded random order (Fisher–Yates). */
export function shuffle<T>(items: readonly T[], seed: number | string): T[] {
  const out = items.slice();
  const u = rng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** 0..n-1 in a seeded random order. */
export function permutation(n: number, seed: number | string): number[] {
  return shuffle(Array.from({ length: n }, (_, i) => i), seed);
}

/** A stream of distinct non-zero integer seeds derived from one base seed. */
export function seedSequence(base: number): () => number {
  const u = rng(`seq:${base}`);
  return () => 1 + Math.floor(u() * (2 ** 31 - 1)); // never 0: TensorFlow.js reads 0 as "unseeded"
}

/**
 * TensorFlow.js reads a seed of 0 as "no seed" (it tests `seed ? seed : Math.random()`), which
 * would make a "seeded" tensor differ on every run. Refuse it loudly instead.
 */
function tfSeed(seed: number): number {
  if (seed === 0 || !Number.isFinite(seed)) {
    throw new RangeError(
      `seed ${seed}: TensorFlow.js takes a seed of 0 to mean "unseeded"; use a non-zero seed`,
    );
  }
  return seed;
}

/** A float32 tensor of normal samples with a fixed, non-zero seed. */
export function randn(
  shape: number[],
  { seed, mean = 0, std = 1 }: { seed: number; mean?: number; std?: number },
): tf.Tensor {
  return tf.randomNormal(shape, mean, std, "float32", tfSeed(seed));
}

/** A float32 tensor of uniform samples in [lo, hi) with a fixed, non-zero seed. */
export function uniform(
  shape: number[],
  { seed, lo = 0, hi = 1 }: { seed: number; lo?: number; hi?: number },
): tf.Tensor {
  return tf.randomUniform(shape, lo, hi, "float32", tfSeed(seed));
}

/**
 * Random sizes for property tests, drawn from named dimensions: `dims({ batch: [1, 4], time: [2, 9] }, 3)`
 * gives e.g. `{ batch: 2, time: 7 }`, the same for the same seed.
 */
export function dims<K extends string>(
  ranges: Record<K, [number, number]>,
  seed: number | string,
): Record<K, number> {
  const u = rng(`dims:${seed}`);
  const out = {} as Record<K, number>;
  for (const key of Object.keys(ranges) as K[]) {
    const [lo, hi] = ranges[key];
    out[key] = lo + Math.floor(u() * (hi - lo + 1));
  }
  return out;
}
