/**
 * Checkpoints of `deno task train`: one binary file with everything needed to resume a run or to
 * generate from it (weights, optimizer state, step, vocabulary, configuration, loss history),
 * protected by a SHA-256 checksum and written atomically. Pure encoding and decoding, plus a small
 * file interface ({@linkcode ByteFs}) so that the tests run in memory, without permissions.
 *
 * The layout (all integers little-endian):
 *
 * ```
 * "DOJOCKPT"            8 bytes, the magic
 * H                     uint32, the length of the header in bytes
 * header                H bytes of UTF-8 JSON: see CheckpointHeader; it lists the tensors
 * data                  float32 values of every tensor, in the header's order (dataBytes bytes)
 * SHA-256               32 bytes, of everything before it
 * ```
 *
 * A file that is cut short, changed, or written by something else is refused with a message that
 * says which; so is a checkpoint whose vocabulary or model does not match the run that wants it
 * ({@linkcode mismatches}).
 * @module
 */

/** The first bytes of every checkpoint. */
export const MAGIC = "DOJOCKPT";
/** The version of the layout and of the header's fields. */
export const VERSION = 1;
const FORMAT = "llm-dojo-checkpoint";
const HASH_BYTES = 32;

/** A checkpoint that cannot be used: unreadable, corrupt, or not for this run. */
export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** The model's sizes and options, as the trainer builds it. */
export interface ModelConfig {
  vocabSize: number;
  blockSize: number;
  nEmbd: number;
  nHead: number;
  nLayer: number;
  /** Dropout rate while training (kata 14); 0 = none. */
  dropout: number;
  /** Whether the output head reuses the token embedding (kata 14's weight tying). */
  tied: boolean;
}

/** The settings of a run that a resumed run must keep (so that its batches and schedule match). */
export interface TrainingConfig {
  /** The planned number of steps (the learning-rate schedule spans them). */
  steps: number;
  batch: number;
  lr: number;
  /** Steps of linear learning-rate warm-up before the cosine decay. */
  warmup: number;
  /** The learning rate at the end of the cosine, as a fraction of lr. */
  minLrRatio: number;
  weightDecay: number;
  clip: number;
  seed: number;
  valFraction: number;
  /** Steps between evaluations (and checkpoints). */
  evalEvery: number;
}

/** Losses seen so far: [step, loss] pairs. `step` counts steps done (1 after the first). */
export interface LossHistory {
  train: [number, number][];
  val: [number, number][];
  /** Steps at which a run was resumed (drawn on the loss curve). */
  resumes: number[];
}

/** Where the text came from; `sha256` identifies it exactly. */
export interface CorpusInfo {
  name: string;
  sha256: string;
  /** Length in characters (code points). */
  chars: number;
  /** Its first character: `deno task generate`'s default prompt. */
  start: string;
}

/** The optimizer's scalars; its moment tensors are stored as tensors named `opt/...`. */
export interface OptimizerInfo {
  name: string;
  /** Updates done (the bias correction of AdamW depends on it). */
  step: number;
  beta1: number;
  beta2: number;
  eps: number;
}

/** Everything in a checkpoint but the tensor values. */
export interface CheckpointHeader {
  format: typeof FORMAT;
  version: typeof VERSION;
  /** Steps done. */
  step: number;
  model: ModelConfig;
  training: TrainingConfig;
  /** The tokenizer's vocabulary: token id i is vocab[i]. */
  vocab: string[];
  corpus: CorpusInfo;
  optimizer: OptimizerInfo;
  history: LossHistory;
  /** Seconds spent training, over every run that led here. */
  seconds: number;
  savedAt: string;
  tensors: { name: string; shape: number[] }[];
  /** Bytes of tensor data after the header. */
  dataBytes: number;
}

