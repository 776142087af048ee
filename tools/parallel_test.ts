import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import { assertAllClose } from "../lib/assert.ts";
import { rng } from "../lib/random.ts";
import { tf } from "../lib/tf.ts";
import type { ModelConfig, TrainingConfig } from "./checkpoint.ts";
import { createTrainee, disposeTrainee, shardRows, snapshot, trainStep } from "./llm.ts";
import { DataParallel } from "./parallel.ts";
import { disableNativeMatMul, enableNativeMatMul } from "../lib/native_blas.ts";

// Workers load the repository's modules: these tests need --allow-read (deno task test grants it).
const canRead = Deno.permissions.querySync({ name: "read", path: "." }).state === "granted";

const model: ModelConfig = {
  vocabSize: 11,
  blockSize: 8,
  nEmbd: 16,
  nHead: 2,
  nLayer: 2,
  dropout: 0.1,
  tied: true,
};
const training: TrainingConfig = {
  steps: 8,
  batch: 5,
  lr: 1e-2,
  warmup: 2,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  clip: 1,
  seed: 7,
  valFraction: 0.1,
  evalEvery: 4,
};
const u = rng("parallel_test");
const ids = Int32Array.from({ length: 300 }, () => Math.floor(u() * model.vocabSize));

Deno.test("shardRows: every row of the batch in exactly one shard, sizes differ by at most 1", () => {
  for (let batch = 1; batch <= 17; batch++) {
    for (let count = 1; count <= batch; count++) {
      const shards = Array.from({ length: count }, (_, i) => shardRows(batch, i, count));
      strictEqual(shards[0][0], 0);
      strictEqual(shards[count - 1][1], batch);
      shards.forEach(([start, end], i) => {
        if (i > 0) strictEqual(start, shards[i - 1][1], `batch ${batch}, ${count} shards`);
        ok(end > start, `batch ${batch}, ${count} shards: shard ${i} is empty`);
      });
      const sizes = shards.map(([s, e]) => e - s);
      ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `batch ${batch}: sizes ${sizes}`);
    }
  }
});

Deno.test("one thread is kata 12's fit exactly: same losses, same weights and moments", async () => {
  const a = createTrainee(model, training), b = createTrainee(model, training);
  const { trainer } = await DataParallel.start(b, ids, training, { threads: 1, config: model });
  try {
    strictEqual(trainer.threads, 1);
    for (let s = 0; s < 4; s++) {
      strictEqual((await trainer.step(s)).loss, trainStep(a, ids, s, training).loss, `step ${s}`);
    }
    const sa = snapshot(a), sb = snapshot(b);
    sa.forEach((x, i) => deepStrictEqual(sb[i].data, x.data, x.name));
  } finally {
    trainer.close();
    disposeTrainee(a);
    disposeTrainee(b);
  }
});

Deno.test({
  name: "two and three threads: the same steps as one (no dropout), and every replica stays equal",
  ignore: !canRead,
  async fn() {
    const plain = { ...model, dropout: 0 };
    const one = createTrainee(plain, training);
    const want: number[] = [];
    for (let s = 0; s < 4; s++) want.push(trainStep(one, ids, s, training).loss);
    for (const threads of [2, 3]) {
      const t = createTrainee(plain, training);
      const { trainer, notice } = await DataParallel.start(t, ids, training, {
        threads,
        config: plain,
      });
      try {
        strictEqual(notice, undefined);
        strictEqual(trainer.threads, threads);
        const got: number[] = [];
        for (let s = 0; s < 4; s++) got.push((await trainer.step(s)).loss);
        // The same batch split in rows: the same loss and update up to float32 rounding.
        assertAllClose(got, want, { atol: 1e-5, rtol: 1e-5, what: `${threads} threads: losses` });
        const main = snapshot(t);
        snapshot(one).forEach((x, i) =>
          assertAllClose(main[i].data, x.data, { atol: 1e-5, rtol: 1e-4, what: x.name })
        );
        for (const replica of await trainer.snapshots()) {
          main.forEach((x, i) => deepStrictEqual(replica[i].data, x.data, `replica: ${x.name}`));
        }
      } finally {
        trainer.close();
        disposeTrainee(t);
      }
    }
    disposeTrainee(one);
  },
});

