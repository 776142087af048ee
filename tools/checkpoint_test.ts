import { deepStrictEqual, ok, rejects, strictEqual } from "node:assert/strict";
import {
  type Checkpoint,
  CheckpointError,
  type CheckpointHeader,
  decodeCheckpoint,
  encodeCheckpoint,
  MemoryByteFs,
  mismatches,
  type NamedArray,
  readCheckpoint,
  textHash,
  writeAtomic,
} from "./checkpoint.ts";

type Header = Omit<CheckpointHeader, "tensors" | "dataBytes" | "format" | "version">;

function header(overrides: Partial<Header> = {}): Header {
  return {
    step: 30,
    model: {
      vocabSize: 3,
      blockSize: 8,
      nEmbd: 4,
      nHead: 2,
      nLayer: 1,
      dropout: 0.1,
      tied: true,
    },
    training: {
      steps: 100,
      batch: 4,
      lr: 3e-3,
      warmup: 10,
      minLrRatio: 0.1,
      weightDecay: 0.1,
      clip: 1,
      seed: 1,
      valFraction: 0.1,
      evalEvery: 10,
    },
    vocab: ["\n", "月", "𠀀"],
    corpus: { name: "poems.txt", sha256: "ab".repeat(32), chars: 500, start: "月" },
    optimizer: { name: "AdamW", step: 30, beta1: 0.9, beta2: 0.999, eps: 1e-8 },
    history: { train: [[1, 1.5], [2, 1.25]], val: [[2, 1.4]], resumes: [] },
    seconds: 12.5,
    savedAt: "2025-01-01T00:00:00.000Z",
    ...overrides,
  };
}

const tensors: NamedArray[] = [
  { name: "wte", shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5) },
  { name: "head.b", shape: [3], data: new Float32Array([1e-8, -3.25, Infinity]) },
  { name: "opt.m/wte", shape: [3, 4], data: new Float32Array(12).fill(0.125) },
];

async function bytes(): Promise<Uint8Array> {
  return await encodeCheckpoint(header(), tensors);
}

async function refused(data: Uint8Array, pattern: RegExp): Promise<void> {
  await rejects(() => decodeCheckpoint(data, "run.ckpt"), (error: Error) => {
    ok(error instanceof CheckpointError, `expected a CheckpointError, got ${error}`);
    ok(pattern.test(error.message), `"${error.message}" should match ${pattern}`);
    ok(error.message.startsWith("run.ckpt: "), "the message names the file");
    return true;
  });
}

Deno.test("a checkpoint round-trips: header, vocabulary outside the BMP, tensors bit for bit", async () => {
  const ckpt = await decodeCheckpoint(await bytes());
  const { tensors: list, dataBytes, format, version, ...rest } = ckpt.header;
  deepStrictEqual(rest, header());
  strictEqual(format, "llm-dojo-checkpoint");
  strictEqual(version, 1);
  strictEqual(dataBytes, 4 * (12 + 3 + 12));
  deepStrictEqual(list.map((t) => t.name), ["wte", "head.b", "opt.m/wte"]);
  for (const t of tensors) deepStrictEqual(ckpt.tensors.get(t.name), t);
});

Deno.test("a truncated checkpoint is refused, wherever it was cut", async () => {
  const data = await bytes();
  for (const size of [10, 40, data.length - 100, data.length - 33, data.length - 1]) {
    await refused(data.subarray(0, size), /truncated \(文件不完整\)/);
  }
  await refused(data.subarray(0, data.length - 1), /1 fewer than its header announces/);
});

Deno.test("a changed byte, extra bytes, another file or an empty file are refused", async () => {
  const data = await bytes();
  const flipped = data.slice();
  flipped[data.length - 40] ^= 1; // a tensor value
  await refused(flipped, /checksum does not match/);
  const hash = data.slice();
  hash[data.length - 1] ^= 0x80; // the checksum itself
  await refused(hash, /checksum does not match/);
  const longer = new Uint8Array(data.length + 3);
  longer.set(data);
  await refused(longer, /3 bytes more than its header announces/);
  await refused(new TextEncoder().encode("just some text, not a checkpoint"), /not an LLM Dojo/);
  await refused(new Uint8Array(0), /empty/);
  const badJson = data.slice();
  badJson[12] = "x".charCodeAt(0); // the header's opening brace
  await refused(badJson, /header is not valid JSON/);
});

