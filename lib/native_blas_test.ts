import assert from "node:assert/strict";
import { assertAllClose } from "./assert.ts";
import { normalRng } from "./random.ts";
import { backend, tf } from "./tf.ts";
import {
  blasCandidates,
  disableNativeMatMul,
  enableNativeMatMul,
  isNativeMatMul,
  loadBlas,
} from "./native_blas.ts";

// The native tests run where `--allow-ffi` is granted and a BLAS library loads
// (`deno test --allow-ffi lib/native_blas_test.ts`; `.ci/run` installs libopenblas0-pthread).
// Without them, only the fallback is tested.

const ffi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";
const blas = ffi ? loadBlas() : "no --allow-ffi";
const haveBlas = typeof blas !== "string" && backend === "wasm";

/** DOJO_REQUIRE_BLAS=1 (set by .ci/run, which installs OpenBLAS): the native tests must run. */
function required(): boolean {
  try {
    return Deno.env.get("DOJO_REQUIRE_BLAS") === "1";
  } catch {
    return false; // no --allow-env: not asked
  }
}

Deno.test("the native tests run where they are required (DOJO_REQUIRE_BLAS=1 in CI)", () => {
  if (required() && !haveBlas) {
    assert.fail(
      `DOJO_REQUIRE_BLAS=1 but the native BLAS tests cannot run: ${
        typeof blas === "string" ? blas : `the backend is ${backend}`
      }. Run with --allow-ffi and install libopenblas0-pthread (Debian).`,
    );
  }
});

function normals(n: number, seed: string): Float32Array {
  const z = normalRng(seed);
  return Float32Array.from({ length: n }, () => z());
}

/** Relative Frobenius error |a − b| / |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] ** 2;
  }
  return Math.sqrt(d / n);
}

Deno.test("without --allow-ffi (or a library), matMul stays on wasm, with a one-line reason", () => {
  if (haveBlas) return; // covered by the native tests below
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(" "));
  try {
    const path = enableNativeMatMul();
    assert.equal(path.native, false);
    assert.equal(isNativeMatMul(), false);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^matMul: wasm \(native BLAS not used: .+\)$/);
    assert.equal(enableNativeMatMul({ quiet: true }).native, false);
    assert.equal(lines.length, 1, "quiet prints nothing");
  } finally {
    console.log = log;
  }
});

Deno.test("the library names cover Linux and macOS", () => {
  assert.ok(blasCandidates("linux").includes("libopenblas.so.0"));
  assert.ok(blasCandidates("darwin")[0].includes("Accelerate"));
});

/** Every case: shapes of a and b, transposeA, transposeB. */
const cases: [number[], number[], boolean, boolean][] = [
  [[768, 128], [128, 512], false, false],
  [[768, 128], [768, 384], true, false],
  [[768, 512], [128, 512], false, true],
  [[33, 17], [29, 33], true, true],
  [[12, 4, 64, 32], [12, 4, 32, 64], false, false],
  [[12, 4, 64, 32], [12, 4, 64, 32], false, true],
  [[6, 64, 32], [6, 64, 16], true, false],
  [[3, 5, 7], [7, 4], false, false], // b broadcast: one product
  [[5, 7], [3, 7, 4], false, false], // a broadcast
  [[2, 1, 3, 4], [1, 5, 4, 2], false, false], // a general broadcast: the replaced kernel
  [[1, 4], [4, 1], false, false],
  [[0, 4], [4, 3], false, false],
];

Deno.test({
  name: "native matMul agrees with wasm within float32 tolerance, both flags, batches, broadcasts",
  ignore: !haveBlas,
  fn() {
    const run = () =>
      cases.map(([sa, sb, ta, tb], i) =>
        tf.tidy(() => {
          const a = tf.tensor(normals(sa.reduce((x, y) => x * y, 1), `a${i}`), sa);
          const b = tf.tensor(normals(sb.reduce((x, y) => x * y, 1), `b${i}`), sb);
          const y = tf.matMul(a, b, ta, tb);
          return { shape: y.shape, values: y.dataSync() as Float32Array };
        })
      );
    const wasm = run();
    assert.equal(enableNativeMatMul({ quiet: true }).native, true);
    try {
      assert.ok(isNativeMatMul());
      const native = run();
      native.forEach((n, i) => {
        assert.deepEqual(n.shape, wasm[i].shape, `case ${i}`);
        if (n.values.length === 0) return;
        const err = relErr(n.values, wasm[i].values);
        assert.ok(err < 1e-5, `case ${i} [${cases[i][0]}]·[${cases[i][1]}]: relative error ${err}`);
      });
    } finally {
      disableNativeMatMul();
    }
    assert.equal(isNativeMatMul(), false);
  },
});

Deno.test({
  name: "native matMul: gradients and a training step agree with wasm; no buffer leaks",
  ignore: !haveBlas,
  fn() {
    const a0 = normals(48 * 32, "ga"), b0 = normals(32 * 24, "gb");
    const grads = () =>
      tf.tidy(() => {
        const a = tf.tensor2d(a0, [48, 32]), b = tf.tensor2d(b0, [32, 24]);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b))))([
          a,
          b,
        ]);
        return g.map((t) => t.dataSync() as Float32Array);
      });
    const wasm = grads();
    enableNativeMatMul({ quiet: true });
    try {
      const numDataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
      const before = numDataIds();
      const native = grads();
      assert.equal(numDataIds(), before);
      native.forEach((g, i) => assertAllClose(g, wasm[i], { rtol: 1e-4, atol: 1e-4 }));
    } finally {
      disableNativeMatMul();
    }
  },
});
