/**
 * Kata 11 · 训练数据准备 · Training data — the tests.
 *
 * Run: deno test katas/11
 *
 * Checked against plain-JavaScript oracles that walk strings by code point with codePointAt (not
 * with the string iterator the solution uses). Many tests use the stream 0, 1, 2, ..., n − 1,
 * whose every token is its own position: a window then shows exactly where it came from.
 * Measured on the reference solution:
 * - the seed's sentence: 45 characters, 19 in the vocabulary, 40 windows of 5; the seed's one
 *   target per window is our last column; our targets flatten to 200 = 40 · 5, the rows of the
 *   seed's `output.view(-1, vocab_size)`, where the seed has 40 targets
 * - a random 10% of the 984 overlapping windows of 1000 tokens (T = 16) as validation: 99.9% of
 *   the validation targets (1567 of 1568) are targets of training windows too; none with
 *   splitTrainVal before the windows
 * - 2000 draws among 5 possible starts: counts 422, 389, 414, 383, 392 (expected 400, sd 17.9;
 *   seeds 1-20 all within 340..460); the test accepts 300..500. Math.round(u() * 4) instead of
 *   Math.floor(u() * 5) gives 258, 496, 515, 471, 260.
 * @module
 */
import { AssertionError } from "node:assert";
import {
  assertAllClose,
  assertNoLeaks,
  assertShape,
  dims,
  permutation,
  rng,
  tf,
  TodoError,
} from "../../lib/mod.ts";
import {
  buildVocab,
  CharTokenizer,
  getBatch,
  makeWindows,
  prepareCorpus,
  SEED_TEXT,
  seedExamples,
  splitTrainVal,
  windowAt,
} from "./mod.ts";

/** Seeds of the property tests: each one draws its own sizes and data. */
const SEEDS = [1, 2, 3, 4, 5, 6];

/** 李白《静夜思》: Chinese characters and fullwidth punctuation (，is U+FF0C, 。is U+3002). */
const POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。";

/**
 * Characters outside the Basic Multilingual Plane (two UTF-16 units each: 𠀀 U+20000, 𠀁, 😀, 𝄞),
 * a family emoji made of 5 code points (three people joined by U+200D) and an e with a combining
 * accent (2 code points).
 */
const ASTRAL = "𠀀 and 𠀁 (CJK Ext. B), 😀, 𝄞; 👨‍👩‍👧 is 5 code points, é is e + U+0301.";

/** The texts of the round-trip tests, by name. */
const TEXTS: [string, string][] = [
  ["the seed's sentence", SEED_TEXT],
  ["a Tang poem", POEM],
  ["characters outside the BMP", ASTRAL],
];

/** Wraps a test body in `tf.tidy`, so every tensor the test makes is freed, even when it fails. */
function tidy(body: () => void): () => void {
  return () => tf.tidy(body);
}

/** Throws an AssertionError with `message` unless `ok`. */
function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new AssertionError({ message });
}

