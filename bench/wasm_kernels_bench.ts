/**
 * Benchmarks of the wasm kernels of `lib/wasm_kernels.ts`: a small CNN's training step on wasm
 * and on cpu, a 512x512 matMul gradient step with and without the transpose fix, and each fixed
 * kernel alone. No permission is needed:
 *
 * ```sh
 * deno bench bench/wasm_kernels_bench.ts
 * ```
 *
 * The cpu benches are slow (its Conv2DBackpropFilter alone takes seconds), so they run few times.
 * Under `-- --backend=cpu` only the cpu benches run: the wasm backend is not started then.
 * @module
 */
import { backend, tf } from "../lib/tf.ts";
import { registerWasmKernels, unregisterWasmKernels } from "../lib/wasm_kernels.ts";

type BackendName = "wasm" | "cpu";
const noWasm = backend !== "wasm";

/** Switches the active backend (cheap once both are initialised). */
async function use(name: BackendName): Promise<void> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) {
    throw new Error(`cannot switch to the ${name} backend`);
  }
}

/** Makes `make()` once per backend, on that backend, so that no bench moves data between them. */
function perBackend<T>(make: () => T): () => T {
  const made = new Map<string, T>();
  return () => {
    const name = tf.getBackend();
    if (!made.has(name)) made.set(name, make());
    return made.get(name)!;
  };
}

/** A bench that times `run()` on `name`, optionally with the stock wasm kernels. */
function bench(
  name: string,
  group: string,
  on: BackendName,
  run: () => void,
  opts: { stock?: boolean; n?: number; baseline?: boolean } = {},
): void {
  Deno.bench({
    name,
    group,
    baseline: opts.baseline,
    n: opts.n,
    warmup: opts.n === undefined ? undefined : 1,
    ignore: noWasm && on === "wasm",
    async fn(b) {
      await use(on);
      if (opts.stock) unregisterWasmKernels();
      try {
        b.start();
        run();
        b.end();
      } finally {
        if (opts.stock) registerWasmKernels();
        await use(backend);
      }
    },
  });
}

// --- A small CNN: conv2d 3x3x1->16 valid, relu, maxPool 2, dense 16*13*13->10, softmax CE. ---

const cnn = perBackend(() => {
  const batch = 64;
  const kernel = tf.variable(tf.randomNormal([3, 3, 1, 16], 0, 0.3, "float32", 1) as tf.Tensor4D);
  const bias = tf.variable(tf.zeros([16]));
  const dense = tf.variable(tf.randomNormal([16 * 13 * 13, 10], 0, 0.02, "float32", 2));
  const denseBias = tf.variable(tf.zeros([10]));
  const x = tf.randomNormal([batch, 28, 28, 1], 0, 1, "float32", 3) as tf.Tensor4D;
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), "int32"), 10);
  const sgd = tf.train.sgd(0.01);
  const loss = () => {
    const z = tf.add(tf.conv2d(x, kernel, 1, "valid"), bias) as tf.Tensor4D;
    const h = tf.maxPool(tf.relu(z), 2, 2, "valid");
    const logits = tf.add(tf.matMul(tf.reshape(h, [batch, -1]), dense), denseBias);
    return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  };
  return () => tf.dispose(sgd.minimize(loss, true) ?? []);
});

bench("CNN training step, batch 64 of 28x28, wasm", "CNN step", "wasm", () => cnn()(), {
  baseline: true,
});
bench("CNN training step, batch 64 of 28x28, cpu", "CNN step", "cpu", () => cnn()(), { n: 3 });

// --- A 512x512 matMul gradient step: forward a @ b, then dA = dy @ b^T and dB = a^T @ dy. ---

const matMulStep = perBackend(() => {
  const a = tf.variable(tf.randomNormal([512, 512], 0, 1, "float32", 4));
  const b = tf.variable(tf.randomNormal([512, 512], 0, 1, "float32", 5));
  const r = tf.randomNormal([512, 512], 0, 1, "float32", 6);
  const sgd = tf.train.sgd(1e-6);
  return () => tf.dispose(sgd.minimize(() => tf.sum(tf.mul(tf.matMul(a, b), r)), true) ?? []);
});

