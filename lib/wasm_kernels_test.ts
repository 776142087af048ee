import assert from "node:assert/strict";
import { allClose, assertAllClose, assertShape } from "./assert.ts";
import { assertGradients, gradCheck } from "./gradcheck.ts";
import { assertNoLeaks } from "./leak.ts";
import { dims, normalRng, randn, rng } from "./random.ts";
import { backend, tf } from "./tf.ts";
import {
  isWasmKernelPatched,
  registerWasmKernels,
  unregisterWasmKernels,
  WASM_KERNEL_NAMES,
} from "./wasm_kernels.ts";

// Measured on wasm against cpu with these seeds (largest absolute difference, largest |value|):
//   gather, its gradient, unsortedSegmentSum   0 (bit-identical: both add in float64, in order)
//   maxPool's gradient, ties included          0 (bit-identical); the stock kernel: 20 of 384 wrong
//   conv2d's filter gradient                   1e-5 on values up to 29 (wasm: float32 matMul;
//                                              cpu: float64 sums); conv2d and its input gradient 4e-6
//   matMul and its gradients                   1e-6 on values up to 14, against cpu and the stock
//                                              kernel (lib/gemm.wat sums in another order)
//   one CNN training step, weights after it    3e-8
// Tolerances below leave a margin of 10x or more.

/** Wasm-only tests are ignored, with the reason in their name, under `-- --backend=cpu`. */
function wasmTest(name: string, fn: () => void | Promise<void>): void {
  const ignore = backend !== "wasm";
  Deno.test({
    name: ignore ? `${name} [ignored: needs the wasm backend, and --backend=cpu was passed]` : name,
    ignore,
    fn,
  });
}

/** Runs `fn` on one backend and returns its tensors' values; always switches back to wasm. */
async function valuesOn(
  name: "wasm" | "cpu",
  fn: () => tf.Tensor[],
): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(name), `could not switch to the ${name} backend`);
  try {
    return tf.tidy(() => fn().map((t) => Float32Array.from(t.dataSync())));
  } finally {
    await tf.setBackend("wasm");
  }
}

/** The same computation on wasm and on cpu. `fn` must build its tensors from plain arrays. */
async function onBoth(
  fn: () => tf.Tensor[],
): Promise<{ wasm: Float32Array[]; cpu: Float32Array[] }> {
  return { wasm: await valuesOn("wasm", fn), cpu: await valuesOn("cpu", fn) };
}

/** Runs `fn` with the stock wasm kernels (the gaps open again), then puts the fixes back. */
async function withStockKernels<T>(fn: () => T | Promise<T>): Promise<T> {
  unregisterWasmKernels();
  try {
    return await fn();
  } finally {
    registerWasmKernels();
  }
}

/** `n` seeded standard-normal floats, shifted by `mean`. */
function normals(n: number, seed: string, mean = 0): Float32Array {
  const z = normalRng(seed);
  return Float32Array.from({ length: n }, () => mean + z());
}

/** A loss with a random signed weight per output, so that every gradient `dy` is signed. */
function weightedSum(y: tf.Tensor, seed: string): tf.Scalar {
  return tf.sum(tf.mul(y, tf.tensor(normals(y.size, seed), y.shape)));
}

const numDataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

// ---------------------------------------------------------------------------------------------

wasmTest(
  "gather's gradient (UnsortedSegmentSum) on wasm equals cpu's: 1-D and 2-D indices, repeats",
  async () => {
    for (const seed of [1, 2, 3]) {
      const d = dims(
        { vocab: [3, 12], embed: [1, 9], batch: [2, 6], time: [2, 7] },
        `gather:${seed}`,
      );
      const u = rng(`ids:${seed}`);
      const draw = (n: number) => Array.from({ length: n }, () => Math.floor(u() * d.vocab));
      // More lookups than rows, and the first id again at the end: repeats are certain.
      const ids1 = [...draw(d.vocab + d.batch), 0];
      ids1[ids1.length - 1] = ids1[0];
      const ids2 = draw(d.batch * d.time);
      ids2[1] = ids2[0];
      const table = normals(d.vocab * d.embed, `table:${seed}`);
      const cases: [string, number[], number[], number][] = [
        ["1-D indices", ids1, [ids1.length], 0],
        ["2-D indices [batch, time]", ids2, [d.batch, d.time], 0],
        ["2-D indices along axis 1", ids2, [d.batch, d.time], 1],
      ];
      for (const [what, ids, idShape, axis] of cases) {
        const shape = axis === 0 ? [d.vocab, d.embed] : [d.embed, d.vocab];
        const { wasm, cpu } = await onBoth(() => {
          const t = tf.tensor(table, shape);
          const i = tf.tensor(ids, idShape, "int32");
          const y = tf.gather(t, i, axis);
          const [g] = tf.grads((t: tf.Tensor) => weightedSum(tf.gather(t, i, axis), `dy:${seed}`))([
            t,
          ]);
          assertShape(
            g,
            axis === 0 ? { vocab: d.vocab, embed: d.embed } : { embed: d.embed, vocab: d.vocab },
          );
          return [y, g];
        });
        const at = `seed ${seed}, ${what}, ${JSON.stringify(d)}`;
        assertAllClose(wasm[0], cpu[0], { atol: 0, rtol: 0, what: `gather, ${at}` });
        assertAllClose(wasm[1], cpu[1], {
          atol: 1e-6,
          rtol: 1e-6,
          what: `gather's gradient, ${at}`,
        });
      }
    }
  },
);