/** 0, 1, ..., n − 1: a token stream whose every token is its own position. */
function positions(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** `n` seeded random tokens in [0, vocab). */
function randomTokens(n: number, vocab: number, seed: number | string): Int32Array {
  const u = rng(`kata11-tokens:${seed}`);
  return Int32Array.from({ length: n }, () => Math.floor(u() * vocab));
}

/** The rows of an int32 [rows, cols] tensor as plain arrays. */
function rowsOf(t: tf.Tensor): number[][] {
  return t.arraySync() as number[][];
}

const show = (a: ArrayLike<number>) => `[${Array.from(a).join(", ")}]`;

// ---------- oracles: strings walked by hand, code point by code point ----------

/** The code points of `s`, read with codePointAt (a surrogate pair is one code point). */
function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length;) {
    const cp = s.codePointAt(i)!;
    out.push(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

/** The distinct characters of `s`, sorted by code point. */
function vocabOracle(s: string): string[] {
  return [...new Set(codePoints(s))].sort((a, b) => a - b).map((cp) => String.fromCodePoint(cp));
}

/** The id of every character of `s` in `chars`. */
function encodeOracle(s: string, chars: readonly string[]): number[] {
  return codePoints(s).map((cp) => chars.indexOf(String.fromCodePoint(cp)));
}

const hex = (s: string) => `U+${s.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;

/** Calls `fn`, which must throw a `kind` whose message contains every one of `parts`. */
function expectThrows(
  fn: () => unknown,
  kind: RangeErrorConstructor | TypeErrorConstructor,
  parts: string[],
  what: string,
  hint = "",
): Error {
  let error: unknown;
  try {
    const result = fn();
    tf.dispose(result as tf.TensorContainer);
  } catch (e) {
    error = e;
  }
  if (error instanceof TodoError) throw error;
  const named = parts.map((p) => JSON.stringify(p)).join(" and ");
  const wanted = `a ${kind.name}` + (parts.length ? ` whose message names ${named}` : "");
  check(error !== undefined, `${what} returned normally; expected ${wanted}.${hint}`);
  const e = error as Error;
  check(
    e instanceof kind && parts.every((p) => e.message.includes(p)),
    `${what} threw ${e.name}: "${e.message}"; expected ${wanted}.${hint}`,
  );
  return e;
}

// ---------- the tokenizer ----------

Deno.test("buildVocab: every distinct character once, sorted by code point", () => {
  for (const [name, text] of [...TEXTS, ["an empty text", ""]]) {
    const got = buildVocab(text);
    check(Array.isArray(got), `buildVocab(${name}) should return an array of strings`);
    const halves = got.filter((c) => [...c].length !== 1);
    check(
      halves.length === 0,
      `buildVocab(${name}): the entries ${JSON.stringify(halves)} are not one character each. ` +
        "A character is a code point: 𠀀 is one character but two UTF-16 units. Iterate with " +
        '[...text] or new Set(text), not text.split("") or text[i].',
    );
    const want = vocabOracle(text);
    check(
      got.join("\u0000") === want.join("\u0000"),
      `buildVocab(${name}) gave ${got.length} entries ${JSON.stringify(got)}; expected the ` +
        `${want.length} distinct characters sorted by code point: ${JSON.stringify(want)}` +
        (new Set(got).size < got.length ? " (some characters appear twice)" : ""),
    );
  }
  check(
    buildVocab(SEED_TEXT).join("") === " ,.adeghilmnoprstuw",
    `the seed's sentence has the 19 characters " ,.adeghilmnoprstuw", got ` +
      JSON.stringify(buildVocab(SEED_TEXT).join("")),
  );
  // Python's sorted() orders by code point; Array.prototype.sort compares UTF-16 units, in which
  // every character above U+FFFF starts with a surrogate (0xD800..0xDFFF) and so sorts before
  // U+E000..U+FFFF, the fullwidth punctuation of Chinese text included.
  const mixed = "，😀a。𠀀";
  const got = buildVocab(mixed);
  const want = ["a", "。", "，", "😀", "𠀀"];
  check(
    got.join(" ") === want.join(" "),
    `buildVocab(${JSON.stringify(mixed)}) gave ${JSON.stringify(got)} = ` +
      `${got.map(hex).join(" ")}; sorted by code point it is ${JSON.stringify(want)} = ` +
      `${want.map(hex).join(" ")}.` +
      (got.join(" ") === [...new Set(mixed)].sort().join(" ")
        ? " A plain .sort() compares UTF-16 units: 😀 is \\uD83D\\uDE00 and sorts before " +
          '"，" (\\uFF0C). Sort with (a, b) => a.codePointAt(0)! - b.codePointAt(0)!.'
        : ""),
  );
});

