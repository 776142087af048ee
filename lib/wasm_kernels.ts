/**
 * Kernels that close the gaps of TensorFlow.js 4.22's WebAssembly backend, so that every kata and
 * the learner's own code trains on `wasm` correctly and fast. {@linkcode registerWasmKernels}
 * installs them; `lib/tf.ts` calls it once the `wasm` backend is up, so nobody else needs to.
 *
 * The gaps, and what is done about each (kernel names are those of the TensorFlow.js registry):
 *
 * - `UnsortedSegmentSum` is not registered on wasm, and it is the gradient of `tf.gather` (every
 *   embedding lookup): training through `tf.gather` threw "kernel not registered". Fix: a kernel
 *   that reads the inputs straight from the wasm heap and adds the rows in a float64 accumulator,
 *   in index order, as the cpu backend does (the results are bit-identical to cpu's). Ids outside
 *   `[0, numSegments)` are dropped, as on cpu. Ids of any rank work, as in TensorFlow (the cpu
 *   kernel of TensorFlow.js gets ids of rank > 1 wrong; `tf.gather`'s gradient passes 1-D ids).
 * - `Conv2DBackpropFilter` (the weight gradient of `tf.conv2d`) is not registered on wasm. Fix:
 *   im2col + one wasm matMul: the input patches are gathered (in JavaScript, straight into the wasm
 *   heap) as a `[filterHeight * filterWidth * inChannels, batch * outHeight * outWidth]` matrix
 *   and multiplied by `dy` seen as `[batch * outHeight * outWidth, outChannels]` with the plain,
 *   fast wasm `BatchMatMul`. Strides, `"valid"`/`"same"`/explicit padding, dilations and
 *   `dimRoundingMode` are supported; `NCHW` throws (the wasm `Conv2D` itself refuses it). Measured
 *   4-7x faster than a plain JavaScript loop over the same sums (CNN-sized, 3x3x1->16 on 64x28x28:
 *   ~3 ms against ~16 ms; cpu: 1.3 s). The values differ from cpu's by float32 rounding (cpu sums
 *   in float64). The patch matrix costs `K * N` floats of wasm memory while the kernel runs.
 * - `MaxPoolGrad` on wasm gives WRONG gradients wherever a pooling window's maximum is <= 0 (the
 *   gradient of that window is lost). Fix: a kernel that finds each window's maximum again and
 *   routes `dy` to it, with the cpu backend's policy: the first maximum in row-major window order
 *   wins a tie, padding is never a candidate, NaN is never a maximum (a window of only NaN or -Inf
 *   gets no gradient), and overlapping windows add up in float64 in the cpu's order. The results
 *   are bit-identical to cpu's, ties included (and it is faster than the stock kernel: ~5 ms
 *   against ~19 ms for [64,26,26,16]).
 * - `BatchMatMul` is the kernel of every matrix product, and the stock one is slow three ways:
 *   with `transposeA`/`transposeB` (the gradients of `tf.matMul` use exactly those flags) it leaves
 *   XNNPACK and is 10-40x slower; a batch of matrices (rank > 2: the attention products [batch,
 *   heads, time, dHead]) runs a naive loop at ~2 GFLOP/s; and even the fast case multiplies and
 *   adds apart (~20-28 GFLOP/s). Fix: {@linkcode heapBatchMatMul} on `lib/wasm_gemm.ts`'s product
 *   with fused multiply-adds (~30-40 GFLOP/s), straight on the wasm heap: the flags cost nothing
 *   (strides), and a batch is one product per pair of matrices in one kernel call (a stack that
 *   shares b: one tall product). Values equal cpu's within float32 rounding. Leading dimensions
 *   broadcast other than "equal" or "a single matrix" go to the stock kernel.
 * - `MaxPool` and `AvgPool` whose output is empty (a window larger than the input, say) write
 *   outside the wasm heap: the call throws "memory access out of bounds" and later calls may fail
 *   too. Fix: an empty output, as on cpu, without calling the stock kernel.
 * - Copies a training step does not need (profiled with `bench/profile_step.ts`; together ~14% of
 *   the CPU time of the GPT step of katas 10-12): `Identity` and `Cast` to the same dtype share the
 *   input's memory (reference-counted, as `Reshape` on wasm and `Identity` on cpu) instead of
 *   copying it; `Sum` over leading axes (every bias gradient) adds rows in place, in the stock
 *   kernel's order (same bits), instead of transposing first; `SplitV` and `Pack` (axis 0) copy
 *   each piece once with `set` instead of the whole input per piece; `GatherV2` along axis 0
 *   (every embedding lookup) copies whole rows with `set` (the stock kernel copies one float at
 *   a time: ~5 ms for 768 rows of 128). Other cases go to the stock kernels.
 *
 * Registration is idempotent, needs no Deno permission, and keeps the replaced stock kernels so
 * that {@linkcode unregisterWasmKernels} can put them back (tests use it to show the gaps).
 *
 * @example
 * ```ts
 * import { tf } from "./tf.ts"; // already calls registerWasmKernels() on wasm
 * const table = tf.randomNormal([10, 4], 0, 1, "float32", 1);
 * const ids = tf.tensor1d([3, 3, 7], "int32");
 * const g = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table); // no longer throws
 * console.log(g.shape); // [10, 4]
 * ```
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type HeapGemm, wasmGemm } from "./wasm_gemm.ts";

/** The backend these kernels are for. */
const WASM = "wasm";

