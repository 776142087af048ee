/**
 * Matrix products on the wasm backend's own memory with lib/gemm.wasm (assembled from
 * lib/gemm.wat, which explains the method): ~1.3-1.6x the backend's XNNPack product on one core,
 * because it uses fused multiply-adds (WebAssembly relaxed SIMD). `lib/wasm_kernels.ts` runs the
 * wasm `BatchMatMul` kernel on it, so every matMul of the katas and the trainer does.
 *
 * The module imports the backend's `WebAssembly.Memory`: it reads the inputs and writes the output
 * where the tensors are, and only B is copied (into column panels, in a buffer taken from the
 * backend's allocator for the call). Results differ from XNNPack's by float32 rounding (another
 * summation order, and one rounding per multiply-add instead of two).
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts"; // its BatchMatMul on wasm already runs here
 * console.log(tf.matMul(tf.ones([2, 3]), tf.ones([3, 4])).dataSync()); // twelve 3s
 * ```
 * @module
 */
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import bytes from "./gemm.wasm" with { type: "bytes" };

/**
 * `c = op(a)·op(b)` for row-major float32 matrices on the wasm heap: `op(a)` is [m, k], `op(b)`
 * [k, n], `c` [m, n]; `a`, `b`, `c` are byte offsets into the heap, and `op` transposes when its
 * flag is set. m, n and k are at least 1.
 */
export type HeapGemm = (
  backend: BackendWasm,
  transposeA: boolean,
  transposeB: boolean,
  m: number,
  n: number,
  k: number,
  a: number,
  b: number,
  c: number,
) => void;

interface Exports {
  pack_b(b: number, bp: number, k: number, n: number, bks: number, bjs: number): void;
  gemm(
    a: number,
    ars: number,
    aks: number,
    bp: number,
    c: number,
    m: number,
    n: number,
    k: number,
    scratch: number,
  ): void;
}

interface Heap {
  asm: { memory: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(at: number): void;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<BackendWasm, Exports>();

function exportsFor(backend: BackendWasm): Exports {
  let e = instances.get(backend);
  if (e === undefined) {
    compiled ??= new WebAssembly.Module(bytes);
    const memory = (backend.wasm as unknown as Heap).asm.memory;
    e = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Exports;
    instances.set(backend, e);
  }
  return e;
}

/** {@linkcode HeapGemm} with lib/gemm.wasm. */
export const wasmGemm: HeapGemm = (backend, transposeA, transposeB, m, n, k, a, b, c) => {
  const { pack_b, gemm } = exportsFor(backend);
  const heap = backend.wasm as unknown as Heap;
  const panels = Math.ceil(n / 8) * k * 32; // bytes
  const bp = heap._malloc(panels + 32); // and 32 bytes of scratch
  if (bp === 0) throw new RangeError(`matMul: no wasm memory left for ${panels + 32} bytes`);
  try {
    pack_b(b, bp, k, n, transposeB ? 4 : n * 4, transposeB ? k * 4 : 4);
    gemm(a, transposeA ? 4 : k * 4, transposeA ? m * 4 : 4, bp, c, m, n, k, bp + panels);
  } finally {
    heap._free(bp);
  }
};