Deno.test("encode then decode gives the text back exactly: ASCII, a Tang poem, emoji and 𠀀", () => {
  for (const [name, text] of TEXTS) {
    const tok = CharTokenizer.fromText(text);
    const ids = tok.encode(text);
    check(ids instanceof Int32Array, `encode(${name}) should return an Int32Array`);
    const want = encodeOracle(text, tok.chars);
    check(
      ids.length === want.length,
      `encode(${name}) gave ${ids.length} ids for ${want.length} characters` +
        (ids.length === text.length && text.length !== want.length
          ? ` (${text.length} is the number of UTF-16 units: 𠀀 and 😀 are one character each; ` +
            "walk the text with for (const ch of text))"
          : ""),
    );
    const bad = want.findIndex((id, i) => ids[i] !== id);
    check(
      bad < 0,
      `encode(${name}): the id at position ${bad} is ${ids[bad]}, expected ${want[bad]} ` +
        `(the index of "${tok.chars[want[bad]]}" in the vocabulary)`,
    );
    const back = tok.decode(ids);
    check(
      back === text,
      `decode(encode(${name})) is ${JSON.stringify(back)}, not ${JSON.stringify(text)}`,
    );
    check(tok.decode(Array.from(ids)) === text, `decode should take a number[] too (${name})`);
  }
  // A saved vocabulary restores the tokenizer: the same ids, the same text.
  const saved = JSON.stringify(CharTokenizer.fromText(POEM + SEED_TEXT).chars);
  const restored = new CharTokenizer(JSON.parse(saved));
  const line = "床前明月光，hello world.";
  assertAllClose(restored.encode(line), encodeOracle(line, JSON.parse(saved)), {
    atol: 0,
    rtol: 0,
    what: "encode with a vocabulary restored from JSON",
  });
  check(restored.decode(restored.encode("")) === "", "the empty text encodes to no ids and back");
  // Random texts over a pool of one-, two- and three-byte and four-byte (astral) characters.
  const pool = [..."ab z.，。明月光霜😀𠀀𠀁𝄞\n\u0301"];
  for (const seed of SEEDS) {
    const { length } = dims({ length: [0, 400] }, `kata11-roundtrip:${seed}`);
    const u = rng(`kata11-text:${seed}`);
    const text = Array.from({ length }, () => pool[Math.floor(u() * pool.length)]).join("");
    const tok = new CharTokenizer(vocabOracle(pool.join("")));
    const ids = tok.encode(text);
    assertAllClose(ids, encodeOracle(text, tok.chars), {
      atol: 0,
      rtol: 0,
      what: `encode of a random text of ${length} characters (seed ${seed})`,
    });
    check(tok.decode(ids) === text, `decode(encode(text)) !== text for seed ${seed}`);
  }
});

Deno.test("an unknown character or id is an error that names it and its position", () => {
  const cases: [string, string, string, number, string][] = [
    ["the seed's sentence", SEED_TEXT, "hello World", 6, "W"],
    // 𠀀 takes two UTF-16 units: "你" is character 3 but unit 4.
    ["𠀀ab", "𠀀ab", "ab𠀀你", 3, "你"],
    // The unknown character is itself outside the BMP: name all of it, not half a surrogate pair.
    ["a Tang poem", POEM, "床前明月光，𠀀", 6, "𠀀"],
  ];
  for (const [name, vocabText, text, position, ch] of cases) {
    const tok = CharTokenizer.fromText(vocabText);
    const e = expectThrows(
      () => tok.encode(text),
      RangeError,
      [ch, `position ${position}`],
      `encode(${JSON.stringify(text)}) with the vocabulary of ${name}`,
      ` Count positions in characters (code points): the position of a character is the index ` +
        `of its id in the result.`,
    );
    check(
      !e.message.includes("\ud840\u0022") && !e.message.includes("\u0022\udc00"),
      `the message cuts 𠀀 in half: "${e.message}"`,
    );
  }
  const tok = CharTokenizer.fromText(SEED_TEXT); // 19 characters: ids 0..18
  for (
    const [ids, bad, position] of [[[0, 5, 19], "19", 2], [[-1], "-1", 0], [[3, 1.5], "1.5", 1]]
  ) {
    expectThrows(
      () => tok.decode(ids as number[]),
      RangeError,
      [`${bad}`, `position ${position}`],
      `decode(${JSON.stringify(ids)}) with a vocabulary of 19 (ids 0..18)`,
      " An id that is not an integer in [0, vocabSize) is no token: this.chars[id] is undefined " +
        'and joining would write the word "undefined" into the text.',
    );
  }
});

// ---------- windows ----------