bench(
  "512x512 matMul gradient step, wasm with the fix",
  "matMul step",
  "wasm",
  () => matMulStep()(),
  { baseline: true },
);
bench(
  "512x512 matMul gradient step, wasm stock",
  "matMul step",
  "wasm",
  () => matMulStep()(),
  { stock: true, n: 10 },
);

// --- Each kernel alone, on the shapes of the CNN step and of a char-level GPT. ---

const square = perBackend(() => ({
  a: tf.randomNormal([512, 512], 0, 1, "float32", 7),
  b: tf.randomNormal([512, 512], 0, 1, "float32", 8),
}));
for (const [ta, tb] of [[false, false], [true, false], [false, true]]) {
  const what = ta ? "transposeA" : tb ? "transposeB" : "plain";
  const run = () => {
    const { a, b } = square();
    tf.dispose(tf.matMul(a, b, ta, tb));
  };
  bench(`BatchMatMul 512x512 ${what}, wasm`, "BatchMatMul", "wasm", run, {
    baseline: !ta && !tb,
  });
  if (ta || tb) {
    bench(`BatchMatMul 512x512 ${what}, wasm stock`, "BatchMatMul", "wasm", run, {
      stock: true,
      n: 10,
    });
  }
}

const convGrad = perBackend(() => ({
  x: tf.randomNormal([64, 28, 28, 1], 0, 1, "float32", 9),
  dy: tf.randomNormal([64, 26, 26, 16], 0, 1, "float32", 10),
}));
const filterGrad = () =>
  tf.dispose(
    tf.engine().runKernel("Conv2DBackpropFilter", convGrad(), {
      strides: 1,
      pad: "valid",
      dataFormat: "NHWC",
      filterShape: [3, 3, 1, 16],
    }) as tf.Tensor,
  );
bench(
  "Conv2DBackpropFilter x [64,28,28,1] -> [3,3,1,16], wasm",
  "Conv2DBackpropFilter",
  "wasm",
  filterGrad,
  {
    baseline: true,
  },
);
bench(
  "Conv2DBackpropFilter x [64,28,28,1] -> [3,3,1,16], cpu",
  "Conv2DBackpropFilter",
  "cpu",
  filterGrad,
  {
    n: 3,
  },
);

const poolGrad = perBackend(() => {
  const input = tf.randomNormal([64, 26, 26, 16], 0, 1, "float32", 11) as tf.Tensor4D;
  return { input, output: tf.maxPool(input, 2, 2, "valid"), dy: tf.randomNormal([64, 13, 13, 16]) };
});
const maxPoolGrad = () =>
  tf.dispose(
    tf.engine().runKernel("MaxPoolGrad", poolGrad(), {
      filterSize: 2,
      strides: 2,
      pad: "valid",
    }) as tf.Tensor,
  );
bench("MaxPoolGrad [64,26,26,16] 2x2 stride 2, wasm", "MaxPoolGrad", "wasm", maxPoolGrad, {
  baseline: true,
});
bench(
  "MaxPoolGrad [64,26,26,16] 2x2 stride 2, wasm stock (wrong)",
  "MaxPoolGrad",
  "wasm",
  maxPoolGrad,
  {
    stock: true,
  },
);
bench("MaxPoolGrad [64,26,26,16] 2x2 stride 2, cpu", "MaxPoolGrad", "cpu", maxPoolGrad, { n: 5 });

for (const vocab of [65, 50257]) {
  const segments = perBackend(() => ({
    x: tf.randomNormal([12 * 64, 128], 0, 1, "float32", 12),
    segmentIds: tf.randomUniform([12 * 64], 0, vocab, "int32", 13),
  }));
  const run = () =>
    tf.dispose(
      tf.engine().runKernel("UnsortedSegmentSum", segments(), { numSegments: vocab }) as tf.Tensor,
    );
  const what = `UnsortedSegmentSum 768 rows of 128 into ${vocab}`;
  bench(`${what}, wasm`, `UnsortedSegmentSum ${vocab}`, "wasm", run, { baseline: true });
  // The cpu kernel makes four ops per segment: a large vocabulary takes it minutes.
  if (vocab < 1000) bench(`${what}, cpu`, `UnsortedSegmentSum ${vocab}`, "cpu", run, { n: 10 });
}