/** A named float32 tensor, as plain data. */
export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A checkpoint in memory. */
export interface Checkpoint {
  header: CheckpointHeader;
  tensors: Map<string, NamedArray>;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/** The SHA-256 of a text's UTF-8 bytes, as hex: identifies a corpus. */
export async function textHash(text: string): Promise<string> {
  const digest = await sha256(new TextEncoder().encode(text));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bytes of a checkpoint. `header.tensors` and `header.dataBytes` are filled in here. */
export async function encodeCheckpoint(
  header: Omit<CheckpointHeader, "tensors" | "dataBytes" | "format" | "version">,
  tensors: readonly NamedArray[],
): Promise<Uint8Array> {
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) throw new RangeError(`two tensors are named "${t.name}"`);
    names.add(t.name);
    if (t.data.length !== sizeOf(t.shape)) {
      throw new RangeError(`tensor "${t.name}" has ${t.data.length} values, shape [${t.shape}]`);
    }
  }
  const dataBytes = tensors.reduce((n, t) => n + 4 * t.data.length, 0);
  const full: CheckpointHeader = {
    format: FORMAT,
    version: VERSION,
    ...header,
    tensors: tensors.map(({ name, shape }) => ({ name, shape: [...shape] })),
    dataBytes,
  };
  const json = new TextEncoder().encode(JSON.stringify(full));
  const body = 8 + 4 + json.length + dataBytes;
  const out = new Uint8Array(body + HASH_BYTES);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  let at = 12 + json.length;
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i], true);
  }
  out.set(await sha256(out.subarray(0, body)), body);
  return out;
}

const isInt = (x: unknown, min = 0): x is number => Number.isInteger(x) && (x as number) >= min;
const isNum = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);
const isPairs = (x: unknown) =>
  Array.isArray(x) && x.every((p) => Array.isArray(p) && p.length === 2 && p.every(isNum));

/** The fields of a header that are missing or of the wrong type (empty when it is sound). */
export function headerProblems(h: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const need = (ok: boolean, what: string) => ok || problems.push(what);
  const obj = (x: unknown) =>
    (typeof x === "object" && x !== null ? x : {}) as Record<
      string,
      unknown
    >;
  const m = obj(h.model), t = obj(h.training), c = obj(h.corpus), o = obj(h.optimizer);
  const hist = obj(h.history);
  need(isInt(h.step), "step");
  for (const k of ["vocabSize", "blockSize", "nEmbd", "nHead", "nLayer"]) {
    need(isInt(m[k], 1), `model.${k}`);
  }
  need(isNum(m.dropout) && m.dropout >= 0 && m.dropout < 1, "model.dropout");
  need(typeof m.tied === "boolean", "model.tied");
  for (const k of ["steps", "batch", "seed", "evalEvery"]) need(isInt(t[k], 1), `training.${k}`);
  for (const k of ["lr", "warmup", "minLrRatio", "weightDecay", "clip", "valFraction"]) {
    need(isNum(t[k]), `training.${k}`);
  }
  need(
    Array.isArray(h.vocab) && h.vocab.length === m.vocabSize &&
      h.vocab.every((ch) => typeof ch === "string" && [...ch].length === 1),
    "vocab (one character per token, vocabSize of them)",
  );
  need(
    typeof c.name === "string" && typeof c.sha256 === "string" && isInt(c.chars) &&
      typeof c.start === "string",
    "corpus",
  );
  need(
    typeof o.name === "string" && isInt(o.step) && isNum(o.beta1) && isNum(o.beta2) &&
      isNum(o.eps),
    "optimizer",
  );
  need(isPairs(hist.train) && isPairs(hist.val), "history");
  need(Array.isArray(hist.resumes) && hist.resumes.every((s) => isInt(s)), "history.resumes");
  need(isNum(h.seconds), "seconds");
  need(
    Array.isArray(h.tensors) &&
      h.tensors.every((x) => {
        const e = obj(x);
        return typeof e.name === "string" && Array.isArray(e.shape) &&
          e.shape.every((d) => isInt(d));
      }),
    "tensors",
  );
  need(isInt(h.dataBytes), "dataBytes");
  return problems;
}

/**
 * Reads a checkpoint from its bytes, checking in this order: the magic, the header, the length
 * (a file cut short says how many bytes are missing), the checksum, the tensors. Throws a
 * {@linkcode CheckpointError} that says what is wrong; `what` names the file in messages.
 */
