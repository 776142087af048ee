;; Matrix products for the wasm backend of TensorFlow.js: C = A·B in float32, on the backend's own
;; memory (imported), with 128-bit SIMD and fused multiply-adds (relaxed SIMD). lib/wasm_gemm.ts
;; loads it; lib/gemm.wasm is this file assembled (`deno task build:gemm`).
;;
;; Why not the backend's own matMul: it runs at ~20-28 GFLOP/s on one core (multiplies and adds
;; apart); with fused multiply-adds and a 4x8 block of C held in registers this runs at ~30-40.
;;
;; How: B is first copied into panels of 8 columns (`pack_b`): panel p holds, for k = 0..K-1, the
;; 8 floats B[k, 8p..8p+7] side by side (zeros past N). Then every block of 4 rows of C by 8
;; columns is 8 vector accumulators: for each k, the 4 values A[i..i+3, k] (each broadcast to a
;; vector) times the panel's two vectors at k. Transposes need no copy of A (strides) and are
;; part of the copy of B (strides too). Addresses and strides are in bytes.
(module
  (import "env" "memory" (memory 1))

  ;; bp[(p·K + k)·8 + jj] = B[k, 8p + jj], 0 where 8p + jj >= N. B[k, j] is at b + k·bks + j·bjs.
  ;; Needs K >= 1 and N >= 1; writes ceil(N/8)·K·32 bytes at bp.
  (func (export "pack_b")
    (param $b i32) (param $bp i32) (param $K i32) (param $N i32) (param $bks i32) (param $bjs i32)
    (local $j0 i32) (local $k i32) (local $jj i32) (local $row i32) (local $out i32)
    (local.set $out (local.get $bp))
    (loop $panels
      (local.set $k (i32.const 0))
      (loop $ks
        ;; row: the address of B[k, j0]
        (local.set $row (i32.add (local.get $b)
          (i32.add (i32.mul (local.get $k) (local.get $bks)) (i32.mul (local.get $j0) (local.get $bjs)))))
        (if (i32.and (i32.eq (local.get $bjs) (i32.const 4))
                     (i32.le_u (i32.add (local.get $j0) (i32.const 8)) (local.get $N)))
          (then ;; 8 consecutive floats: two vector copies
            (v128.store (local.get $out) (v128.load (local.get $row)))
            (v128.store offset=16 (local.get $out) (v128.load offset=16 (local.get $row))))
          (else ;; a transposed B, or the last, partial panel: one float at a time
            (local.set $jj (i32.const 0))
            (loop $js
              (f32.store (i32.add (local.get $out) (i32.shl (local.get $jj) (i32.const 2)))
                (if (result f32) (i32.lt_u (i32.add (local.get $j0) (local.get $jj)) (local.get $N))
                  (then (f32.load (i32.add (local.get $row) (i32.mul (local.get $jj) (local.get $bjs)))))
                  (else (f32.const 0))))
              (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
              (br_if $js (i32.lt_u (local.get $jj) (i32.const 8))))))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br_if $ks (i32.lt_u (local.get $k) (local.get $K))))
      (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
      (br_if $panels (i32.lt_u (local.get $j0) (local.get $N)))))

  ;; C[M, N] (row-major, at c) = A·B, with B packed at bp by pack_b. A[i, k] is at a + i·ars + k·aks.
  ;; Needs M, N, K >= 1. scratch: 32 bytes, for the last block when N is not a multiple of 8.
  (func (export "gemm")
    (param $a i32) (param $ars i32) (param $aks i32) (param $bp i32) (param $c i32)
    (param $M i32) (param $N i32) (param $K i32) (param $scratch i32)
    (local $i i32) (local $j0 i32) (local $k i32) (local $pb i32) (local $last i32) (local $n i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32) ;; rows i..i+3 of A
    (local $p0 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) ;; A[i+r, k] as k runs
    (local $x v128) (local $b0 v128) (local $b1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) ;; C[i+r, j0..j0+7]
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $last (i32.sub (local.get $M) (i32.const 1)))
    (loop $is
      ;; Past the last row of A, read the last row again (its results are not stored).
      (local.set $a0 (i32.add (local.get $a) (i32.mul (local.get $ars) (local.get $i))))
      (local.set $a1 (i32.add (local.get $a) (i32.mul (local.get $ars)
        (select (i32.add (local.get $i) (i32.const 1)) (local.get $last)
          (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $M))))))
      (local.set $a2 (i32.add (local.get $a) (i32.mul (local.get $ars)
        (select (i32.add (local.get $i) (i32.const 2)) (local.get $last)
          (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $M))))))
      (local.set $a3 (i32.add (local.get $a) (i32.mul (local.get $ars)
        (select (i32.add (local.get $i) (i32.const 3)) (local.get $last)
          (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $M))))))
      (local.set $j0 (i32.const 0))
      (local.set $pb (local.get $bp))
      (loop $js
        (local.set $c00 (v128.const i32x4 0 0 0 0)) (local.set $c01 (v128.const i32x4 0 0 0 0))
        (local.set $c10 (v128.const i32x4 0 0 0 0)) (local.set $c11 (v128.const i32x4 0 0 0 0))
        (local.set $c20 (v128.const i32x4 0 0 0 0)) (local.set $c21 (v128.const i32x4 0 0 0 0))
        (local.set $c30 (v128.const i32x4 0 0 0 0)) (local.set $c31 (v128.const i32x4 0 0 0 0))
        (local.set $p0 (local.get $a0)) (local.set $p1 (local.get $a1))
        (local.set $p2 (local.get $a2)) (local.set $p3 (local.get $a3))
        (local.set $k (local.get $K))
        (loop $ks
          (local.set $b0 (v128.load (local.get $pb)))
          (local.set $b1 (v128.load offset=16 (local.get $pb)))
          (local.set $x (v128.load32_splat (local.get $p0)))
          (local.set $c00 (f32x4.relaxed_madd (local.get $x) (local.get $b0) (local.get $c00)))
          (local.set $c01 (f32x4.relaxed_madd (local.get $x) (local.get $b1) (local.get $c01)))
          (local.set $x (v128.load32_splat (local.get $p1)))
          (local.set $c10 (f32x4.relaxed_madd (local.get $x) (local.get $b0) (local.get $c10)))
          (local.set $c11 (f32x4.relaxed_madd (local.get $x) (local.get $b1) (local.get $c11)))
          (local.set $x (v128.load32_splat (local.get $p2)))
          (local.set $c20 (f32x4.relaxed_madd (local.get $x) (local.get $b0) (local.get $c20)))
          (local.set $c21 (f32x4.relaxed_madd (local.get $x) (local.get $b1) (local.get $c21)))
          (local.set $x (v128.load32_splat (local.get $p3)))
          (local.set $c30 (f32x4.relaxed_madd (local.get $x) (local.get $b0) (local.get $c30)))
          (local.set $c31 (f32x4.relaxed_madd (local.get $x) (local.get $b1) (local.get $c31)))
          (local.set $p0 (i32.add (local.get $p0) (local.get $aks)))
          (local.set $p1 (i32.add (local.get $p1) (local.get $aks)))
          (local.set $p2 (i32.add (local.get $p2) (local.get $aks)))
          (local.set $p3 (i32.add (local.get $p3) (local.get $aks)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (local.set $k (i32.sub (local.get $k) (i32.const 1)))
          (br_if $ks (local.get $k)))
        ;; n: how many of the 8 columns are inside C
        (local.set $n (i32.sub (local.get $N) (local.get $j0)))
        (call $store (local.get $c) (local.get $i) (local.get $j0) (local.get $N) (local.get $n)
          (local.get $scratch) (local.get $c00) (local.get $c01))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $M)) (then
          (call $store (local.get $c) (i32.add (local.get $i) (i32.const 1)) (local.get $j0)
            (local.get $N) (local.get $n) (local.get $scratch) (local.get $c10) (local.get $c11))))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 2)) (local.get $M)) (then
          (call $store (local.get $c) (i32.add (local.get $i) (i32.const 2)) (local.get $j0)
            (local.get $N) (local.get $n) (local.get $scratch) (local.get $c20) (local.get $c21))))
        (if (i32.lt_u (i32.add (local.get $i) (i32.const 3)) (local.get $M)) (then
          (call $store (local.get $c) (i32.add (local.get $i) (i32.const 3)) (local.get $j0)
            (local.get $N) (local.get $n) (local.get $scratch) (local.get $c30) (local.get $c31))))
        (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
        (br_if $js (i32.lt_u (local.get $j0) (local.get $N))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $is (i32.lt_u (local.get $i) (local.get $M)))))

  ;; C[i, j0..j0+7] = lo, hi; only the first n of them when n < 8 (through scratch).
  (func $store
    (param $c i32) (param $i i32) (param $j0 i32) (param $N i32) (param $n i32) (param $scratch i32)
    (param $lo v128) (param $hi v128)
    (local $dst i32) (local $jj i32)
    (local.set $dst (i32.add (local.get $c)
      (i32.shl (i32.add (i32.mul (local.get $i) (local.get $N)) (local.get $j0)) (i32.const 2))))
    (if (i32.ge_u (local.get $n) (i32.const 8))
      (then
        (v128.store (local.get $dst) (local.get $lo))
        (v128.store offset=16 (local.get $dst) (local.get $hi)))
      (else
        (v128.store (local.get $scratch) (local.get $lo))
        (v128.store offset=16 (local.get $scratch) (local.get $hi))
        (loop $copy
          (f32.store (i32.add (local.get $dst) (i32.shl (local.get $jj) (i32.const 2)))
            (f32.load (i32.add (local.get $scratch) (i32.shl (local.get $jj) (i32.const 2)))))
          (local.set $jj (i32.add (local.get $jj) (i32.const 1)))
          (br_if $copy (i32.lt_u (local.get $jj) (local.get $n)))))))
)