Deno.test({
  name: "with dropout the replicas stay bit-identical to the main thread over a resume",
  ignore: !canRead,
  async fn() {
    const t = createTrainee(model, training);
    for (let s = 0; s < 2; s++) trainStep(t, ids, s, training); // moments exist before the split
    const { trainer } = await DataParallel.start(t, ids, training, { threads: 2, config: model });
    try {
      const losses: number[] = [];
      for (let s = 2; s < 6; s++) losses.push((await trainer.step(s)).loss);
      ok(losses.every(Number.isFinite));
      const main = snapshot(t);
      const [replica] = await trainer.snapshots();
      deepStrictEqual(replica.map((x) => x.name), main.map((x) => x.name));
      main.forEach((x, i) => deepStrictEqual(replica[i].data, x.data, x.name));
    } finally {
      trainer.close();
      disposeTrainee(t);
    }
  },
});

Deno.test({
  name: "a non-finite loss on two threads: the trainer's error, and no thread updates",
  ignore: !canRead,
  async fn() {
    const t = createTrainee(model, training);
    t.vars[0].assign(tf.fill(t.vars[0].shape, NaN)); // before the split: the replica has it too
    const before = snapshot(t);
    const { trainer } = await DataParallel.start(t, ids, training, { threads: 2, config: model });
    try {
      strictEqual(trainer.threads, 2);
      await rejects(trainer.step(0), /the loss is NaN at step 0; no update was made/);
      const [replica] = await trainer.snapshots(); // the worker is still there, and unchanged
      for (const now of [snapshot(t), replica]) {
        before.forEach((x, i) => deepStrictEqual(now[i].data, x.data, x.name));
      }
    } finally {
      trainer.close();
      disposeTrainee(t);
    }
  },
});

Deno.test({
  name: "a replica that cannot start leaves the run on one thread, with the reason",
  ignore: !canRead,
  async fn() {
    const t = createTrainee(model, training);
    const other = { ...model, nEmbd: 8 }; // the replica's tensors will not fit this config
    const { trainer, notice } = await DataParallel.start(t, ids, training, {
      threads: 2,
      config: other,
    });
    try {
      strictEqual(trainer.threads, 1);
      ok(notice?.startsWith("training on 1 thread:"), notice);
      ok(notice?.includes("replica: tensor"), notice);
      ok(Number.isFinite((await trainer.step(0)).loss));
    } finally {
      trainer.close();
      disposeTrainee(t);
    }
  },
});

Deno.test({
  name: "without read permission for the modules, training stays on one thread and says why",
  permissions: { read: false },
  async fn() {
    const t = createTrainee(model, training);
    const { trainer, notice } = await DataParallel.start(t, ids, training, {
      threads: 2,
      config: model,
    });
    try {
      strictEqual(trainer.threads, 1);
      strictEqual(
        notice,
        "training on 1 thread: the other 1 need --allow-read for the repository's modules",
      );
      ok(Number.isFinite((await trainer.step(0)).loss));
    } finally {
      trainer.close();
      disposeTrainee(t);
    }
  },
});

const ffi = Deno.permissions.querySync({ name: "ffi" }).state === "granted";

Deno.test({
  name: "on the native BLAS too, the replicas stay bit-identical to the main thread",
  ignore: !canRead || !ffi,
  async fn() {
    if (!enableNativeMatMul({ quiet: true }).native) return; // no library: nothing to compare
    const t = createTrainee(model, training);
    const { trainer, notice } = await DataParallel.start(t, ids, training, {
      threads: 2,
      native: true,
      config: model,
    });
    try {
      strictEqual(notice, undefined);
      for (let s = 0; s < 3; s++) ok(Number.isFinite((await trainer.step(s)).loss));
      const main = snapshot(t);
      const [replica] = await trainer.snapshots();
      main.forEach((x, i) => deepStrictEqual(replica[i].data, x.data, x.name));
    } finally {
      trainer.close();
      disposeTrainee(t);
      disableNativeMatMul();
    }
  },
});
