import assert from "node:assert/strict";
import { type Dataset, makeClassification, trainTestSplit } from "./data.ts";
import { tf } from "./tf.ts";

const rowsOf = (d: Dataset) => d.x.arraySync().map((r) => r.join(","));
const labelsOf = (d: Dataset) => Array.from(d.y.dataSync());
const dispose = (...ds: Dataset[]) => ds.forEach((d) => tf.dispose([d.x, d.y]));
const count = (ys: number[], k: number) => ys.filter((v) => v === k).length;

/** Per-axis mean and standard deviation of the rows of one class. */
function classStats(d: Dataset, label: number) {
  const ys = d.y.dataSync();
  const rows = d.x.arraySync().filter((_, i) => ys[i] === label);
  const nf = d.x.shape[1];
  const mean = Array.from(
    { length: nf },
    (_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length,
  );
  const std = mean.map((m, j) =>
    Math.sqrt(rows.reduce((s, r) => s + (r[j] - m) ** 2, 0) / rows.length)
  );
  return { mean, std };
}

Deno.test("makeClassification: shapes [n, f] and [n], 0/1 labels", () => {
  const d = makeClassification({ nSamples: 101, nFeatures: 3, seed: 1 });
  assert.deepEqual(d.x.shape, [101, 3]);
  assert.deepEqual(d.y.shape, [101]);
  assert.equal(d.x.dtype, "float32");
  assert.equal(d.y.dtype, "float32");
  assert.ok(labelsOf(d).every((v) => v === 0 || v === 1));
  assert.ok(Array.from(d.x.dataSync()).every(Number.isFinite));
  const def = makeClassification({ seed: 1 }); // sklearn-like defaults: 1000 samples, 2 features
  assert.deepEqual(def.x.shape, [1000, 2]);
  assert.deepEqual(def.y.shape, [1000]);
  dispose(d, def);
});

Deno.test("makeClassification: the same seed gives the same data, another seed other data", () => {
  const a = makeClassification({ nSamples: 60, nFeatures: 3, seed: 5 });
  const b = makeClassification({ nSamples: 60, nFeatures: 3, seed: 5 });
  const c = makeClassification({ nSamples: 60, nFeatures: 3, seed: 6 });
  assert.deepEqual(a.x.dataSync(), b.x.dataSync());
  assert.deepEqual(a.y.dataSync(), b.y.dataSync());
  assert.notDeepEqual(a.x.dataSync(), c.x.dataSync());
  assert.notDeepEqual(a.y.dataSync(), c.y.dataSync()); // the samples are shuffled
  dispose(a, b, c);
});

Deno.test("makeClassification: classes are balanced, up to the flipY noise", () => {
  for (const [nSamples, clustersPerClass] of [[200, 1], [101, 1], [103, 2]]) {
    const d = makeClassification({ nSamples, clustersPerClass, flipY: 0, seed: 2 });
    const ys = labelsOf(d);
    assert.ok(Math.abs(count(ys, 1) - count(ys, 0)) <= 1, `${nSamples}: ${count(ys, 1)} ones`);
    dispose(d);
  }
  // flipY = 0.1 redraws the labels of about 100 of 1000 samples, so about 50 change; the features
  // stay the same. Measured (seed 3): 43 labels changed, 503 ones.
  const clean = makeClassification({ flipY: 0, seed: 3 });
  const noisy = makeClassification({ flipY: 0.1, seed: 3 });
  assert.deepEqual(noisy.x.dataSync(), clean.x.dataSync());
  const a = labelsOf(clean), b = labelsOf(noisy);
  const changed = a.filter((v, i) => v !== b[i]).length;
  assert.ok(changed >= 25 && changed <= 75, `${changed} labels changed`);
  assert.ok(Math.abs(count(b, 1) - 500) <= 50, `${count(b, 1)} ones`);
  dispose(clean, noisy);
});

Deno.test("makeClassification: classes sit on hypercube vertices, clearly apart", () => {
  // Measured over seeds 0..4 (1000 samples): class means within 0.15 of +-classSep on every axis;
  // on the best axis the class means differ by 1.36 (classSep 1) and 2.78 (classSep 2) times the
  // larger within-class standard deviation, at least.
  for (const classSep of [1, 2]) {
    for (const nFeatures of [2, 5]) {
      for (let seed = 0; seed < 5; seed++) {
        const d = makeClassification({ nFeatures, classSep, flipY: 0, seed });
        const c0 = classStats(d, 0), c1 = classStats(d, 1);
        const at = `classSep ${classSep}, ${nFeatures} features, seed ${seed}`;
        for (const m of [...c0.mean, ...c1.mean]) {
          assert.ok(Math.abs(Math.abs(m) - classSep) < 0.3, `${at}: a class mean at ${m}`);
        }
        const gaps = c0.mean.map((m, j) => Math.abs(c1.mean[j] - m));
        assert.ok(gaps.some((g) => Math.abs(g - 2 * classSep) < 0.35), `${at}: gaps ${gaps}`);
        const ratio = Math.max(
          ...gaps.map((g, j) => g / Math.max(c0.std[j], c1.std[j])),
        );
        assert.ok(ratio > classSep, `${at}: separation ${ratio}`);
        dispose(d);
      }
    }
  }
});

Deno.test("makeClassification: too many clusters for the features is an error", () => {
  assert.throws(
    () => makeClassification({ nFeatures: 1, clustersPerClass: 2, seed: 1 }),
    (e: unknown) =>
      e instanceof RangeError && /4 clusters need at least 2 features, got 1/.test(e.message),
  );
  assert.throws(
    () => makeClassification({ nFeatures: 2, clustersPerClass: 3, seed: 1 }),
    (e: unknown) =>
      e instanceof RangeError && /6 clusters need at least 3 features, got 2/.test(e.message),
  );
  const before = tf.memory().numTensors;
  const ok = makeClassification({ nSamples: 40, nFeatures: 2, clustersPerClass: 2, seed: 1 });
  assert.equal(tf.memory().numTensors, before + 2); // 4 clusters on the 4 corners of a square
  dispose(ok);
});

Deno.test("trainTestSplit: disjoint parts that add up to the data, labels kept", () => {
  const data = makeClassification({ nSamples: 50, nFeatures: 3, flipY: 0.2, seed: 4 });
  const rows = rowsOf(data), labels = labelsOf(data);
  assert.equal(new Set(rows).size, 50); // every row is distinct, so rows identify samples
  const labelOf = new Map(rows.map((r, i) => [r, labels[i]]));

  const before = tf.memory().numTensors;
  const { train, test } = trainTestSplit(data, { testFraction: 0.2, seed: 1 });
  assert.equal(tf.memory().numTensors, before + 4, "trainTestSplit leaked");
  assert.deepEqual(train.x.shape, [40, 3]);
  assert.deepEqual(train.y.shape, [40]);
  assert.deepEqual(test.x.shape, [10, 3]);
  assert.deepEqual(test.y.shape, [10]);
  const trainRows = rowsOf(train), testRows = rowsOf(test);
  assert.ok(testRows.every((r) => !trainRows.includes(r)), "a sample is in both parts");
  assert.deepEqual([...trainRows, ...testRows].sort(), [...rows].sort());
  trainRows.forEach((r, i) => assert.equal(labelsOf(train)[i], labelOf.get(r)));
  testRows.forEach((r, i) => assert.equal(labelsOf(test)[i], labelOf.get(r)));
  assert.notDeepEqual(trainRows, rows.slice(0, 40)); // shuffled, not cut
  assert.equal(data.x.isDisposed, false);
  dispose(data, train, test);
});

Deno.test("trainTestSplit: deterministic per seed, rounded sizes, default 0.2", () => {
  const data = makeClassification({ nSamples: 50, seed: 8 });
  const a = trainTestSplit(data, { testFraction: 0.25, seed: 2 });
  const b = trainTestSplit(data, { testFraction: 0.25, seed: 2 });
  const c = trainTestSplit(data, { testFraction: 0.25, seed: 3 });
  assert.equal(a.test.y.shape[0], 13); // round(12.5)
  assert.equal(a.train.y.shape[0], 37);
  assert.deepEqual(rowsOf(a.test), rowsOf(b.test));
  assert.deepEqual(rowsOf(a.train), rowsOf(b.train));
  assert.notDeepEqual(rowsOf(a.test), rowsOf(c.test));
  const d = trainTestSplit(data, { seed: 2 });
  assert.equal(d.test.y.shape[0], 10);
  dispose(data, a.train, a.test, b.train, b.test, c.train, c.test, d.train, d.test);
});

Deno.test("trainTestSplit: a fraction that leaves a part empty is an error", () => {
  const data = makeClassification({ nSamples: 20, seed: 1 });
  const before = tf.memory().numTensors;
  for (const testFraction of [0, 0.01, 1, 0.99, -0.5, 1.5, NaN]) {
    assert.throws(
      () => trainTestSplit(data, { testFraction, seed: 1 }),
      (e: unknown) =>
        e instanceof RangeError &&
        e.message ===
          `trainTestSplit: testFraction ${testFraction} of 20 samples leaves a part empty`,
      `testFraction ${testFraction}`,
    );
  }
  assert.equal(tf.memory().numTensors, before);
  const edge = trainTestSplit(data, { testFraction: 0.05, seed: 1 }); // one test sample
  assert.equal(edge.test.y.shape[0], 1);
  dispose(data, edge.train, edge.test);
});