wasmTest(
  "gather along axis 0 (GatherV2): int32 rows, rank-3 tables, no ids; a bad id is cpu's error",
  async () => {
    const table = Array.from({ length: 24 }, (_, i) => i * 7 - 50);
    const cases: [tf.DataType, number[], number[], number[]][] = [
      ["int32", [6, 4], [5, 0, 5], [3]],
      ["float32", [3, 2, 4], [2, 1, 2, 0], [2, 2]],
      ["float32", [6, 4], [], [0]],
    ];
    for (const [dtype, shape, ids, idShape] of cases) {
      const { wasm, cpu } = await onBoth(() => [
        tf.gather(tf.tensor(table, shape, dtype), tf.tensor(ids, idShape, "int32")),
      ]);
      assertAllClose(wasm[0], cpu[0], {
        atol: 0,
        rtol: 0,
        what: `${dtype} [${shape}] by [${ids}]`,
      });
    }
    for (const bad of [6, -1]) {
      const message = async (name: "wasm" | "cpu") => {
        try {
          await valuesOn(
            name,
            () => [tf.gather(tf.tensor(table, [6, 4]), tf.tensor1d([0, bad], "int32"))],
          );
        } catch (error) {
          return (error as Error).message;
        }
        return "no error";
      };
      assert.equal(await message("wasm"), await message("cpu"), `id ${bad}`);
    }
  },
);

wasmTest(
  "tf.unsortedSegmentSum on wasm equals cpu's: empty segments, ids out of range dropped, 2-D ids",
  async () => {
    const d = dims({ rows: [2, 5], cols: [2, 5], feat: [1, 4], segments: [2, 6] }, "segments");
    const u = rng("segment-ids");
    // Ids from -1 to segments: -1 and `segments` itself fall outside and are dropped on cpu.
    const ids = Array.from(
      { length: d.rows * d.cols },
      () => Math.floor(u() * (d.segments + 2)) - 1,
    );
    assert.ok(ids.includes(-1) && ids.includes(d.segments), `ids ${ids} test no out-of-range id`);
    const x = normals(d.rows * d.cols * d.feat, "segment-x");
    const sum = (xShape: number[], idShape: number[]) => () => {
      const idTensor: tf.Tensor = tf.tensor(ids, idShape, "int32");
      // Typed as 1-D, but the op (as TensorFlow's) takes ids of any rank that prefixes x's shape.
      return [tf.unsortedSegmentSum(tf.tensor(x, xShape), idTensor as tf.Tensor1D, d.segments)];
    };
    const flat = await onBoth(sum([d.rows * d.cols, d.feat], [d.rows * d.cols]));
    assertAllClose(flat.wasm[0], flat.cpu[0], { atol: 0, rtol: 0, what: "unsortedSegmentSum" });
    // 2-D ids mean the same as the flattened ones (TensorFlow's definition). The cpu kernel of
    // TensorFlow.js 4.22 gets them wrong (it broadcasts the ids against the wrong axes), so the
    // flattened cpu result is the reference.
    const [square] = await valuesOn("wasm", sum([d.rows, d.cols, d.feat], [d.rows, d.cols]));
    assertShape(square, [d.segments * d.feat]);
    assertAllClose(square, flat.cpu[0], { atol: 0, rtol: 0, what: "unsortedSegmentSum, 2-D ids" });
  },
);

// ---------------------------------------------------------------------------------------------

