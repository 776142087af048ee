import assert from "node:assert/strict";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { assemble } from "./gemm_build.ts";
import { dims, normalRng } from "./random.ts";
import { backend, tf } from "./tf.ts";
import { wasmGemm } from "./wasm_gemm.ts";
import wat from "./gemm.wat" with { type: "text" };
import wasm from "./gemm.wasm" with { type: "bytes" };

Deno.test("lib/gemm.wasm is lib/gemm.wat assembled (after an edit: deno task build:gemm)", async () => {
  const fresh = await assemble(wat);
  assert.ok(
    fresh.length === wasm.length && fresh.every((byte, i) => byte === wasm[i]),
    `lib/gemm.wasm (${wasm.length} bytes) is not the assembly of lib/gemm.wat ` +
      `(${fresh.length} bytes): run deno task build:gemm and commit both`,
  );
});

Deno.test({
  name: "wasmGemm equals a float64 product for sizes around its 4x8 blocks, every transpose; " +
    "it writes only C",
  ignore: backend !== "wasm",
  fn() {
    const b = tf.backend() as BackendWasm;
    const heap = b.wasm as unknown as {
      _malloc(n: number): number;
      _free(at: number): void;
      HEAPF32: Float32Array;
    };
    const sizes: [number, number, number][] = [[1, 1, 1], [4, 8, 1], [5, 9, 3], [67, 70, 300]];
    for (let seed = 0; seed < 12; seed++) {
      const d = dims({ m: [1, 13], n: [1, 19], k: [1, 20] }, `gemm:${seed}`);
      sizes.push([d.m, d.n, d.k]);
    }
    for (const [m, n, k] of sizes) {
      for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]]) {
        const z = normalRng(`gemm:${m}:${n}:${k}`);
        const a = Float32Array.from({ length: m * k }, z); // op(a) [m, k], stored as given by ta
        const bv = Float32Array.from({ length: k * n }, z);
        // a, b, then c between two guard bands of 16 floats each.
        const guard = 16, floats = m * k + k * n + m * n + 2 * guard;
        const at = heap._malloc(floats * 4);
        try {
          const aAt = at, bAt = aAt + m * k * 4, cAt = bAt + k * n * 4 + guard * 4;
          let h = heap.HEAPF32;
          h.set(a, aAt / 4);
          h.set(bv, bAt / 4);
          h.fill(-7, cAt / 4 - guard, cAt / 4 + m * n + guard);
          wasmGemm(b, ta, tb, m, n, k, aAt, bAt, cAt);
          h = heap.HEAPF32; // the call may grow the memory
          const A = (i: number, l: number) => ta ? a[l * m + i] : a[i * k + l];
          const B = (l: number, j: number) => tb ? bv[j * k + l] : bv[l * n + j];
          const what = `[${m}, ${k}]·[${k}, ${n}], transposeA ${ta}, transposeB ${tb}`;
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let want = 0, scale = 0;
              for (let l = 0; l < k; l++) {
                want += A(i, l) * B(l, j);
                scale += Math.abs(A(i, l) * B(l, j));
              }
              // A float32 sum of k products is within k·2⁻²⁴·Σ|products| of the exact one.
              const got = h[cAt / 4 + i * n + j], bound = 2 * k * 2 ** -24 * scale;
              if (!(Math.abs(got - want) <= bound)) {
                assert.fail(`${what}: C[${i}, ${j}] is ${got}, expected ${want} (within ${bound})`);
              }
            }
          }
          const before = h.subarray(cAt / 4 - guard, cAt / 4);
          const after = h.subarray(cAt / 4 + m * n, cAt / 4 + m * n + guard);
          assert.ok(
            [...before, ...after].every((x) => x === -7),
            `${what}: wrote outside C`,
          );
          assert.deepEqual(h.slice(aAt / 4, aAt / 4 + m * k), a, `${what}: changed A`);
          assert.deepEqual(h.slice(bAt / 4, bAt / 4 + k * n), bv, `${what}: changed B`);
        } finally {
          heap._free(at);
        }
      }
    }
  },
});
