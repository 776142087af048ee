/**
 * Where a training step's time goes: every kernel registered on the active backend is wrapped in a
 * timer, a few training steps of the GPT of katas 08-12 run, and the kernels are listed by their
 * share of the step (exclusive time: a kernel that calls another registered kernel, such as the
 * BatchMatMul wrapper calling Transpose, is charged only for its own part). What is left of the
 * step is the engine's own work in JavaScript (the tape, tidy, gradient functions, dispatch).
 *
 * ```sh
 * deno run -A bench/profile_step.ts                # the fit() step of kata 12 (AdamW, clipping)
 * deno run -A bench/profile_step.ts -- --adam      # model_bench's step: tf.train.adam, one-hot CE
 * deno run -A bench/profile_step.ts -- --steps=10 --top=25
 * ```
 *
 * The configuration is the benchmark's: V65 T64 C128 L4 H4 B12, 768 tokens a step.
 * @module
 */
import process from "node:process";
import { backend, tf } from "../lib/tf.ts";
import { rng } from "../lib/random.ts";
import { enableNativeMatMul } from "../lib/native_blas.ts";
import {
  forward,
  initMiniLLM,
  type MiniLLMConfig,
  parameters,
} from "../solutions/10_mini_llm/mod.ts";

const arg = (name: string, fallback: number) => {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const steps = arg("steps", 8), top = arg("top", 20);
const useAdam = Deno.args.includes("--adam");
/** With --shapes, kernels are keyed by their input shapes as well (e.g. which matMul is slow). */
const byShape = Deno.args.includes("--shapes");
/** With --native (and --allow-ffi), matrix products run on the native BLAS (lib/native_blas.ts). */
const path = Deno.args.includes("--native")
  ? enableNativeMatMul()
  : { native: false, message: "matMul: wasm" };

/** Exclusive wall time, exclusive CPU time and calls per kernel name. */
const stats = new Map<string, { ms: number; cpu: number; calls: number }>();
let recording = false;
const stack: [number, number][] = []; // wall and CPU time spent in nested kernels, per open frame
/** This process's CPU time in ms (user + system; a busy machine does not inflate it). */
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

function shapesOf(args: Parameters<tf.KernelFunc>[0]): string {
  const attrs = args.attrs as Record<string, unknown> | undefined;
  const flags = attrs?.transposeA || attrs?.transposeB
    ? ` tA=${attrs.transposeA ? 1 : 0} tB=${attrs.transposeB ? 1 : 0}`
    : "";
  return Object.values(args.inputs).map((t) => `[${t!.shape}]`).join("·") + flags;
}

function wrapKernels(): void {
  for (const config of tf.getKernelsForBackend(tf.getBackend())) {
    const inner = config.kernelFunc;
    const name = config.kernelName;
    tf.unregisterKernel(name, config.backendName);
    tf.registerKernel({
      ...config,
      kernelFunc: (args) => {
        if (!recording) return inner(args);
        stack.push([0, 0]);
        const c0 = cpuNow(), t0 = performance.now();
        try {
          return inner(args);
        } finally {
          const total = performance.now() - t0, totalCpu = cpuNow() - c0;
          const [nested, nestedCpu] = stack.pop()!;
          if (stack.length > 0) {
            stack[stack.length - 1][0] += total;
            stack[stack.length - 1][1] += totalCpu;
          }
          const key = byShape ? `${name} ${shapesOf(args)}` : name;
          const s = stats.get(key) ?? { ms: 0, cpu: 0, calls: 0 };
          s.ms += total - nested;
          s.cpu += totalCpu - nestedCpu;
          s.calls++;
          stats.set(key, s);
        }
      },
    });
  }
}

const config: MiniLLMConfig = { vocabSize: 65, blockSize: 64, nEmbd: 128, nHead: 4, nLayer: 4 };
const batch = 12, tokens = batch * config.blockSize;
const model = initMiniLLM(config, { seed: 1 });
// --before: the copy-free kernels (Identity/Cast, Sum, SplitV, Pack) back to stock, to see what they
// save (step 1 of BENCHMARKS.md's list; the matrix products stay as they are now).
if (Deno.args.includes("--before")) {
  for (const name of ["Identity", "Cast", "Sum", "SplitV", "Pack"]) {
    const k = tf.getKernel(name, "wasm") as
      | (tf.KernelConfig & { dojoStock?: tf.KernelConfig })
      | undefined;
    if (k?.dojoStock) {
      tf.unregisterKernel(name, "wasm");
      tf.registerKernel(k.dojoStock);
    }
  }
}
const u = rng("profile");
const ids = Int32Array.from({ length: 20000 }, () => Math.floor(u() * config.vocabSize));

let step: (s: number) => void;
if (useAdam) {
  const adam = tf.train.adam(3e-4);
  const idx = tf.tensor2d(Array.from(ids.subarray(0, tokens)), [batch, config.blockSize], "int32");
  const y = tf.tidy(() =>
    tf.oneHot(tf.tensor1d(Array.from(ids.subarray(1, tokens + 1)), "int32"), config.vocabSize)
  );
  step = () => {
    const loss = adam.minimize(
      () =>
        tf.tidy(() =>
          tf.losses.softmaxCrossEntropy(
            y,
            tf.reshape(forward(model, idx), [tokens, config.vocabSize]),
          ) as tf.Scalar
        ),
      true,
      parameters(model),
    )!;
    loss.dataSync();
    loss.dispose();
  };
} else {
  const { AdamW, trainModel } = await import("../solutions/12_training_loop/mod.ts");
  const optimizer = new AdamW({ lr: 1e-3, weightDecay: 0.1 });
  step = (s) =>
    void trainModel(model, ids, {
      steps: 1,
      startStep: s,
      batch,
      time: config.blockSize,
      seed: 1,
      lr: 1e-3,
      optimizer,
    });
}

for (let s = 0; s < 3; s++) step(s); // warm-up: optimizer state, kernel set-up
wrapKernels();
const wall: number[] = [];
const c0 = process.cpuUsage();
recording = true;
for (let s = 3; s < 3 + steps; s++) {
  const t0 = performance.now();
  step(s);
  wall.push(performance.now() - t0);
}
recording = false;
const c = process.cpuUsage(c0);
const cpuMs = (c.user + c.system) / 1000 / steps;
const stepMs = wall.reduce((a, b) => a + b, 0) / steps;
const kernelMs = [...stats.values()].reduce((a, s) => a + s.ms, 0) / steps;
const kernelCpu = [...stats.values()].reduce((a, s) => a + s.cpu, 0) / steps;
const calls = [...stats.values()].reduce((a, s) => a + s.calls, 0) / steps;

console.log(
  `# Profile of one training step on ${backend} (${useAdam ? "tf.train.adam" : "kata 12 fit"}, ` +
    `${Deno.args.includes("--before") ? "stock Identity/Cast/Sum/SplitV/Pack, " : ""}` +
    `${path.message}), ` +
    `mean of ${steps} steps; load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`,
);
console.log(
  `step ${stepMs.toFixed(1)} ms wall (${Math.round(tokens * 1000 / stepMs)} tokens/s), ` +
    `${cpuMs.toFixed(1)} ms CPU (${Math.round(tokens * 1000 / cpuMs)} tokens/s); ` +
    `${calls.toFixed(0)} kernel calls; kernels ${kernelMs.toFixed(1)} ms wall, ` +
    `${kernelCpu.toFixed(1)} ms CPU; outside kernels (engine, tape, JS) ` +
    `${(stepMs - kernelMs).toFixed(1)} ms wall, ${(cpuMs - kernelCpu).toFixed(1)} ms CPU. ` +
    `Sorted by CPU time (the timer's own calls are included in it).\n`,
);
console.log("| kernel | CPU ms/step | share of CPU | wall ms/step | calls/step | CPU µs/call |");
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
const rows = [...stats.entries()].sort((a, b) => b[1].cpu - a[1].cpu);
const pct = (x: number) => `${(100 * x / cpuMs).toFixed(1)}%`;
for (const [name, s] of rows.slice(0, top)) {
  const cpu = s.cpu / steps;
  console.log(
    `| ${name} | ${cpu.toFixed(2)} | ${pct(cpu)} | ${(s.ms / steps).toFixed(2)} | ${
      (s.calls / steps).toFixed(0)
    } | ${(1000 * s.cpu / s.calls).toFixed(0)} |`,
  );
}
const restCpu = rows.slice(top).reduce((a, [, s]) => a + s.cpu, 0) / steps;
const restMs = rows.slice(top).reduce((a, [, s]) => a + s.ms, 0) / steps;
if (rows.length > top) {
  console.log(
    `| ${rows.length - top} others | ${restCpu.toFixed(2)} | ${pct(restCpu)} | ${
      restMs.toFixed(2)
    } | | |`,
  );
}
console.log(
  `| (outside kernels) | ${(cpuMs - kernelCpu).toFixed(2)} | ${pct(cpuMs - kernelCpu)} | ${
    (stepMs - kernelMs).toFixed(2)
  } | | |`,
);