/** The names of the kernels this module registers or replaces on wasm. */
export const WASM_KERNEL_NAMES = [
  "UnsortedSegmentSum",
  "Conv2DBackpropFilter",
  "MaxPoolGrad",
  "BatchMatMul",
  "Identity",
  "Cast",
  "Sum",
  "SplitV",
  "Pack",
  "MaxPool",
  "AvgPool",
  "GatherV2",
] as const;

/** One of {@linkcode WASM_KERNEL_NAMES}. */
export type WasmKernelName = typeof WASM_KERNEL_NAMES[number];

/**
 * A kernel config made here. It carries the stock kernel it replaced (if any), so that the
 * registry itself remembers it: registering twice, even from two copies of this module, is safe.
 */
type DojoKernelConfig = tf.KernelConfig & { dojoStock: tf.KernelConfig | null };

function isDojo(config: tf.KernelConfig | undefined): config is DojoKernelConfig {
  return config !== undefined && "dojoStock" in config;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Attrs = NonNullable<KernelArgs["attrs"]>;

function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`wasm_kernels: missing input "${name}"`);
  return t;
}

/** Runs the kernel currently registered on wasm under `name` (no engine bookkeeping). */
function runWasmKernel(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: Attrs,
): tf.TensorInfo {
  const config = tf.getKernel(name, WASM);
  if (config === undefined) throw new Error(`wasm_kernels: no "${name}" kernel on wasm`);
  return config.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

/** Checks that a kernel input is float32 (what the wasm kernels around these ones accept). */
function assertFloat32(t: tf.TensorInfo, kernel: string, name: string): void {
  if (t.dtype !== "float32") {
    throw new Error(`${kernel} on wasm supports float32 only; "${name}" is ${t.dtype}`);
  }
}

// ---------------------------------------------------------------------------------------------
// UnsortedSegmentSum

/**
 * `out[s, ...] = sum of x[i, ...] over every i with segmentIds[i] = s`, where `i` runs over the
 * leading `segmentIds.rank` axes of `x`. Ids outside `[0, numSegments)` are dropped, as on cpu.
 */
function unsortedSegmentSum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = input(args, "x"), segmentIds = input(args, "segmentIds");
  const numSegments = (args.attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
  const idRank = segmentIds.shape.length;
  if (
    x.dtype === "string" || x.dtype === "complex64" || segmentIds.dtype !== "int32" ||
    segmentIds.shape.some((n, i) => n !== x.shape[i])
  ) {
    throw new Error(
      `UnsortedSegmentSum on wasm: x ${x.dtype} [${x.shape}] must be numeric and its shape must ` +
        `start with that of segmentIds ${segmentIds.dtype} [${segmentIds.shape}] (int32)`,
    );
  }
  const rowShape = x.shape.slice(idRank);
  const rowSize = tf.util.sizeFromShape(rowShape);
  const rows = tf.util.sizeFromShape(segmentIds.shape);
  // Allocate first: a malloc may grow the wasm memory and detach earlier views of the heap.
  const out = backend.makeOutput([numSegments, ...rowShape], x.dtype);
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const result = backend.typedArrayFromHeap(out);
  // Sum in float64, in index order (as cpu), but only for the segments that occur: a vocabulary of
  // 50k rows needs no 50k-row float64 buffer for a batch of 768 ids.
  const slotOf = new Int32Array(numSegments).fill(-1);
  const slotSegment: number[] = [];
  const sums = new Float64Array(Math.min(rows, numSegments) * rowSize);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (!(s >= 0 && s < numSegments)) continue;
    if (slotOf[s] < 0) slotOf[s] = slotSegment.push(s) - 1;
    const to = slotOf[s] * rowSize, from = i * rowSize;
    for (let j = 0; j < rowSize; j++) sums[to + j] += xs[from + j];
  }
  result.fill(0);
  slotSegment.forEach((s, slot) =>
    result.set(sums.subarray(slot * rowSize, (slot + 1) * rowSize), s * rowSize)
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conv2DBackpropFilter

/**
 * `dW[wR, wC, d1, d2] = sum over b, yR, yC of x[b, yR*sH + wR*dH - top, yC*sW + wC*dW - left, d1]
 * * dy[b, yR, yC, d2]` (out-of-range input positions are padding: zero), as
 * `patchesT [K, N] @ dy [N, outC]` with K = fH*fW*inC and N = batch*outH*outW.
 */
function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const x = input(args, "x"), dy = input(args, "dy");
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs & {
    dilations?: number | [number, number];
  };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  if (dataFormat === "NCHW") {
    throw new Error(
      "Conv2DBackpropFilter on wasm supports dataFormat NHWC only (the wasm Conv2D does too); " +
        "transpose the input to NHWC, or use the cpu backend for NCHW",
    );
  }
  assertFloat32(x, "Conv2DBackpropFilter", "x");
  assertFloat32(dy, "Conv2DBackpropFilter", "dy");
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    strides,
    attrs.dilations ?? 1,
    pad,
    dimRoundingMode,
    false,
    "channelsLast",
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    outChannels,
    filterHeight,
    filterWidth,
    strideHeight,
    strideWidth,
    dilationHeight,
    dilationWidth,
  } = info;
  const { top, left } = info.padInfo;
  if (
    dy.shape.length !== 4 || dy.shape[0] !== batchSize || dy.shape[1] !== outHeight ||
    dy.shape[2] !== outWidth || dy.shape[3] !== outChannels
  ) {
    throw new Error(
      `Conv2DBackpropFilter on wasm: dy has shape [${dy.shape}], expected ` +
        `[${batchSize}, ${outHeight}, ${outWidth}, ${outChannels}] for x [${x.shape}], ` +
        `filter [${filterShape}], strides ${strides}, pad ${JSON.stringify(pad)}`,
    );
  }
  const k = filterHeight * filterWidth * inChannels;
  const n = batchSize * outHeight * outWidth;
  const patchesT = backend.makeOutput([k, n], "float32");
  try {
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const p = backend.typedArrayFromHeap(patchesT) as Float32Array;
    const rowStride = inWidth * inChannels, imageStride = inHeight * rowStride;
    // Row (wR, wC, d1) of patchesT holds that filter tap's input value for every output position.
    for (let wR = 0; wR < filterHeight; wR++) {
      for (let wC = 0; wC < filterWidth; wC++) {
        for (let d1 = 0; d1 < inChannels; d1++) {
          let at = ((wR * filterWidth + wC) * inChannels + d1) * n;
          for (let b = 0; b < batchSize; b++) {
            for (let yR = 0; yR < outHeight; yR++) {
              const xR = yR * strideHeight + wR * dilationHeight - top;
              if (xR < 0 || xR >= inHeight) {
                p.fill(0, at, at + outWidth);
                at += outWidth;
                continue;
              }
              const base = b * imageStride + xR * rowStride + d1;
              for (let yC = 0; yC < outWidth; yC++) {
                const xC = yC * strideWidth + wC * dilationWidth - left;
                p[at++] = xC >= 0 && xC < inWidth ? xs[base + xC * inChannels] : 0;
              }
            }
          }
        }
      }
    }
    const dy2d = { dataId: dy.dataId, shape: [n, outChannels], dtype: dy.dtype };
    const dw = runWasmKernel(backend, "BatchMatMul", { a: patchesT, b: dy2d }, {
      transposeA: false,
      transposeB: false,
    });
    return { dataId: dw.dataId, shape: [...filterShape], dtype: "float32" };
  } finally {
    backend.disposeData(patchesT.dataId);
  }
}

