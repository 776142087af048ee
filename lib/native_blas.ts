/**
 * The native fast path for matrix products: when Deno runs with `--allow-ffi` and a BLAS library
 * is present (OpenBLAS on Linux, Accelerate on macOS), {@linkcode enableNativeMatMul} replaces the
 * wasm backend's `BatchMatMul` kernel with one that calls `cblas_sgemm` through `Deno.dlopen`,
 * straight on the wasm backend's memory (no copies: the inputs and the output are views of the
 * wasm heap). Everything else stays on wasm. Without the permission or the library it changes
 * nothing and says why in one line; the katas never need it.
 *
 * - The batching is the wasm path's ({@linkcode heapBatchMatMul} in `wasm_kernels.ts`): both
 *   transpose flags are passed to BLAS as they are, and rank > 2 products (e.g. [batch, heads,
 *   time, dHead]) become one `cblas_sgemm` per matrix, with a leading dimension of size 1
 *   broadcast as `tf.matMul` does. Other broadcasts of the leading dimensions go to the kernel it
 *   replaced.
 * - Values agree with the wasm kernel within float32 rounding (different summation orders): the
 *   tests compare them with a relative tolerance of 1e-5 on the Frobenius norm.
 * - The library is looked up in `DOJO_BLAS` (a path) first, then under the usual names. OpenBLAS
 *   runs on `DOJO_BLAS_THREADS` threads (default 1: tfjs itself is single-threaded, and OpenBLAS's
 *   idle threads spin, which costs more than it gives on a 2-core machine shared with other work).
 *   Reading those variables needs `--allow-env`; without it the defaults apply.
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts";
 * import { enableNativeMatMul } from "./native_blas.ts";
 * const path = enableNativeMatMul(); // prints a one-line notice if it falls back to wasm
 * console.log(path.native ? `matMul: ${path.library}` : "matMul: wasm");
 * ```
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { HeapGemm } from "./wasm_gemm.ts";
import { heapBatchMatMul } from "./wasm_kernels.ts";

const WASM = "wasm";
const CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112;

const symbols = {
  cblas_sgemm: {
    parameters: [
      "i32", // order
      "i32", // transA
      "i32", // transB
      "i32", // M
      "i32", // N
      "i32", // K
      "f32", // alpha
      "buffer", // A
      "i32", // lda
      "buffer", // B
      "i32", // ldb
      "f32", // beta
      "buffer", // C
      "i32", // ldc
    ],
    result: "void",
  },
} as const;

type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** Which path matrix products take, and why. */
export interface MatMulPath {
  /** Whether `BatchMatMul` on wasm now runs on the native BLAS. */
  native: boolean;
  /** The library that was loaded, when `native`. */
  library?: string;
  /** One line for people: what is used, or why the native path is not. */
  message: string;
}

/** The library names tried, in order, for this operating system. */
export function blasCandidates(os: typeof Deno.build.os = Deno.build.os): string[] {
  if (os === "darwin") {
    return ["/System/Library/Frameworks/Accelerate.framework/Accelerate", "libopenblas.dylib"];
  }
  if (os === "windows") return ["libopenblas.dll", "openblas.dll"];
  return [
    "libopenblas.so.0",
    "libopenblas.so",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "libcblas.so.3",
    "libblas.so.3",
  ];
}

