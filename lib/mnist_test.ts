import assert from "node:assert/strict";
import {
  CLASSES,
  IMAGE_SIZE,
  loadMnist,
  MNIST_COUNTS,
  type MnistSplit,
  mnistTensors,
  PIXELS,
} from "./mnist.ts";
import { tf } from "./tf.ts";

const countsOf = (s: MnistSplit) =>
  Array.from({ length: CLASSES }, (_, d) => s.labels.filter((l) => l === d).length);

/** FNV-1a, 32 bits: a cheap fingerprint of bytes. */
function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The bytes 0..255 of every image, put back in the package's order by their ids. */
function packageBytes(): Uint8Array {
  const { train, test } = loadMnist();
  const all = new Uint8Array(10_000 * PIXELS);
  for (const s of [train, test]) {
    s.ids.forEach((id, row) => {
      for (let p = 0; p < PIXELS; p++) {
        all[id * PIXELS + p] = Math.round(s.images[row * PIXELS + p] * 255);
      }
    });
  }
  return all;
}

Deno.test("loadMnist: 10,000 digits, 8,000 train and 2,000 test, a fifth of each digit held out", () => {
  const { train, test } = loadMnist();
  assert.equal(MNIST_COUNTS.reduce((a, b) => a + b, 0), 10_000);
  assert.equal(train.size, 8000);
  assert.equal(test.size, 2000);
  assert.deepEqual(
    countsOf(train).map((n, d) => n + countsOf(test)[d]),
    MNIST_COUNTS,
    "images per digit in the package",
  );
  assert.deepEqual(countsOf(test), MNIST_COUNTS.map((n) => Math.round(n / 5)));
  assert.deepEqual(countsOf(test), [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]);
  assert.deepEqual(countsOf(train), [801, 902, 793, 826, 784, 690, 811, 856, 755, 782]);
  for (const s of [train, test]) {
    assert.equal(s.images.length, s.size * PIXELS);
    assert.equal(s.labels.length, s.size);
    assert.equal(s.ids.length, s.size);
    assert.ok(s.labels.every((l) => Number.isInteger(l) && l >= 0 && l < CLASSES));
  }
});

Deno.test("loadMnist: the parts are disjoint, cover all 10,000 images, and labels follow the ids", () => {
  const { train, test } = loadMnist();
  const ids = [...train.ids, ...test.ids].sort((a, b) => a - b);
  assert.deepEqual(ids, Array.from({ length: 10_000 }, (_, i) => i));
  // ids count the package's images digit by digit: 0..1000 are zeros, 1001..2127 ones, ...
  const starts = MNIST_COUNTS.map((_, d) => MNIST_COUNTS.slice(0, d).reduce((a, b) => a + b, 0));
  const digitOf = (id: number) => starts.findLastIndex((s) => id >= s);
  for (const s of [train, test]) s.ids.forEach((id, i) => assert.equal(s.labels[i], digitOf(id)));
});

Deno.test("loadMnist: the split and the order are fixed (same on every run) and mixed", () => {
  const { train, test } = loadMnist();
  assert.strictEqual(loadMnist(), loadMnist(), "cached: parsed once");
  // Measured once; a change means the split (SPLIT_SEED, lib/random.ts, seedrandom) changed.
  assert.deepEqual(Array.from(train.ids.slice(0, 5)), [4842, 511, 2417, 6368, 9660]);
  assert.deepEqual(Array.from(test.ids.slice(0, 5)), [2313, 9873, 3195, 4979, 9810]);
  assert.equal(fnv1a(new Uint8Array(train.ids.buffer)), "74505d2f");
  assert.equal(fnv1a(new Uint8Array(test.ids.buffer)), "ad5875c7");
  // Mixed, not sorted by digit: every window of 100 training images holds at least 5 digits.
  for (let i = 0; i + 100 <= train.size; i += 100) {
    assert.ok(new Set(train.labels.slice(i, i + 100)).size >= 5, `images ${i}..${i + 99}`);
  }
});

Deno.test("loadMnist: pixels are bytes / 255 in [0, 1], mostly background", () => {
  const { train, test } = loadMnist();
  for (const s of [train, test]) {
    let min = Infinity, max = -Infinity, sum = 0, offGrid = 0;
    for (const v of s.images) {
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      if (Math.abs(v - Math.fround(Math.round(v * 255) / 255)) > 0) offGrid++;
    }
    assert.equal(min, 0);
    assert.equal(max, 1);
    assert.equal(offGrid, 0, "every pixel is exactly fround(byte / 255)");
    // Measured: mean pixel 0.131 (train); 80.8% of the pixels are exactly 0 (background).
    const mean = sum / s.images.length;
    assert.ok(mean > 0.12 && mean < 0.14, `mean pixel ${mean}`);
  }
});

Deno.test("loadMnist: known image checksums catch a silent change of the data or its format", () => {
  // Package image 5131 is the first "5" (ids 0..5130 are the digits 0 to 4): MNIST's first training
  // image, the 5 printed in every tutorial. Its row 5 and its byte sum are known.
  const { test } = loadMnist();
  const row = test.ids.indexOf(5131);
  assert.equal(row, 1582, "the first 5 is in the test part, at row 1582");
  assert.equal(test.labels[row], 5);
  const bytes = Array.from(
    test.images.subarray(row * PIXELS, (row + 1) * PIXELS),
    (v) => Math.round(v * 255),
  );
  assert.deepEqual(
    bytes.slice(5 * 28, 6 * 28),
    [
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      3,
      18,
      18,
      18,
      126,
      136,
      175,
      26,
      166,
      255,
      247,
      127,
      0,
      0,
      0,
      0,
    ],
  );
  assert.equal(bytes.reduce((a, b) => a + b, 0), 27525);
  // All 10,000 images, in the package's order: one fingerprint.
  assert.equal(fnv1a(packageBytes()), "dba254a3");
});

Deno.test("mnistTensors: x [n, 784] or [n, 28, 28, 1] float32, y [n] int32, the same values", () => {
  const { test } = loadMnist();
  const before = tf.memory().numTensors;
  const flat = mnistTensors(test);
  const image = mnistTensors(test, "image");
  assert.deepEqual(flat.x.shape, [2000, PIXELS]);
  assert.deepEqual(image.x.shape, [2000, IMAGE_SIZE, IMAGE_SIZE, 1]);
  assert.equal(flat.x.dtype, "float32");
  assert.deepEqual(flat.y.shape, [2000]);
  assert.equal(flat.y.dtype, "int32");
  assert.deepEqual(flat.x.dataSync(), test.images);
  assert.deepEqual(image.x.dataSync(), test.images);
  assert.deepEqual(flat.y.dataSync(), test.labels);
  // Pixel (row 5, column 13) of the first 5 is 18/255, in both layouts.
  const r = test.ids.indexOf(5131);
  const [a, b] = tf.tidy(() => [
    flat.x.slice([r, 5 * 28 + 13], [1, 1]).dataSync()[0],
    image.x.slice([r, 5, 13, 0], [1, 1, 1, 1]).dataSync()[0],
  ]);
  assert.equal(a, Math.fround(18 / 255));
  assert.equal(b, Math.fround(18 / 255));
  tf.dispose([flat.x, flat.y, image.x, image.y]);
  assert.equal(tf.memory().numTensors, before);
});