// ---------------------------------------------------------------------------------------------
// MaxPoolGrad

/** Routes each `dy` to the (first) maximum of its pooling window, as the cpu backend does. */
function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const dy = input(args, "dy"), x = input(args, "input");
  const { filterSize, strides, pad, dimRoundingMode } = args
    .attrs as unknown as tf.MaxPoolGradAttrs;
  assertFloat32(x, "MaxPoolGrad", "input");
  assertFloat32(dy, "MaxPoolGrad", "dy");
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const {
    batchSize,
    inHeight,
    inWidth,
    inChannels,
    outHeight,
    outWidth,
    strideHeight,
    strideWidth,
    effectiveFilterHeight: fh,
    effectiveFilterWidth: fw,
  } = info;
  const { top, left } = info.padInfo;
  if (tf.util.sizeFromShape(dy.shape) !== batchSize * outHeight * outWidth * inChannels) {
    throw new Error(
      `MaxPoolGrad on wasm: dy has shape [${dy.shape}], expected ` +
        `[${batchSize}, ${outHeight}, ${outWidth}, ${inChannels}] for input [${x.shape}]`,
    );
  }
  const dx = backend.makeOutput(x.shape, "float32");
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  const dxs = backend.typedArrayFromHeap(dx) as Float32Array;
  // Where windows overlap, an input can collect several gradients: add them in float64 (as cpu).
  const overlap = strideHeight < fh || strideWidth < fw;
  const acc: Float32Array | Float64Array = overlap ? new Float64Array(dxs.length) : dxs;
  if (!overlap) dxs.fill(0); // the heap is not zeroed
  const rowStride = inWidth * inChannels, imageStride = inHeight * rowStride;
  let o = 0; // flat index into dy: [b, yR, yC, d]
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      const rCorner = yR * strideHeight - top;
      const rMin = Math.max(0, rCorner), rMax = Math.min(inHeight, rCorner + fh);
      for (let yC = 0; yC < outWidth; yC++) {
        const cCorner = yC * strideWidth - left;
        const cMin = Math.max(0, cCorner), cMax = Math.min(inWidth, cCorner + fw);
        for (let d = 0; d < inChannels; d++, o++) {
          let max = -Infinity, at = -1;
          for (let r = rMin; r < rMax; r++) {
            const rowBase = b * imageStride + r * rowStride + d;
            for (let c = cMin; c < cMax; c++) {
              const v = xs[rowBase + c * inChannels];
              if (v > max) { // strict: the first maximum wins a tie; NaN never wins
                max = v;
                at = rowBase + c * inChannels;
              }
            }
          }
          if (at >= 0) acc[at] += dys[o];
        }
      }
    }
  }
  if (overlap) dxs.set(acc);
  return dx;
}