export async function decodeCheckpoint(
  bytes: Uint8Array,
  what = "checkpoint",
): Promise<Checkpoint> {
  const fail = (why: string): never => {
    throw new CheckpointError(`${what}: ${why}`);
  };
  if (bytes.length === 0) fail("the file is empty (文件为空)");
  const magic = new TextEncoder().encode(MAGIC);
  if (!magic.subarray(0, Math.min(8, bytes.length)).every((b, i) => b === bytes[i])) {
    fail(`not an LLM Dojo checkpoint (它不是检查点文件): it does not start with "${MAGIC}"`);
  }
  if (bytes.length < 12) {
    fail(`truncated (文件不完整): ${bytes.length} bytes, not even the start of a header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(8, true);
  if (12 + headerBytes > bytes.length) {
    fail(
      `truncated (文件不完整): the header alone needs ${12 + headerBytes} bytes, the file has ` +
        `${bytes.length}. It was cut short (a copy or a download that did not finish?).`,
    );
  }
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(12, 12 + headerBytes),
    ));
  } catch {
    return fail("corrupt (文件已损坏): its header is not valid JSON");
  }
  if (typeof header !== "object" || header === null || header.format !== FORMAT) {
    fail("corrupt (文件已损坏): its header is not a checkpoint header");
  }
  if (header.version !== VERSION) {
    fail(
      `written in format version ${header.version}; this version of the dojo reads version ` +
        `${VERSION} (版本不兼容)`,
    );
  }
  const problems = headerProblems(header as unknown as Record<string, unknown>);
  if (problems.length) fail(`corrupt (文件已损坏): bad header fields: ${problems.join(", ")}`);
  const body = 12 + headerBytes + header.dataBytes;
  if (bytes.length !== body + HASH_BYTES) {
    const missing = body + HASH_BYTES - bytes.length;
    fail(
      missing > 0
        ? `truncated (文件不完整): ${bytes.length} bytes, ${missing} fewer than its header ` +
          `announces (${
            body + HASH_BYTES
          }). It was cut short (a copy, a download or a write that ` +
          `did not finish?).`
        : `corrupt (文件已损坏): ${-missing} bytes more than its header announces`,
    );
  }
  const expected = await sha256(bytes.subarray(0, body));
  const stored = bytes.subarray(body);
  if (!expected.every((b, i) => b === stored[i])) {
    fail(
      "corrupt (文件已损坏): the SHA-256 checksum does not match its contents: some bytes " +
        "changed after it was written",
    );
  }
  const declared = header.tensors.reduce((n, t) => n + 4 * sizeOf(t.shape), 0);
  if (declared !== header.dataBytes) {
    fail(
      `corrupt (文件已损坏): its tensors need ${declared} bytes, the header says ${header.dataBytes}`,
    );
  }
  const tensors = new Map<string, NamedArray>();
  let at = 12 + headerBytes;
  for (const { name, shape } of header.tensors) {
    const data = new Float32Array(sizeOf(shape));
    for (let i = 0; i < data.length; i++, at += 4) data[i] = view.getFloat32(at, true);
    tensors.set(name, { name, shape, data });
  }
  return { header, tensors };
}

/** What a run expects of a checkpoint it resumes or generates from. */
export interface Expectation {
  vocab?: readonly string[];
  model?: Partial<ModelConfig>;
  training?: Partial<TrainingConfig>;
  corpusSha256?: string;
}

const show = (chars: readonly string[]) =>
  chars.slice(0, 12).map((c) => JSON.stringify(c)).join(" ") +
  (chars.length > 12 ? ` … (${chars.length} in all)` : "");

/**
 * The ways a checkpoint differs from what a run expects, as sentences (empty when it fits): the
 * vocabulary (characters only in one of them), the model's sizes, the training settings that
 * fix the batches and the schedule, the corpus.
 */
export function mismatches(header: CheckpointHeader, expect: Expectation): string[] {
  const out: string[] = [];
  if (expect.vocab) {
    const had = new Set(header.vocab), now = new Set(expect.vocab);
    const onlyNow = expect.vocab.filter((c) => !had.has(c));
    const onlyThen = header.vocab.filter((c) => !now.has(c));
    if (onlyNow.length || onlyThen.length) {
      out.push(
        `the vocabulary differs (词表不同): ${header.vocab.length} tokens in the checkpoint, ` +
          `${expect.vocab.length} in this corpus` +
          (onlyNow.length ? `; new here: ${show(onlyNow)}` : "") +
          (onlyThen.length ? `; only in the checkpoint: ${show(onlyThen)}` : ""),
      );
    } else if (expect.vocab.some((c, i) => header.vocab[i] !== c)) {
      out.push("the vocabulary has the same characters in another order (词表顺序不同)");
    }
  }
  for (const [group, want] of [["model", expect.model], ["training", expect.training]] as const) {
    for (const [key, value] of Object.entries(want ?? {})) {
      const have = (header[group] as unknown as Record<string, unknown>)[key];
      if (value !== undefined && have !== value) {
        out.push(`${group}.${key} is ${have} in the checkpoint, ${value} here`);
      }
    }
  }
  if (expect.corpusSha256 && expect.corpusSha256 !== header.corpus.sha256) {
    out.push(
      `it was trained on another text (语料不同): "${header.corpus.name}", ` +
        `${header.corpus.chars} characters, SHA-256 ${header.corpus.sha256.slice(0, 12)}…`,
    );
  }
  return out;
}

/** The file operations checkpoints need, on bytes. Errors are Deno's (`Deno.errors.NotFound`). */
export interface ByteFs {
  readFile(path: string): Promise<Uint8Array>;
  /** Writes the whole file and flushes it to the disk (fsync). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  /** Replaces `to` with `from` in one step (POSIX rename). */
  rename(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  /** Flushes a folder's entries (after a rename), where the system allows it. */
  syncDir(path: string): Promise<void>;
}

/** The real file system. */
export const denoByteFs: ByteFs = {
  readFile: (path) => Deno.readFile(path),
  async writeFile(path, data) {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      let written = 0;
      while (written < data.length) written += await file.write(data.subarray(written));
      await file.sync();
    } finally {
      file.close();
    }
  },
  rename: (from, to) => Deno.rename(from, to),
  mkdir: (path) => Deno.mkdir(path, { recursive: true }),
  remove: (path) => Deno.remove(path),
  async syncDir(path) {
    try {
      const dir = await Deno.open(path, { read: true });
      try {
        await dir.sync();
      } finally {
        dir.close();
      }
    } catch { /* not every system can sync a folder; the rename is still atomic */ }
  },
};

/** The folder of a path ("." for a bare file name). */
export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/**
 * Writes `data` so that `path` holds either its old contents or all of the new ones, never a
 * mix: a temporary file beside it, flushed to the disk, then renamed over it. On failure the
 * temporary file is removed and `path` is untouched.
 */
export async function writeAtomic(fs: ByteFs, path: string, data: Uint8Array): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir);
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.remove(tmp).catch(() => {});
    throw error;
  }
  await fs.syncDir(dir);
}

/** Reads and decodes a checkpoint file; a missing file is a CheckpointError that says so. */
export async function readCheckpoint(fs: ByteFs, path: string): Promise<Checkpoint> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CheckpointError(`${path}: no such checkpoint (找不到检查点)`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new CheckpointError(`${path} is a folder, not a checkpoint file`);
    }
    throw error;
  }
  return await decodeCheckpoint(bytes, path);
}

/** An in-memory {@linkcode ByteFs} for tests. `failOn` makes chosen operations throw. */
export class MemoryByteFs implements ByteFs {
  files = new Map<string, Uint8Array>();
  dirs = new Set<string>([".", "/"]);
  failOn: Partial<Record<keyof ByteFs, (path: string) => boolean>> = {};

  #check(op: keyof ByteFs, path: string): void {
    if (this.failOn[op]?.(path)) throw new Deno.errors.PermissionDenied(`${op} ${path}: denied`);
  }

  readFile(path: string): Promise<Uint8Array> {
    this.#check("readFile", path);
    const data = this.files.get(path);
    if (data) return Promise.resolve(data.slice());
    return Promise.reject(
      this.dirs.has(path) ? new Deno.errors.IsADirectory(path) : new Deno.errors.NotFound(path),
    );
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    this.#check("writeFile", path);
    if (!this.dirs.has(dirname(path))) return Promise.reject(new Deno.errors.NotFound(path));
    this.files.set(path, data.slice());
    return Promise.resolve();
  }

  rename(from: string, to: string): Promise<void> {
    this.#check("rename", from);
    const data = this.files.get(from);
    if (!data) return Promise.reject(new Deno.errors.NotFound(from));
    this.files.delete(from);
    this.files.set(to, data);
    return Promise.resolve();
  }

  mkdir(path: string): Promise<void> {
    this.#check("mkdir", path);
    for (let p = path; !this.dirs.has(p); p = dirname(p)) this.dirs.add(p);
    return Promise.resolve();
  }

  remove(path: string): Promise<void> {
    this.#check("remove", path);
    return this.files.delete(path)
      ? Promise.resolve()
      : Promise.reject(new Deno.errors.NotFound(path));
  }

  syncDir(path: string): Promise<void> {
    this.#check("syncDir", path);
    return Promise.resolve();
  }
}