wasmTest(
  "conv2d's gradients (Conv2DBackpropFilter) on wasm equal cpu's: strides 1 and 2, same and valid",
  async () => {
    for (const seed of [1, 2, 3]) {
      const d = dims(
        {
          batch: [1, 3],
          height: [5, 11],
          width: [5, 11],
          inC: [1, 4],
          outC: [1, 6],
          kh: [1, 4],
          kw: [1, 4],
        },
        `conv:${seed}`,
      );
      for (const stride of [1, 2]) {
        for (const pad of ["valid", "same"] as const) {
          const x = normals(d.batch * d.height * d.width * d.inC, `conv-x:${seed}`);
          const w = normals(d.kh * d.kw * d.inC * d.outC, `conv-w:${seed}`);
          const { wasm, cpu } = await onBoth(() => {
            const xt = tf.tensor4d(x, [d.batch, d.height, d.width, d.inC]);
            const wt = tf.tensor4d(w, [d.kh, d.kw, d.inC, d.outC]);
            const f = (x: tf.Tensor, w: tf.Tensor) =>
              weightedSum(
                tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad),
                `conv-dy:${seed}`,
              );
            const [dx, dw] = tf.grads(f)([xt, wt]);
            assertShape(dw, { kh: d.kh, kw: d.kw, inC: d.inC, outC: d.outC }, "filter gradient");
            return [tf.conv2d(xt, wt, stride, pad), dx, dw];
          });
          const at = `seed ${seed}, stride ${stride}, "${pad}", ${JSON.stringify(d)}`;
          for (const [i, what] of ["conv2d", "input gradient", "filter gradient"].entries()) {
            assertAllClose(wasm[i], cpu[i], { rtol: 1e-4, atol: 1e-4, what: `${what}, ${at}` });
          }
        }
      }
    }
  },
);

wasmTest(
  "Conv2DBackpropFilter on wasm: dilations, explicit padding; NCHW is a clear error",
  async () => {
    // tf.conv2d refuses gradients with dilations > 1 before any kernel runs, so call the kernel. The
    // oracle, on cpu: a dilated filter is a larger one with zeros between its taps; the gradient of
    // a dilated tap is the larger filter's gradient at that tap.
    const d = dims(
      { batch: [1, 2], size: [8, 11], inC: [1, 3], outC: [1, 4], k: [2, 3] },
      "dilated",
    );
    const rate = 2, big = (d.k - 1) * rate + 1;
    const x = normals(d.batch * d.size * d.size * d.inC, "dilated-x");
    const pads: ("same" | tf.backend_util.ExplicitPadding)[] = ["same", [[0, 0], [1, 2], [2, 0], [
      0,
      0,
    ]]];
    for (const pad of pads) {
      const grad = (w: tf.Tensor4D) =>
        tf.grads((w: tf.Tensor) =>
          weightedSum(
            tf.conv2d(tf.tensor4d(x, [d.batch, d.size, d.size, d.inC]), w as tf.Tensor4D, 1, pad),
            "dilated-dy",
          )
        )([w])[0];
      const [bigGrad] = await valuesOn("cpu", () => [grad(tf.zeros([big, big, d.inC, d.outC]))]);
      const expected = tf.tidy(() =>
        tf.tensor4d(bigGrad, [big, big, d.inC, d.outC]).stridedSlice(
          [0, 0, 0, 0],
          [big, big, d.inC, d.outC],
          [rate, rate, 1, 1],
        )
      );
      const dy = tf.tidy(() =>
        tf.grad((y: tf.Tensor) => weightedSum(y, "dilated-dy"))(
          tf.conv2d(
            tf.tensor4d(x, [d.batch, d.size, d.size, d.inC]),
            tf.zeros([d.k, d.k, d.inC, d.outC]) as tf.Tensor4D,
            1,
            pad,
            "NHWC",
            rate,
          ),
        )
      );
      const xt = tf.tensor4d(x, [d.batch, d.size, d.size, d.inC]);
      const got = tf.engine().runKernel("Conv2DBackpropFilter", { x: xt, dy }, {
        strides: 1,
        pad,
        dataFormat: "NHWC",
        filterShape: [d.k, d.k, d.inC, d.outC],
        dilations: rate,
      } as unknown as tf.NamedAttrMap) as tf.Tensor;
      assertAllClose(got, expected, {
        rtol: 1e-4,
        atol: 1e-4,
        what: `dilated filter gradient, ${pad}`,
      });
      tf.dispose([expected, dy, xt, got]);
    }
    const nchw = () =>
      tf.tidy(() =>
        tf.engine().runKernel("Conv2DBackpropFilter", {
          x: tf.zeros([1, 2, 5, 5]),
          dy: tf.zeros([1, 3, 3, 3]),
        }, {
          strides: 1,
          pad: "valid",
          dataFormat: "NCHW",
          filterShape: [3, 3, 2, 3],
        } as unknown as tf.NamedAttrMap)
      );
    assert.throws(nchw, /supports dataFormat NHWC only/);
  },
);

// ---------------------------------------------------------------------------------------------

/** maxPool and its gradient on both backends for one shape, pooling and input. */
function maxPoolCase(
  x: Float32Array,
  shape: number[],
  size: number,
  stride: number,
  pad: "valid" | "same",
  seed: string,
) {
  return () => {
    const xt = tf.tensor4d(x, shape as [number, number, number, number]);
    const f = (x: tf.Tensor) => weightedSum(tf.maxPool(x as tf.Tensor4D, size, stride, pad), seed);
    return [tf.maxPool(xt, size, stride, pad), tf.grads(f)([xt])[0]];
  };
}