function env(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

let loaded: { sgemm: Sgemm; library: string } | null = null;

/**
 * Opens a BLAS library with `cblas_sgemm` (once; later calls return the same one). Returns the
 * reason as a string when it cannot: no `--allow-ffi`, or no library found. Never prompts.
 */
export function loadBlas(): { sgemm: Sgemm; library: string } | string {
  if (loaded) return loaded;
  let ffi: Deno.PermissionState;
  try {
    ffi = Deno.permissions.querySync({ name: "ffi" }).state;
  } catch {
    ffi = "denied";
  }
  if (ffi !== "granted") return "no --allow-ffi";
  const custom = env("DOJO_BLAS");
  const names = custom ? [custom] : blasCandidates();
  const errors: string[] = [];
  for (const library of names) {
    try {
      const lib = Deno.dlopen(library, symbols);
      const sgemm = lib.symbols.cblas_sgemm as unknown as Sgemm;
      setThreads(library, Number(env("DOJO_BLAS_THREADS") ?? 1));
      loaded = { sgemm, library };
      return loaded;
    } catch (e) {
      errors.push(`${library}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return custom
    ? `DOJO_BLAS=${custom} did not load (${errors[0]})`
    : `no BLAS library with cblas_sgemm found (tried ${names.join(", ")}; on Debian: ` +
      `apt-get install libopenblas0-pthread)`;
}

/** openblas_set_num_threads, when the library has it. */
function setThreads(library: string, threads: number): void {
  if (!(threads >= 1)) return;
  try {
    const lib = Deno.dlopen(library, {
      openblas_set_num_threads: { parameters: ["i32"], result: "void" },
    });
    lib.symbols.openblas_set_num_threads(Math.floor(threads));
  } catch {
    // Not OpenBLAS (Accelerate, reference BLAS): its own threading applies.
  }
}

/** A kernel config made here; it keeps the kernel it replaced. */
type NativeConfig = tf.KernelConfig & { dojoNativeReplaced: tf.KernelConfig };

function isNative(c: tf.KernelConfig | undefined): c is NativeConfig {
  return c !== undefined && "dojoNativeReplaced" in c;
}

/** {@linkcode HeapGemm} through cblas_sgemm, on views of the wasm heap (no copies). */
function blasGemm(sgemm: Sgemm): HeapGemm {
  return (backend, transposeA, transposeB, m, n, k, a, b, c) => {
    const heap = (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
    const view = (at: number, size: number) => heap.subarray(at / 4, at / 4 + size);
    sgemm(
      CBLAS_ROW_MAJOR,
      transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS,
      transposeB ? CBLAS_TRANS : CBLAS_NO_TRANS,
      m,
      n,
      k,
      1,
      view(a, m * k),
      transposeA ? m : k,
      view(b, k * n),
      transposeB ? k : n,
      0,
      view(c, m * n),
      n,
    );
  };
}

/** BatchMatMul through cblas_sgemm on the wasm heap; other cases go to `fallback`. */
export function nativeBatchMatMul(sgemm: Sgemm, fallback: tf.KernelConfig): tf.KernelFunc {
  return heapBatchMatMul(blasGemm(sgemm), fallback);
}

/**
 * Makes `BatchMatMul` on the wasm backend run on the native BLAS when it can (see the module
 * documentation). Idempotent. Prints one line (unless `quiet`) when it falls back to wasm; returns
 * the path either way, for the caller to report. Call it after `lib/tf.ts` has set the backend.
 */
export function enableNativeMatMul(opts: { quiet?: boolean } = {}): MatMulPath {
  const fallback = (reason: string): MatMulPath => {
    const message = `matMul: wasm (native BLAS not used: ${reason})`;
    if (!opts.quiet) console.log(message);
    return { native: false, message };
  };
  if (tf.getBackend() !== WASM) return fallback(`the backend is ${tf.getBackend()}, not wasm`);
  const current = tf.getKernel("BatchMatMul", WASM);
  if (isNative(current)) {
    return { native: true, library: loaded?.library, message: `matMul: native BLAS` };
  }
  if (current === undefined) return fallback("wasm has no BatchMatMul kernel");
  const blas = loadBlas();
  if (typeof blas === "string") return fallback(blas);
  tf.unregisterKernel("BatchMatMul", WASM);
  const config: NativeConfig = {
    ...current,
    kernelFunc: nativeBatchMatMul(blas.sgemm, current),
    dojoNativeReplaced: current,
  };
  tf.registerKernel(config);
  return {
    native: true,
    library: blas.library,
    message: `matMul: native BLAS (cblas_sgemm from ${blas.library})`,
  };
}

/** Puts back the BatchMatMul kernel that {@linkcode enableNativeMatMul} replaced. Idempotent. */
export function disableNativeMatMul(): void {
  const current = tf.getKernel("BatchMatMul", WASM);
  if (!isNative(current)) return;
  tf.unregisterKernel("BatchMatMul", WASM);
  tf.registerKernel(current.dojoNativeReplaced);
}

/** Whether `BatchMatMul` on wasm currently runs on the native BLAS. */
export function isNativeMatMul(): boolean {
  return isNative(tf.getKernel("BatchMatMul", WASM));
}