Deno.test("windowAt: the target is the input shifted by one, at every position", () => {
  for (const seed of SEEDS) {
    const d = dims({ n: [2, 80], time: [1, 16] }, `kata11-window:${seed}`);
    const time = Math.min(d.time, d.n - 1), n = d.n;
    const ids = randomTokens(n, 50, seed);
    const last = n - time - 1;
    const u = rng(`kata11-starts:${seed}`);
    const starts = [0, last, ...Array.from({ length: 8 }, () => Math.floor(u() * (last + 1)))];
    for (const start of starts) {
      const { input, target } = windowAt(ids, start, time);
      const name = `windowAt(ids, ${start}, ${time}) in a stream of ${n} (seed ${seed})`;
      check(
        input.length === time && target.length === time,
        `${name}: input and target should hold ${time} tokens each, got ${input.length} and ` +
          `${target.length}`,
      );
      for (let t = 0; t < time; t++) {
        check(
          input[t] === ids[start + t] && target[t] === ids[start + t + 1],
          `${name}, position ${t}: input ${input[t]} and target ${target[t]}; expected ` +
            `ids[${start + t}] = ${ids[start + t]} and ids[${start + t + 1}] = ` +
            `${ids[start + t + 1]}: the target at t is the token AFTER input[t]`,
        );
        if (t + 1 < time) {
          check(
            target[t] === input[t + 1],
            `${name}: target[${t}] must equal input[${t + 1}]`,
          );
        }
      }
    }
    // The last start reaches the last token; one more would need a token past the end.
    expectThrows(
      () => windowAt(ids, last + 1, time),
      RangeError,
      [],
      `windowAt(ids, ${last + 1}, ${time}) in a stream of ${n} (its target would need ` +
        `ids[${n}], past the end)`,
    );
    expectThrows(() => windowAt(ids, -1, time), RangeError, [], `windowAt(ids, -1, ${time})`);
  }
});

Deno.test(
  "makeWindows on the seed's sentence: one target per position, where the seed has one per window",
  tidy(() => {
    const tok = CharTokenizer.fromText(SEED_TEXT);
    const ids = tok.encode(SEED_TEXT);
    const { inputs, targets } = makeWindows(ids, 5); // the seed's sequence_length = 5
    // for i in range(len(text) - sequence_length): 45 - 5 = 40 windows.
    assertShape(inputs, { windows: 40, time: 5 }, "makeWindows(seed sentence, 5).inputs");
    assertShape(targets, { windows: 40, time: 5 }, "makeWindows(seed sentence, 5).targets");
    check(
      inputs.dtype === "int32" && targets.dtype === "int32",
      `token ids must be int32 tensors, got ${inputs.dtype} and ${targets.dtype}`,
    );
    rowsOf(inputs).forEach((row, i) => {
      const [input, target] = [tok.decode(row), tok.decode(rowsOf(targets)[i])];
      const want = [SEED_TEXT.slice(i, i + 5), SEED_TEXT.slice(i + 1, i + 6)];
      check(
        input === want[0] && target === want[1],
        `window ${i}: input "${input}", target "${target}"; expected "${want[0]}" → ` +
          `"${want[1]}" (window 0 is "hello" → "ello ")`,
      );
    });
    // The seed's step 11: one target per window, the character after it: [40].
    const seed = seedExamples(ids, 5);
    assertShape(seed.targets, { windows: 40 }, "the seed's targets");
    assertAllClose(seed.inputs, inputs, { atol: 0, rtol: 0, what: "the seed's inputs vs ours" });
    // Its single target is our last column: per-position targets add the other 4 per window.
    assertAllClose(tf.squeeze(tf.slice(targets, [0, 4], [40, 1]), [1]), seed.targets, {
      atol: 0,
      rtol: 0,
      what: "our targets[:, 4] vs the seed's targets",
    });
    // Its step 12 flattens the output [40, 5, vocab] to [200, vocab]: that needs 200 targets.
    const vocab = tok.vocabSize;
    const rows = tf.reshape(tf.zeros([40, 5, vocab]), [-1, vocab]).shape[0];
    check(
      tf.reshape(targets, [-1]).shape[0] === rows && seed.targets.shape[0] !== rows,
      `the output flattened to [${rows}, ${vocab}] needs ${rows} targets: ours give ` +
        `${targets.size}, the seed's ${seed.targets.size}`,
    );
  }),
);