/** How many pooling windows (of the forward result) have a maximum <= 0: the stock kernel's bug. */
function nonPositiveWindows(pooled: Float32Array): number {
  return pooled.filter((v) => v <= 0).length;
}

wasmTest(
  "maxPool's gradient (MaxPoolGrad) on wasm equals cpu's on signed input, ties included",
  async () => {
    let nonPositive = 0, windows = 0;
    for (const seed of [1, 2, 3]) {
      const d = dims({
        batch: [1, 3],
        height: [4, 10],
        width: [4, 10],
        channels: [1, 4],
        size: [2, 3],
      }, `pool:${seed}`);
      const shape = [d.batch, d.height, d.width, d.channels];
      const n = d.batch * d.height * d.width * d.channels;
      // Signed input centred below zero (many windows have a maximum <= 0), and the same rounded to
      // halves between -2 and 1: ties everywhere, exact zeros too.
      const signed = normals(n, `pool-x:${seed}`, -0.5);
      const ties = signed.map((v) => Math.max(-2, Math.min(1, Math.round(v * 2) / 2)));
      for (const [what, x] of [["signed", signed], ["ties", ties]] as const) {
        for (const stride of [1, 2]) {
          for (const pad of ["valid", "same"] as const) {
            const { wasm, cpu } = await onBoth(
              maxPoolCase(x, shape, d.size, stride, pad, `pool-dy:${seed}`),
            );
            const at =
              `seed ${seed}, ${what} input, ${d.size}x${d.size} stride ${stride} "${pad}", ${
                JSON.stringify(d)
              }`;
            assertAllClose(wasm[0], cpu[0], { atol: 0, rtol: 0, what: `maxPool, ${at}` });
            assertAllClose(wasm[1], cpu[1], {
              atol: 0,
              rtol: 0,
              what: `maxPool's gradient, ${at}`,
            });
            nonPositive += nonPositiveWindows(cpu[0]);
            windows += cpu[0].length;
          }
        }
      }
    }
    // The case the stock kernel gets wrong is really exercised (measured: 700 of 3016 windows).
    assert.ok(
      nonPositive > windows / 8,
      `only ${nonPositive} of ${windows} windows have a maximum <= 0`,
    );
  },
);

wasmTest(
  "the stock wasm MaxPoolGrad is wrong on the same input, and the two missing kernels throw",
  async () => {
    const shape = [2, 8, 8, 3];
    const x = normals(2 * 8 * 8 * 3, "stock-pool", -0.5);
    const cpu = await valuesOn("cpu", maxPoolCase(x, shape, 2, 2, "valid", "stock-dy"));
    const fixed = await valuesOn("wasm", maxPoolCase(x, shape, 2, 2, "valid", "stock-dy"));
    const stock = await withStockKernels(() => {
      assert.ok(!isWasmKernelPatched("MaxPoolGrad"));
      return valuesOn("wasm", maxPoolCase(x, shape, 2, 2, "valid", "stock-dy"));
    });
    assert.ok(isWasmKernelPatched("MaxPoolGrad"), "the fixes are back after withStockKernels");
    assertAllClose(fixed[1], cpu[1], { atol: 0, rtol: 0, what: "fixed maxPool gradient" });
    const report = allClose(stock[1], cpu[1], { atol: 1e-6, rtol: 1e-6 });
    assert.ok(!report.ok, `the stock kernel agreed with cpu: ${report.message}`);
    // Measured: 20 of the 384 inputs differ, all inside windows whose maximum is <= 0.
    assert.ok(report.mismatched >= 10, report.message);
    const stockGrad = stock[1], maxes = cpu[0];
    for (let i = 0; i < stockGrad.length; i++) {
      if (stockGrad[i] === cpu[1][i]) continue;
      const [b, r, c, ch] = [
        Math.floor(i / 192),
        Math.floor(i / 24) % 8,
        Math.floor(i / 3) % 8,
        i % 3,
      ];
      const window = ((b * 4 + (r >> 1)) * 4 + (c >> 1)) * 3 + ch;
      assert.ok(
        maxes[window] <= 0,
        `input ${i} differs in a window whose maximum is ${maxes[window]}`,
      );
    }
    await withStockKernels(() => {
      const table = tf.zeros([4, 2]), ids = tf.tensor1d([1, 1, 3], "int32");
      assert.throws(
        () => tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table),
        /UnsortedSegmentSum' not registered for backend 'wasm'/,
      );
      const img = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
      assert.throws(
        () =>
          tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(img, w as tf.Tensor4D, 1, "valid")))(
            tf.zeros([3, 3, 1, 2]),
          ),
        /Conv2DBackpropFilter' not registered for backend 'wasm'/,
      );
      tf.dispose([table, ids, img]);
    });
  },
);

// ---------------------------------------------------------------------------------------------

