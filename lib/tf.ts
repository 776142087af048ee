/**
 * TensorFlow.js, ready to use: import `tf` from here, never from the package directly, so that the
 * backend is chosen before the first tensor exists.
 *
 * The backend is WebAssembly (`wasm`, SIMD), about 20x faster than the pure-JavaScript `cpu`
 * backend. Its `.wasm` bytes are imported as a module, so `deno test katas/02` needs no permission
 * flags. To run on `cpu` instead, pass `--backend=cpu` after `--`:
 *
 * ```sh
 * deno test katas/02 -- --backend=cpu
 * deno task test --backend=cpu
 * ```
 *
 * @example
 * ```ts
 * import { backend, tf } from "./tf.ts";
 * console.log(backend, tf.sum(tf.ones([2, 3])).dataSync()); // "wasm" Float32Array [6]
 * ```
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels } from "./wasm_kernels.ts";
import simd from "npm:@tensorflow/tfjs-backend-wasm@4.22.0/dist/tfjs-backend-wasm-simd.wasm" with {
  type: "bytes",
};

/** The backend every kata runs on: `"wasm"` unless `--backend=cpu` was passed. */
export const backend: "wasm" | "cpu" = Deno.args.includes("--backend=cpu") ? "cpu" : "wasm";

// PROD silences the "use tfjs-node" banner. (IS_TEST would too, but it also turns on a per-kernel
// leak check that wrongly fails the gradient of tf.logSoftmax on wasm.)
tf.env().set("PROD", true);
if (backend === "wasm") {
  // Threads are not used under Deno, and Deno's V8 always has SIMD: one binary serves every name.
  const url = URL.createObjectURL(new Blob([simd], { type: "application/wasm" }));
  setWasmPaths({
    "tfjs-backend-wasm.wasm": url,
    "tfjs-backend-wasm-simd.wasm": url,
    "tfjs-backend-wasm-threaded-simd.wasm": url,
  }, true);
}
if (!(await tf.setBackend(backend))) {
  throw new Error(`TensorFlow.js could not start its "${backend}" backend.`);
}
await tf.ready();
// The wasm backend lacks or gets wrong a few kernels that training needs: see wasm_kernels.ts.
if (backend === "wasm") registerWasmKernels();

export { tf };
