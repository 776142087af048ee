/**
 * Generation tokens/s of `deno task generate`'s two ways (tools/llm.ts), for nanoGPT's CPU config
 * (V65 T64 C128 L4 H4, kata 14's model, untied head): kata 14's KV cache against kata 13's
 * uncached `generate`, greedy from a one-token prompt, for a text that fits the block (63 new
 * tokens) and one that runs past it (200). Both must give the same tokens. Prints one JSON line.
 *
 * ```sh
 * deno run bench/generate_speed.ts --runs=5
 * ```
 * @module
 */
import { createTrainee, generateUncached, generateWithCache } from "../tools/llm.ts";
import { speedModel, speedTraining } from "./speed_config.ts";

const runs = Number(Deno.args.find((s) => s.startsWith("--runs="))?.slice(7) ?? 5);
if (!(Number.isInteger(runs) && runs >= 1)) {
  console.error(`--runs must be a whole number of runs, at least 1; got ${Deno.args.join(" ")}`);
  Deno.exit(2);
}
const config = speedModel;
const { model } = createTrainee(config, speedTraining(1)); // seeded weights: the same text every run
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

const lengths: Record<string, { cached: number[]; uncached: number[] }> = {};
for (const maxNewTokens of [config.blockSize - 1, 200]) {
  const o = { maxNewTokens, temperature: 0, topK: 0, topP: 1, seed: 1 };
  const timed = (f: typeof generateUncached) => {
    const t0 = performance.now();
    const tokens = f(model, [0], o);
    return { tokens, perS: maxNewTokens * 1000 / (performance.now() - t0) };
  };
  const cached: number[] = [], uncached: number[] = [];
  for (let i = 0; i <= runs; i++) { // the first round warms up
    const a = timed(generateWithCache), b = timed(generateUncached);
    if (a.tokens.join() !== b.tokens.join()) {
      console.error(`${maxNewTokens} tokens: the KV cache gave other tokens than kata 13`);
      Deno.exit(1);
    }
    if (i > 0) cached.push(a.perS), uncached.push(b.perS);
  }
  lengths[maxNewTokens] = { cached, uncached };
}
console.log(JSON.stringify({
  runs,
  lengths,
  medians: Object.fromEntries(
    Object.entries(lengths).map(([n, r]) => [n, [median(r.cached), median(r.uncached)]]),
  ),
}));