wasmTest(
  "matMul with transposes, and its gradients (BatchMatMul), on wasm equal cpu's and the stock kernel's",
  async () => {
    for (const seed of [1, 2]) {
      const d = dims({ batch: [2, 4], m: [1, 9], k: [1, 9], n: [1, 9] }, `matmul:${seed}`);
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        // Rank 2, rank 3, and rank 3 against a broadcast rank 2 (forward only: tfjs's gradient
        // of a broadcast matMul has the wrong shape and throws, on every backend).
        for (const batchA of [[], [d.batch]]) {
          for (const batchB of batchA.length === 0 ? [[]] : [[d.batch], []]) {
            const aShape = [...batchA, ...(ta ? [d.k, d.m] : [d.m, d.k])];
            const bShape = [...batchB, ...(tb ? [d.n, d.k] : [d.k, d.n])];
            const a = normals(tf.util.sizeFromShape(aShape), `a:${seed}`);
            const b = normals(tf.util.sizeFromShape(bShape), `b:${seed}`);
            const fn = () => {
              const at = tf.tensor(a, aShape), bt = tf.tensor(b, bShape);
              const f = (a: tf.Tensor, b: tf.Tensor) =>
                weightedSum(tf.matMul(a, b, ta, tb), `mm-dy:${seed}`);
              const broadcast = batchA.length !== batchB.length;
              return [tf.matMul(at, bt, ta, tb), ...(broadcast ? [] : tf.grads(f)([at, bt]))];
            };
            const { wasm, cpu } = await onBoth(fn);
            const stock = await withStockKernels(() => valuesOn("wasm", fn));
            const at =
              `seed ${seed}, a [${aShape}] b [${bShape}], transposeA ${ta}, transposeB ${tb}`;
            assert.equal(wasm.length, batchA.length !== batchB.length ? 1 : 3);
            for (const [i, what] of ["matMul", "gradient of a", "gradient of b"].entries()) {
              if (i >= wasm.length) break;
              assertAllClose(wasm[i], cpu[i], { rtol: 1e-5, atol: 1e-5, what: `${what}, ${at}` });
              assertAllClose(wasm[i], stock[i], {
                rtol: 1e-5,
                atol: 1e-5,
                what: `${what} vs stock, ${at}`,
              });
            }
          }
        }
      }
    }
  },
);

wasmTest(
  "batched matMul (one product per pair of matrices) equals cpu: ranks 3-4, broadcasts, empties",
  async () => {
    const d = dims({ b1: [2, 3], b2: [2, 5], m: [1, 9], k: [1, 9], n: [1, 9] }, "batched");
    const { b1, b2, m, k, n } = d;
    // [a shape, b shape, transposeA, transposeB, with gradients]
    const cases: [number[], number[], boolean, boolean, boolean][] = [
      [[b1, b2, m, k], [b1, b2, k, n], false, false, true], // the attention products
      [[b1, b2, m, k], [b1, b2, n, k], false, true, true], // Q·Kᵀ
      [[b1, b2, k, m], [b1, b2, k, n], true, false, true], // a gradient's Aᵀ·dY
      [[m, k], [b2, k, n], false, false, false], // a shared: one product per b
      [[1, b2, m, k], [b2, k, n], false, false, false], // leading 1 broadcast
      [[b1, 1, m, k], [1, b2, k, n], false, false, false], // a general broadcast: the stock kernel
      [[b2, 0, k], [b2, k, n], false, false, false], // empty output
      [[b2, m, 0], [b2, 0, n], false, false, false], // k = 0: zeros
    ];
    for (const [aShape, bShape, ta, tb, withGrads] of cases) {
      const a = normals(tf.util.sizeFromShape(aShape), `ba:${aShape}`);
      const b = normals(tf.util.sizeFromShape(bShape), `bb:${bShape}`);
      const fn = () => {
        const at = tf.tensor(a, aShape), bt = tf.tensor(b, bShape);
        const f = (a: tf.Tensor, b: tf.Tensor) =>
          weightedSum(tf.matMul(a, b, ta, tb), `bdy:${aShape}`);
        return [tf.matMul(at, bt, ta, tb), ...(withGrads ? tf.grads(f)([at, bt]) : [])];
      };
      const buffers = numDataIds();
      const { wasm, cpu } = await onBoth(fn);
      assert.equal(numDataIds(), buffers, `a [${aShape}] b [${bShape}]: wasm buffers left over`);
      for (const [i, what] of ["matMul", "gradient of a", "gradient of b"].entries()) {
        if (i >= wasm.length) break;
        const at = `${what}, a [${aShape}] b [${bShape}], transposeA ${ta}, transposeB ${tb}`;
        assertAllClose(wasm[i], cpu[i], { rtol: 1e-5, atol: 1e-5, what: at });
      }
    }
  },
);