// ---------------------------------------------------------------------------------------------
// BatchMatMul

/**
 * A `BatchMatMul` kernel on `gemm`: float32 matrices of rank 2 and more, both transpose flags, and
 * leading dimensions that are equal or where one side has a single matrix (the attention products
 * [batch, heads, time, dHead], `[batch, m, k]·[k, n]`, ...): one `gemm` per pair of matrices, or a
 * single tall one when every matrix of a meets the same b. Other cases go to `fallback`.
 */
export function heapBatchMatMul(gemm: HeapGemm, fallback: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const backend = args.backend as BackendWasm;
    const a = input(args, "a"), b = input(args, "b");
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const ra = a.shape.length, rb = b.shape.length;
    if (a.dtype !== "float32" || b.dtype !== "float32" || ra < 2 || rb < 2) {
      return fallback.kernelFunc(args);
    }
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const lead = tf.backend_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
    const batch = tf.util.sizeFromShape(lead);
    // Only "same leading dimensions" or "one side has a single matrix" map to a plain loop.
    if (k !== kb || (batchA !== batch && batchA !== 1) || (batchB !== batch && batchB !== 1)) {
      return fallback.kernelFunc(args);
    }
    const out = backend.makeOutput([...lead, m, n], "float32");
    if (m * n === 0) return out;
    if (k === 0) {
      (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
      return out;
    }
    const offset = (t: tf.TensorInfo) => backend.getMemoryOffset(t.dataId);
    const [aAt, bAt, cAt] = [offset(a), offset(b), offset(out)];
    if (batch === 1 || (batchB === 1 && !transposeA)) {
      // [batch, m, k]·[k, n]: one product of [batch·m, k] by [k, n].
      gemm(backend, transposeA, transposeB, batch * m, n, k, aAt, bAt, cAt);
      return out;
    }
    const sa = batchA === 1 ? 0 : m * k * 4, sb = batchB === 1 ? 0 : k * n * 4, sc = m * n * 4;
    for (let i = 0; i < batch; i++) {
      gemm(backend, transposeA, transposeB, m, n, k, aAt + i * sa, bAt + i * sb, cAt + i * sc);
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Copies the stock kernels make that a training step does not need (measured, bench/profile_step.ts)

/**
 * `Identity` (tf.clone, and the engine's pass-through of gradients) copies its input on wasm. The
 * output shares the input's memory instead, with a reference count, as `Reshape` does on wasm and
 * `Identity` on cpu: tensors are immutable (a Variable's `assign` takes new memory), so no one can
 * tell, and ~450 copies a GPT training step go away.
 */
function identity(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = input(args, "x");
    if (x.dtype === "string") return stock.kernelFunc(args);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

/** `Cast` to the dtype the tensor already has (most gradients cast to float32): no copy either. */
function cast(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = input(args, "x");
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (x.dtype !== dtype || dtype === "string" || dtype === "complex64") {
      return stock.kernelFunc(args);
    }
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype };
  };
}

/**
 * `Sum` over leading axes (the gradient of every bias, of LayerNorm's γ and β): the stock kernel
 * transposes the whole input first to bring the axes innermost. Here the rows are added in place,
 * in order, in float32: the same additions in the same order as the stock kernel, so the same bits.
 * Other axes go to the stock kernel.
 */
function sum(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = input(args, "x");
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (x.dtype !== "float32" || !leading) return stock.kernelFunc(args);
    const backend = args.backend as BackendWasm;
    const rest = x.shape.slice(axes.length);
    const cols = tf.util.sizeFromShape(rest);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const shape = keepDims ? [...axes.map(() => 1), ...rest] : rest;
    const out = backend.makeOutput(shape, "float32");
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const acc = backend.typedArrayFromHeap(out) as Float32Array;
    if (rows === 0) {
      acc.fill(0);
      return out;
    }
    acc.set(xs.subarray(0, cols)); // 0 + x equals x: the stock kernel's first addition
    for (let r = 1; r < rows; r++) {
      const at = r * cols;
      for (let j = 0; j < cols; j++) acc[j] += xs[at + j]; // each store rounds to float32
    }
    return out;
  };
}

/**
 * `SplitV` (tf.split, e.g. Q, K, V out of one projection) copies the whole input once per piece
 * on wasm (one strided slice each). Here each piece copies only its own rows, with `set`.
 */
function splitV(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = input(args, "x");
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    if (x.dtype === "string" || x.dtype === "complex64") return stock.kernelFunc(args);
    const backend = args.backend as BackendWasm;
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const outer = tf.util.sizeFromShape(x.shape.slice(0, ax));
    const inner = tf.util.sizeFromShape(x.shape.slice(ax + 1));
    const rowLength = x.shape[ax] * inner;
    const outs = sizes.map((size) => {
      const shape = [...x.shape];
      shape[ax] = size;
      return backend.makeOutput(shape, x.dtype);
    });
    const xs = backend.typedArrayFromHeap(x); // after every malloc
    let start = 0;
    outs.forEach((out, i) => {
      const piece = sizes[i] * inner;
      const o = backend.typedArrayFromHeap(out);
      for (let r = 0; r < outer; r++) {
        const from = r * rowLength + start;
        o.set(xs.subarray(from, from + piece), r * piece);
      }
      start += piece;
    });
    return outs as unknown as tf.TensorInfo;
  };
}