Deno.test("a header with missing or wrong fields is refused, naming them", async () => {
  const broken = await encodeCheckpoint(
    header({
      step: -1,
      vocab: ["a", "bc", "d"],
      model: { ...header().model, nHead: 0 },
    }),
    tensors,
  );
  await refused(broken, /bad header fields: step, model\.nHead, vocab/);
});

Deno.test("encodeCheckpoint refuses tensors whose data does not fit their shape", async () => {
  await rejects(
    () => encodeCheckpoint(header(), [{ name: "x", shape: [2, 2], data: new Float32Array(3) }]),
    /3 values, shape \[2,2\]/,
  );
  await rejects(() => encodeCheckpoint(header(), [tensors[0], tensors[0]]), /two tensors/);
});

Deno.test("mismatches: vocabulary, model, training settings and corpus", async () => {
  const ckpt: Checkpoint = await decodeCheckpoint(await bytes());
  const h = ckpt.header;
  deepStrictEqual(
    mismatches(h, {
      vocab: ["\n", "月", "𠀀"],
      model: { nLayer: 1 },
      training: { seed: 1 },
      corpusSha256: "ab".repeat(32),
    }),
    [],
  );
  const [vocab] = mismatches(h, { vocab: ["\n", "月", "日", "山"] });
  ok(/3 tokens in the checkpoint, 4 in this corpus/.test(vocab), vocab);
  ok(/new here: "日" "山"; only in the checkpoint: "𠀀"/.test(vocab), vocab);
  deepStrictEqual(mismatches(h, { vocab: ["月", "\n", "𠀀"] }), [
    "the vocabulary has the same characters in another order (词表顺序不同)",
  ]);
  deepStrictEqual(mismatches(h, { model: { nEmbd: 8, tied: false }, training: { batch: 4 } }), [
    "model.nEmbd is 4 in the checkpoint, 8 here",
    "model.tied is true in the checkpoint, false here",
  ]);
  const [corpus] = mismatches(h, { corpusSha256: await textHash("another text") });
  ok(/trained on another text \(语料不同\): "poems.txt", 500 characters/.test(corpus), corpus);
});

Deno.test("textHash is the SHA-256 of the UTF-8 bytes", async () => {
  strictEqual(
    await textHash("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("writeAtomic replaces the file whole, and leaves it untouched when writing fails", async () => {
  const fs = new MemoryByteFs();
  const first = new Uint8Array([1, 2, 3]);
  await writeAtomic(fs, ".dojo/runs/a.ckpt", first);
  deepStrictEqual(fs.files.get(".dojo/runs/a.ckpt"), first);
  fs.failOn.rename = () => true; // e.g. the disk filled up: the new file never replaces the old
  await rejects(() => writeAtomic(fs, ".dojo/runs/a.ckpt", new Uint8Array([9])), /denied/);
  deepStrictEqual(fs.files.get(".dojo/runs/a.ckpt"), first);
  deepStrictEqual([...fs.files.keys()], [".dojo/runs/a.ckpt"], "no temporary file is left");
  fs.failOn = { writeFile: () => true };
  await rejects(() => writeAtomic(fs, ".dojo/runs/a.ckpt", new Uint8Array([9])), /denied/);
  deepStrictEqual([...fs.files.keys()], [".dojo/runs/a.ckpt"]);
});

Deno.test("readCheckpoint: a missing file or a folder gets a clear message", async () => {
  const fs = new MemoryByteFs();
  await fs.mkdir(".dojo/runs");
  await rejects(() => readCheckpoint(fs, ".dojo/runs/none.ckpt"), (e: Error) => {
    ok(e instanceof CheckpointError);
    strictEqual(e.message, ".dojo/runs/none.ckpt: no such checkpoint (找不到检查点)");
    return true;
  });
  await rejects(() => readCheckpoint(fs, ".dojo/runs"), /is a folder/);
  await writeAtomic(fs, ".dojo/runs/ok.ckpt", await bytes());
  strictEqual((await readCheckpoint(fs, ".dojo/runs/ok.ckpt")).header.step, 30);
  const cut = (await bytes()).subarray(0, 200);
  await writeAtomic(fs, ".dojo/runs/cut.ckpt", cut);
  await rejects(() => readCheckpoint(fs, ".dojo/runs/cut.ckpt"), /cut\.ckpt: truncated/);
});