wasmTest(
  "maxPool and avgPool with an empty output give cpu's empty tensor; the heap stays sound",
  async () => {
    // A 2×2 window over a 1×1 image, "valid": nothing to pool. The stock wasm kernels write outside
    // the heap here (not run: they can break the tests after them).
    const fn = () => {
      const x = tf.ones([1, 1, 1, 2]) as tf.Tensor4D;
      return [
        tf.maxPool(x, 2, 2, "valid"),
        tf.avgPool(x, 2, 1, "valid"),
        tf.maxPool(x, 1, 1, "valid"),
      ];
    };
    const shapes = tf.tidy(() => fn().map((t) => t.shape));
    assert.deepEqual(shapes, [[1, 0, 0, 2], [1, 0, 0, 2], [1, 1, 1, 2]]);
    const { wasm, cpu } = await onBoth(fn);
    assert.deepEqual(wasm, cpu);
    const after = tf.tidy(() => tf.sum(tf.ones([3, 4])).dataSync()[0]);
    assert.equal(after, 12, "an op after the empty pools");
  },
);

// ---------------------------------------------------------------------------------------------

wasmTest(
  "gradient check through conv2d + maxPool on signed input, on wasm; the stock kernel fails it",
  async () => {
    // maxPool has a kink wherever two values of a window tie. A coordinate step of eps moves every
    // conv output by at most eps * max(|x|, |w|), so the finite differences are exact (the maximum
    // stays put) if every window's top two values are more than twice that apart. Seed 6 is one
    // such seed (of seeds 1..12, only 3, 6 and 10 are; the others fail near ties, fix or no fix).
    const eps = 1e-2, shift = 1.5;
    const x = randn([2, 7, 7, 2], { seed: 60 }), w = randn([3, 3, 2, 3], { seed: 61, std: 0.5 });
    const convOut = (x: tf.Tensor, w: tf.Tensor) =>
      tf.sub(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "valid"), shift) as tf.Tensor4D;
    const pool = (y: tf.Tensor4D) => tf.maxPool(y, 3, 2, "same"); // 3x3 windows, stride 2: overlap
    const f = (x: tf.Tensor, w: tf.Tensor) => weightedSum(pool(convOut(x, w)), "gradcheck-dy");

    // The precondition, and the bug's case: windows whose maximum is <= 0 (measured: 28 of 54).
    const y = convOut(x, w);
    const [batch, height, width, channels] = y.shape;
    const values = y.dataSync(), pooled = pool(y).dataSync();
    const bound = 2 * eps *
      Math.max(tf.max(tf.abs(x)).dataSync()[0], tf.max(tf.abs(w)).dataSync()[0]);
    let minGap = Infinity;
    for (let b = 0; b < batch; b++) {
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          for (let c = 0; c < channels; c++) {
            const win: number[] = [];
            for (let r = 2 * i - 1; r <= 2 * i + 1; r++) {
              for (let s = 2 * j - 1; s <= 2 * j + 1; s++) {
                if (r >= 0 && r < height && s >= 0 && s < width) {
                  win.push(values[((b * height + r) * width + s) * channels + c]);
                }
              }
            }
            win.sort((p, q) => q - p);
            minGap = Math.min(minGap, win[0] - win[1]);
          }
        }
      }
    }
    assert.ok(minGap > bound, `near-tie: top-two gap ${minGap} <= ${bound}; pick another seed`);
    assert.ok(
      nonPositiveWindows(Float32Array.from(pooled)) >= 20,
      "too few windows with maximum <= 0",
    );

    // Measured: relative error 8.8e-6 with the fixes; 0.34 with the stock MaxPoolGrad.
    assertGradients(f, [x, w], { eps, names: ["x", "w"] });
    const stock = await withStockKernels(() => gradCheck((x) => f(x, w), [x], { eps }));
    assert.ok(!stock.ok && stock.relError > 0.05, `the stock kernel passed: ${stock.message}`);
    tf.dispose([x, w, y]);
  },
);