/** `Pack` (tf.stack) along axis 0: the inputs one after the other, one `set` each. */
function pack(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const values = Object.values(args.inputs) as tf.TensorInfo[];
    const { axis } = args.attrs as unknown as tf.PackAttrs;
    const first = values[0];
    if (
      axis !== 0 || values.length < 2 || first.dtype === "string" ||
      first.dtype === "complex64" ||
      values.some((t) => t.dtype !== first.dtype || !tf.util.arraysEqual(t.shape, first.shape))
    ) {
      return stock.kernelFunc(args);
    }
    const backend = args.backend as BackendWasm;
    const size = tf.util.sizeFromShape(first.shape);
    const out = backend.makeOutput([values.length, ...first.shape], first.dtype);
    const o = backend.typedArrayFromHeap(out);
    values.forEach((t, i) => o.set(backend.typedArrayFromHeap(t), i * size));
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// MaxPool and AvgPool with an empty output

/** Returns the empty output cpu gives when the pooled shape has a 0; otherwise the stock kernel. */
function emptyPoolGuard(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = input(args, "x") as unknown as tf.Tensor4D;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolAttrs;
    const info = tf.backend_util.computePool2DInfo(
      x.shape,
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    if (tf.util.sizeFromShape(info.outShape) > 0) return stock.kernelFunc(args);
    return (args.backend as BackendWasm).makeOutput(info.outShape, x.dtype);
  };
}

/**
 * `GatherV2` along axis 0 of float32 or int32 rows (an embedding lookup): one `set` per row. Out of
 * range ids throw the stock kernel's error.
 */
function gatherRows(stock: tf.KernelConfig): tf.KernelFunc {
  return (args) => {
    const x = input(args, "x"), indices = input(args, "indices");
    const { axis, batchDims = 0 } = args.attrs as unknown as tf.GatherV2Attrs;
    const rowwise = tf.util.parseAxisParam(axis, x.shape)[0] === 0 && batchDims === 0 &&
      (x.dtype === "float32" || x.dtype === "int32") && indices.dtype === "int32";
    if (!rowwise) return stock.kernelFunc(args);
    const backend = args.backend as BackendWasm;
    const rows = x.shape[0], size = tf.util.sizeFromShape(x.shape.slice(1));
    for (const id of backend.typedArrayFromHeap(indices) as Int32Array) {
      if (!(id >= 0 && id < rows)) {
        throw new Error(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`);
      }
    }
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    // Views after makeOutput: a malloc may grow (and detach) the wasm memory.
    const ids = backend.typedArrayFromHeap(indices) as Int32Array;
    const xs = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
    const os = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
    for (let i = 0; i < ids.length; i++) {
      os.set(xs.subarray(ids[i] * size, (ids[i] + 1) * size), i * size);
    }
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Registration

function makeConfig(name: WasmKernelName, stock: tf.KernelConfig | undefined): DojoKernelConfig {
  // The stock kernel's setup (its cwrap) runs again if the backend is ever re-created: the
  // BatchMatMul wrapper calls the stock kernel, and unregisterWasmKernels may put a stock one back.
  const base = {
    kernelName: name,
    backendName: WASM,
    dojoStock: stock ?? null,
    ...(stock?.setupFunc ? { setupFunc: stock.setupFunc } : {}),
    ...(stock?.disposeFunc ? { disposeFunc: stock.disposeFunc } : {}),
  };
  switch (name) {
    case "UnsortedSegmentSum":
      return { ...base, kernelFunc: unsortedSegmentSum as tf.KernelFunc };
    case "Conv2DBackpropFilter":
      return { ...base, kernelFunc: conv2DBackpropFilter as tf.KernelFunc };
    case "MaxPoolGrad":
      return { ...base, kernelFunc: maxPoolGrad as tf.KernelFunc };
    case "BatchMatMul":
      if (stock === undefined) throw new Error("wasm_kernels: the wasm BatchMatMul is missing");
      return { ...base, kernelFunc: heapBatchMatMul(wasmGemm, stock) };
    case "Identity":
    case "Cast":
    case "Sum":
    case "SplitV":
    case "Pack": {
      if (stock === undefined) throw new Error(`wasm_kernels: the wasm ${name} is missing`);
      const make = { Identity: identity, Cast: cast, Sum: sum, SplitV: splitV, Pack: pack }[name];
      return { ...base, kernelFunc: make(stock) };
    }
    case "GatherV2":
      if (stock === undefined) throw new Error("wasm_kernels: the wasm GatherV2 is missing");
      return { ...base, kernelFunc: gatherRows(stock) };
    case "MaxPool":
    case "AvgPool":
      if (stock === undefined) throw new Error(`wasm_kernels: the wasm ${name} is missing`);
      return { ...base, kernelFunc: emptyPoolGuard(stock) };
  }
}

/**
 * Registers (or replaces) the wasm kernels described in this module's documentation. Safe to
 * call any number of times, before or after the wasm backend starts; needs no permission.
 */
export function registerWasmKernels(): void {
  for (const name of WASM_KERNEL_NAMES) {
    const current = tf.getKernel(name, WASM);
    if (isDojo(current)) continue;
    if (current !== undefined) tf.unregisterKernel(name, WASM);
    tf.registerKernel(makeConfig(name, current));
  }
}

/**
 * Puts the stock wasm kernels back (and removes the two that wasm lacks), undoing
 * {@linkcode registerWasmKernels}. For tests that show the gaps; idempotent as well.
 */
export function unregisterWasmKernels(): void {
  for (const name of WASM_KERNEL_NAMES) {
    const current = tf.getKernel(name, WASM);
    if (!isDojo(current)) continue;
    tf.unregisterKernel(name, WASM);
    if (current.dojoStock !== null) tf.registerKernel(current.dojoStock);
  }
}

/** Whether the kernel registered on wasm under `name` is the one from this module. */
export function isWasmKernelPatched(name: WasmKernelName): boolean {
  return isDojo(tf.getKernel(name, WASM));
}