Deno.test(
  "makeWindows with a stride: the windows at 0, stride, 2·stride, ... and not one past the end",
  tidy(() => {
    for (const seed of SEEDS) {
      const { n, time, stride } = dims(
        { n: [2, 60], time: [1, 12], stride: [1, 12] },
        `kata11-stride:${seed}`,
      );
      const T = Math.min(time, n - 1);
      const count = Math.floor((n - T - 1) / stride) + 1;
      const name = `makeWindows(0..${n - 1}, time ${T}, stride ${stride}) (seed ${seed})`;
      const { inputs, targets } = makeWindows(positions(n), T, stride);
      assertShape(inputs, { windows: count, time: T }, `${name}.inputs`);
      assertShape(targets, { windows: count, time: T }, `${name}.targets`);
      const want = Array.from(
        { length: count },
        (_, k) => [...positions(T)].map((t) => k * stride + t),
      );
      assertAllClose(inputs, want, { atol: 0, rtol: 0, what: `${name}.inputs` });
      assertAllClose(targets, want.map((r) => r.map((p) => p + 1)), {
        atol: 0,
        rtol: 0,
        what: `${name}.targets (each input shifted by one; the last target is at most ${n - 1})`,
      });
    }
    // With stride = time the windows do not overlap: every token but the first is a target once.
    const { targets } = makeWindows(positions(41), 8, 8);
    assertAllClose(tf.reshape(targets, [-1]), [...positions(41)].slice(1), {
      atol: 0,
      rtol: 0,
      what: "the targets of makeWindows(0..40, 8, 8), flattened",
    });
    expectThrows(
      () => makeWindows(positions(5), 5),
      RangeError,
      [],
      "makeWindows of 5 tokens with time 5 (a window needs time + 1 tokens)",
    );
  }),
);

// ---------- the split ----------

Deno.test("splitTrainVal: two contiguous parts, in order, of the stated sizes", () => {
  const { train, val } = splitTrainVal(positions(1000), 0.1);
  check(
    train.length === 900 && val.length === 100,
    `splitTrainVal(1000 tokens, 0.1): expected 900 + 100 tokens, got ${train.length} + ` +
      `${val.length}`,
  );
  for (const seed of SEEDS) {
    const { n } = dims({ n: [2, 500] }, `kata11-split:${seed}`);
    const fraction = [0.05, 0.1, 0.2, 0.5, 0.9][seed % 5];
    const nVal = Math.round(n * fraction);
    const name = `splitTrainVal(0..${n - 1}, ${fraction})`;
    if (nVal < 1 || nVal >= n) {
      expectThrows(() => splitTrainVal(positions(n), fraction), RangeError, [], name);
      continue;
    }
    const { train, val } = splitTrainVal(positions(n), fraction);
    check(
      train.length === n - nVal && val.length === nVal,
      `${name}: expected ${n - nVal} training and ${nVal} validation tokens ` +
        `(nVal = round(n · valFraction)), got ${train.length} and ${val.length}`,
    );
    const badTrain = train.findIndex((p, i) => p !== i);
    const badVal = val.findIndex((p, j) => p !== n - nVal + j);
    check(
      badTrain < 0 && badVal < 0,
      `${name}: train must be the first ${n - nVal} tokens and val the last ${nVal}, in order; ` +
        `train starts ${show(train.slice(0, 8))}, val starts ${show(val.slice(0, 8))}. ` +
        "Do not shuffle: cut the stream in two.",
    );
  }
  for (const fraction of [0, 1, -0.1, 1.5, NaN]) {
    expectThrows(
      () => splitTrainVal(positions(100), fraction),
      RangeError,
      [],
      `splitTrainVal(100 tokens, ${fraction})`,
    );
  }
});

Deno.test(
  "split before windowing: no window crosses the boundary; a random split of windows leaks",
  tidy(() => {
    // Every token is its own position, so a window shows which positions it read.
    const n = 1000, time = 16;
    const { train, val } = splitTrainVal(positions(n), 0.1); // positions 0..899 | 900..999
    const cut = train.length;
    const fromTrain = getBatch(train, { batch: 256, time, seed: 1 });
    const fromVal = getBatch(val, { batch: 256, time, seed: 1 });
    const [trainMax, valMin] = [
      Math.max(...fromTrain.targets.dataSync(), ...fromTrain.inputs.dataSync()),
      Math.min(...fromVal.inputs.dataSync(), ...fromVal.targets.dataSync()),
    ];
    check(
      trainMax < cut && valMin >= cut,
      `batches of the training part read positions up to ${trainMax}, batches of the ` +
        `validation part from ${valMin}; the parts are 0..${cut - 1} and ${cut}..${n - 1}`,
    );
    // A random 10% of the overlapping windows as validation (the mistake) against the split.
    const all = makeWindows(positions(n), time);
    const windows = all.inputs.shape[0]; // 984
    const order = permutation(windows, "kata11-random-split");
    const valRows = new Set(order.slice(0, Math.round(windows * 0.1)));
    const trainTargets = new Set<number>(), valTargets: number[] = [];
    rowsOf(all.targets).forEach((row, k) =>
      valRows.has(k) ? valTargets.push(...row) : row.forEach((p) => trainTargets.add(p))
    );
    const leaked = valTargets.filter((p) => trainTargets.has(p)).length / valTargets.length;
    // Measured: 99.9% (1567 of 1568). Each validation window overlaps 15 windows on each side.
    check(
      leaked > 0.9,
      `with a random split of windows, ${(100 * leaked).toFixed(1)}% of the validation targets ` +
        "are also training targets; expected nearly all (are the windows of makeWindows " +
        "overlapping, at stride 1?)",
    );
    const trainSeen = new Set(makeWindows(train, time).targets.dataSync());
    const valSeen = makeWindows(val, time).targets.dataSync();
    const shared = valSeen.filter((p) => trainSeen.has(p)).length;
    check(
      shared === 0,
      `splitting the stream first, ${shared} validation targets are still training targets; ` +
        "expected none",
    );
  }),
);