wasmTest("one training step of a small CNN on wasm equals the same step on cpu", async () => {
  // conv2d 3x3x1->4 valid, relu, maxPool 2, dense -> 3, softmax cross-entropy, SGD; the weights after
  // the step must agree. Measured largest difference 3e-8.
  const d = dims({ batch: [2, 4], size: [8, 10] }, "cnn");
  const pooled = Math.floor((d.size - 2) / 2);
  const x = normals(d.batch * d.size * d.size, "cnn-x");
  const labels = Array.from({ length: d.batch }, (_, i) => i % 3);
  const k0 = normals(9 * 4, "cnn-k").map((v) => v * 0.3);
  const w0 = normals(pooled * pooled * 4 * 3, "cnn-w").map((v) => v * 0.1);
  const step = () => {
    const k = tf.variable(tf.tensor4d(k0, [3, 3, 1, 4]));
    const w = tf.variable(tf.tensor2d(w0, [pooled * pooled * 4, 3]));
    const xs = tf.tensor4d(x, [d.batch, d.size, d.size, 1]);
    const ys = tf.oneHot(tf.tensor1d(labels, "int32"), 3);
    const loss = () => {
      const h = tf.maxPool(tf.relu(tf.conv2d(xs, k, 1, "valid")), 2, 2, "valid");
      return tf.losses.softmaxCrossEntropy(
        ys,
        tf.matMul(tf.reshape(h, [d.batch, -1]), w),
      ) as tf.Scalar;
    };
    tf.train.sgd(0.1).minimize(loss);
    const out = [k.clone(), w.clone()];
    tf.dispose([k, w]);
    return out;
  };
  const { wasm, cpu } = await onBoth(step);
  assertAllClose(wasm[0], cpu[0], { rtol: 1e-5, atol: 1e-6, what: "conv kernel after one step" });
  assertAllClose(wasm[1], cpu[1], { rtol: 1e-5, atol: 1e-6, what: "dense weights after one step" });
});

wasmTest("the fixed kernels leak no tensor and no wasm buffer", () => {
  const x = randn([2, 6, 6, 2], { seed: 7 }), k = randn([3, 3, 2, 3], { seed: 8 });
  const table = randn([5, 3], { seed: 9 }), ids = tf.tensor2d([[1, 1], [4, 0]], undefined, "int32");
  const a = randn([4, 3], { seed: 10 }), b = randn([4, 5], { seed: 11 });
  const buffers = numDataIds();
  const grads = assertNoLeaks(() =>
    tf.tidy(() => [
      ...tf.grads((x: tf.Tensor, k: tf.Tensor) =>
        tf.sum(tf.maxPool(tf.conv2d(x as tf.Tensor4D, k as tf.Tensor4D, 2, "same"), 2, 1, "same"))
      )([x, k]),
      tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table),
      ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.matMul(a, b, true, false)))([a, b]),
    ]), { what: "gradients through conv2d, maxPool, gather and matMul" });
  assert.equal(grads.length, 5);
  tf.dispose(grads);
  assert.equal(numDataIds(), buffers, "wasm buffers made inside the kernels were not all freed");
  tf.dispose([x, k, table, ids, a, b]);
});

// ---------------------------------------------------------------------------------------------

Deno.test("registerWasmKernels is idempotent; unregisterWasmKernels restores the stock kernels", () => {
  const before = WASM_KERNEL_NAMES.map((name) => tf.getKernel(name, "wasm"));
  const patched = WASM_KERNEL_NAMES.map(isWasmKernelPatched);
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args);
  try {
    registerWasmKernels();
    const first = WASM_KERNEL_NAMES.map((name) => tf.getKernel(name, "wasm"));
    registerWasmKernels();
    assert.deepEqual(WASM_KERNEL_NAMES.map((name) => tf.getKernel(name, "wasm")), first);
    assert.ok(WASM_KERNEL_NAMES.every(isWasmKernelPatched));

    unregisterWasmKernels();
    unregisterWasmKernels();
    assert.ok(WASM_KERNEL_NAMES.every((name) => !isWasmKernelPatched(name)));
    assert.equal(tf.getKernel("UnsortedSegmentSum", "wasm"), undefined);
    assert.equal(tf.getKernel("Conv2DBackpropFilter", "wasm"), undefined);
    assert.ok(tf.getKernel("MaxPoolGrad", "wasm") !== undefined, "the stock MaxPoolGrad is back");
    assert.ok(tf.getKernel("BatchMatMul", "wasm") !== undefined, "the stock BatchMatMul is back");
    assert.ok(tf.getKernel("BatchMatMul", "wasm") !== first[3]);

    registerWasmKernels();
    assert.ok(WASM_KERNEL_NAMES.every(isWasmKernelPatched));
    assert.deepEqual(warnings, [], "re-registering must not warn");
  } finally {
    console.warn = warn;
    // Leave the registry as this test found it: patched on wasm (lib/tf.ts did it), stock on cpu.
    if (!patched.every(Boolean)) unregisterWasmKernels();
  }
  if (patched.every(Boolean)) {
    assert.deepEqual(WASM_KERNEL_NAMES.map(isWasmKernelPatched), patched);
  } else {
    assert.deepEqual(WASM_KERNEL_NAMES.map((name) => tf.getKernel(name, "wasm")), before);
  }
});

Deno.test("lib/tf.ts installs the wasm kernels exactly when the backend is wasm", () => {
  assert.equal(tf.getBackend(), backend);
  assert.deepEqual(
    WASM_KERNEL_NAMES.map(isWasmKernelPatched),
    WASM_KERNEL_NAMES.map(() => backend === "wasm"),
  );
});

// ---------------------------------------------------------------------------------------------
// The copy-free and cheaper kernels: Identity, Cast, Sum over leading axes, SplitV, Pack.

wasmTest("Identity and same-dtype Cast share memory; values and disposal are unaffected", () => {
  const x = tf.tensor2d(normals(12, "id"), [3, 4]);
  const buffers = numDataIds();
  const copy = tf.clone(x);
  const same = tf.cast(x, "float32");
  assert.equal(numDataIds(), buffers, "clone and cast to float32 make no new buffer");
  const floats = tf.tensor1d([1.7, -2.2, 3.5]);
  const ints = tf.cast(floats, "int32");
  x.dispose();
  assert.deepEqual(copy.dataSync(), same.dataSync());
  assert.equal(copy.shape.join(), "3,4");
  assert.deepEqual(Array.from(ints.dataSync()), [1, -2, 3], "a real cast still converts");
  assert.equal(ints.dtype, "int32");
  tf.dispose([copy, same, ints, floats]);
  assert.equal(numDataIds(), buffers - 1, "the shared buffer is freed with its last tensor");
});

wasmTest(
  "Sum over leading axes: the stock kernel's bits, cpu's values within rounding",
  async () => {
    const cases: [number[], number[] | number, boolean][] = [
      [[12, 64, 128], [0, 1], false],
      [[768, 512], 0, false],
      [[5, 3, 7], [0], true],
      [[4, 6], [1], false], // innermost: the stock kernel
      [[2, 3, 4], [0, 2], false], // not a prefix: the stock kernel
    ];
    for (const [shape, axis, keepDims] of cases) {
      const values = normals(shape.reduce((a, b) => a * b), `sum:${shape}`, 0.5);
      const run = () => [tf.sum(tf.tensor(values, shape), axis, keepDims)];
      const ours = await valuesOn("wasm", run);
      const stock = await withStockKernels(() => valuesOn("wasm", run));
      const cpu = await valuesOn("cpu", run);
      assert.deepEqual(ours, stock, `sum ${shape} over ${axis}: bit-identical to the stock kernel`);
      assertAllClose(ours[0], cpu[0], { atol: 1e-3, rtol: 1e-4 });
      const t = tf.sum(tf.tensor(values, shape), axis, keepDims);
      const want = tf.tidy(() => tf.sum(tf.tensor(values, shape), axis, keepDims).shape);
      assert.deepEqual(t.shape, want);
      t.dispose();
    }
  },
);

wasmTest("SplitV and Pack give exactly cpu's values, with fewer copies", async () => {
  const x = normals(2 * 5 * 9, "split");
  const { wasm, cpu } = await onBoth(() => [
    ...tf.split(tf.tensor3d(x, [2, 5, 9]), 3, 2),
    ...tf.split(tf.tensor3d(x, [2, 5, 9]), [1, 4], 1),
    ...tf.split(tf.tensor3d(x, [2, 5, 9]), [2, -1, 3], -1),
    tf.stack([tf.tensor2d(x.subarray(0, 6), [2, 3]), tf.tensor2d(x.subarray(6, 12), [2, 3])]),
    tf.stack([tf.tensor1d(x.subarray(0, 3)), tf.tensor1d(x.subarray(3, 6))], 1),
    tf.stack([tf.tensor1d([1, 2], "int32"), tf.tensor1d([3, 4], "int32")]),
  ]);
  assert.deepEqual(wasm, cpu);
  const g = tf.grad((t: tf.Tensor) => {
    const [a, b, c] = tf.split(t, 3, 1);
    return tf.sum(tf.mul(tf.stack([a, tf.mul(b, 2), tf.mul(c, 3)]), 1));
  })(tf.tensor2d(x.subarray(0, 18), [2, 9]));
  assert.deepEqual(
    Array.from(g.dataSync()),
    [1, 1, 1, 2, 2, 2, 3, 3, 3, 1, 1, 1, 2, 2, 2, 3, 3, 3],
  );
  g.dispose();
});

wasmTest("the copy-free kernels leak no wasm buffer in a training step", () => {
  const w = tf.variable(tf.tensor2d(normals(12, "w"), [3, 4]));
  const b = tf.variable(tf.zeros([4]));
  const x = tf.tensor3d(normals(18, "x"), [2, 3, 3]);
  const step = () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const y = tf.add(tf.matMul(tf.reshape(x, [-1, 3]), w), b);
        const [p, q] = tf.split(y, 2, 1);
        return tf.sum(tf.square(tf.stack([tf.clone(p), tf.cast(q, "float32")])));
      }, [w, b]);
      w.assign(tf.sub(w, tf.mul(grads[w.name], 0.01)));
      b.assign(tf.sub(b, tf.mul(grads[b.name], 0.01)));
    });
  step();
  const buffers = numDataIds();
  step();
  step();
  assert.equal(numDataIds(), buffers);
  tf.dispose([w, b, x]);
});