// ---------- batches ----------

Deno.test(
  "getBatch: int32 inputs and targets [batch, time], each row a window, target = input shifted",
  tidy(() => {
    for (const seed of SEEDS) {
      const { batch, time, extra } = dims(
        { batch: [1, 16], time: [1, 24], extra: [1, 60] },
        `kata11-batch:${seed}`,
      );
      const n = time + extra;
      const name = `getBatch(0..${n - 1}, { batch: ${batch}, time: ${time} }) (seed ${seed})`;
      const { inputs, targets } = getBatch(positions(n), { batch, time, seed });
      assertShape(inputs, { batch, time }, `${name}.inputs`);
      assertShape(targets, { batch, time }, `${name}.targets`);
      check(
        inputs.dtype === "int32" && targets.dtype === "int32",
        `${name}: inputs and targets must be int32 (tf.tensor2d(array, [batch, time], ` +
          `"int32")), got ${inputs.dtype} and ${targets.dtype}: token ids are row numbers for ` +
          "tf.gather, not quantities",
      );
      const ti = rowsOf(targets);
      rowsOf(inputs).forEach((row, b) => {
        const start = row[0];
        const want = row.map((_, t) => start + t);
        check(
          row.every((p, t) => p === want[t]),
          `${name}, row ${b}: ${show(row)} is not a window of the stream: expected ${time} ` +
            `consecutive tokens from a start in 0..${n - time - 1}`,
        );
        check(
          start >= 0 && start <= n - time - 1,
          `${name}, row ${b} starts at ${start}, but the last valid start is ${n - time - 1}: ` +
            `its target would need token ${start + time}, past the end of the ${n} tokens. ` +
            `There are ids.length - time = ${n - time} starts: Math.floor(u() * ${n - time}).`,
        );
        const bad = ti[b].findIndex((p, t) => p !== want[t] + 1);
        check(
          bad < 0,
          `${name}, row ${b}, position ${bad}: target ${ti[b][bad]}, expected ${want[bad] + 1} ` +
            `(the token after input ${want[bad]})`,
        );
      });
    }
    // On real text: each row decodes to a piece of the poem, and the target row to the next one.
    const text = POEM.repeat(3);
    const tok = CharTokenizer.fromText(text);
    const { inputs, targets } = getBatch(tok.encode(text), { batch: 8, time: 6, seed: 3 });
    rowsOf(inputs).forEach((row, b) => {
      const [x, y] = [tok.decode(row), tok.decode(rowsOf(targets)[b])];
      check(
        text.includes(x + y.slice(-1)) && x.slice(1) === y.slice(0, -1),
        `row ${b}: input "${x}", target "${y}": the target must be the input moved on by one ` +
          "character",
      );
    });
  }),
);

Deno.test(
  "getBatch is reproducible: the same seed gives the same batch, another seed another",
  tidy(() => {
    const ids = randomTokens(500, 30, "repro");
    const draw = (opts: { seed?: number | string; rng?: () => number }) => {
      const { inputs, targets } = getBatch(ids, { batch: 8, time: 12, ...opts });
      return JSON.stringify([rowsOf(inputs), rowsOf(targets)]);
    };
    check(draw({ seed: 1 }) === draw({ seed: 1 }), "seed 1 gave two different batches");
    check(draw({ seed: "7:120" }) === draw({ seed: "7:120" }), "a string seed must work too");
    check(
      draw({ seed: 1 }) !== draw({ seed: 2 }),
      "seeds 1 and 2 gave the same batch: draw the starts from the seeded generator",
    );
    // { seed: s } draws exactly what { rng: rng(s) } does; a generator advances between batches.
    check(draw({ rng: rng(5) }) === draw({ seed: 5 }), "{ seed: 5 } must equal { rng: rng(5) }");
    const u = rng(9);
    const [first, second] = [draw({ rng: u }), draw({ rng: u })];
    check(first !== second, "two batches from one generator should differ");
    const v = rng(9);
    check(
      draw({ rng: v }) === first && draw({ rng: v }) === second,
      "the same generator, re-created, must give the same sequence of batches",
    );
  }),
);

Deno.test(
  "getBatch stays in range and draws every window equally often, the last one included",
  tidy(() => {
    const time = 7;
    // time + 1 tokens hold exactly one window: every row must be it.
    const one = getBatch(positions(time + 1), { batch: 64, time, seed: 4 });
    assertAllClose(one.inputs, Array.from({ length: 64 }, () => [...positions(time)]), {
      atol: 0,
      rtol: 0,
      what: `getBatch of ${time + 1} tokens with time ${time}: the only window, 0..${time - 1} ` +
        "(a start past 0 would read past the end of the stream)",
    });
    assertAllClose(
      one.targets,
      Array.from({ length: 64 }, () => [...positions(time)].map((p) => p + 1)),
      {
        atol: 0,
        rtol: 0,
        what: `getBatch of ${time + 1} tokens: the targets 1..${time}`,
      },
    );
    // time + 5 tokens: 5 possible starts, 2000 draws. Measured 422, 389, 414, 383, 392.
    const { inputs } = getBatch(positions(time + 5), { batch: 2000, time, seed: 11 });
    const counts = [0, 0, 0, 0, 0];
    for (const row of rowsOf(inputs)) counts[row[0]] = (counts[row[0]] ?? 0) + 1;
    check(
      counts.length === 5 && counts.every((c) => c >= 300 && c <= 500),
      `2000 windows from ${time + 5} tokens (time ${time}): each of the 5 starts 0..4 should be ` +
        `drawn about 400 times, got ${show(counts)}. Draw starts with ` +
        "Math.floor(u() * (ids.length - time)): Math.round halves the chances of both ends, " +
        "and ids.length - time - 1 never draws the last window.",
    );
    expectThrows(
      () => getBatch(positions(time), { batch: 2, time, seed: 1 }),
      RangeError,
      [],
      `getBatch of ${time} tokens with time ${time} (no window: it needs ${time + 1} tokens)`,
    );
  }),
);

Deno.test("getBatch and makeWindows leak no tensor: only the two they return survive", () => {
  const ids = randomTokens(300, 20, "leaks");
  for (
    const [name, make] of [
      ["getBatch", () => getBatch(ids, { batch: 4, time: 10, seed: 1 })],
      ["makeWindows", () => makeWindows(ids, 10, 3)],
    ] as const
  ) {
    const before = tf.memory().numTensors;
    const batch = assertNoLeaks(make, { what: name });
    const made = tf.memory().numTensors - before;
    check(
      made === 2 && batch.inputs !== batch.targets,
      `${name} should leave exactly 2 new tensors alive (inputs and targets), found ${made}`,
    );
    tf.dispose([batch.inputs, batch.targets]);
  }
});

Deno.test("prepareCorpus: the vocabulary covers the whole text, then the stream is split", () => {
  // The last quarter of the poem, "低头思故乡。", has 4 characters found nowhere before it.
  const { tokenizer, train, val } = prepareCorpus(POEM, { valFraction: 0.25 });
  check(
    tokenizer.vocabSize === vocabOracle(POEM).length,
    `the vocabulary should have the ${vocabOracle(POEM).length} characters of the whole text, ` +
      `got ${tokenizer.vocabSize}`,
  );
  const [a, b] = [tokenizer.decode(train), tokenizer.decode(val)];
  check(
    a === "床前明月光，疑是地上霜。举头望明月，" && b === "低头思故乡。",
    `train and val decode to "${a}" and "${b}"; expected the first 18 characters and the last 6`,
  );
});
