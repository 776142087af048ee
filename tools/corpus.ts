/**
 * The text `deno task train` learns from: a UTF-8 file given with `--corpus PATH`, or the built-in
 * default, 唐詩三百首 (data/tang300.txt, see data/README.md), which is imported as a module: it
 * works offline and needs no read permission. Decoding is pure, so the tests need no permission.
 * @module
 */
import tang300 from "../data/tang300.txt" with { type: "text" };

/** A corpus that cannot be used: missing, unreadable, empty, not UTF-8, too short. */
export class CorpusError extends Error {
  override name = "CorpusError";
}

/** A loaded corpus: its text and where it came from. */
export interface CorpusText {
  /** What to call it in messages and checkpoints: a path, or "built-in: …". */
  name: string;
  /** A short name for files (the default checkpoint is .dojo/runs/<slug>.ckpt). */
  slug: string;
  text: string;
}

/** The name the built-in corpus goes by in checkpoints. */
export const DEFAULT_CORPUS_NAME = "built-in: 唐詩三百首 (data/tang300.txt)";

/** The built-in corpus: 唐詩三百首, 320 poems in traditional characters. */
export function defaultCorpus(): CorpusText {
  return { name: DEFAULT_CORPUS_NAME, slug: "tang300", text: tang300 };
}

/** A file name for a corpus path: its base name without extension, in safe characters. */
export function corpusSlug(path: string): string {
  const base = path.replace(/\/+$/, "").split("/").pop() ?? "";
  const stem = base.includes(".") ? base.slice(0, base.lastIndexOf(".")) : base;
  const safe = stem.replace(/[^\p{L}\p{N}_-]+/gu, "_").replace(/^_+|_+$/g, "");
  return safe || "corpus";
}

/**
 * The text of a corpus file's bytes: strict UTF-8 (an invalid byte is an error that gives its
 * offset, not a silent U+FFFD), without a leading byte-order mark, with Windows line ends ("\r\n")
 * made "\n" (otherwise "\r" would be a token of its own). Throws a {@linkcode CorpusError} for an
 * empty or blank file.
 */
export function decodeCorpus(bytes: Uint8Array, name: string): string {
  if (bytes.length === 0) throw new CorpusError(`${name} is empty (语料文件为空)`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new CorpusError(
      `${name} is not valid UTF-8 text (不是 UTF-8 编码): the bytes at offset ${at} ` +
        `(${hex(bytes.subarray(at, at + 4))}) are not a UTF-8 character. Save the file as ` +
        `UTF-8 (from GBK or Big5: iconv -f GBK -t UTF-8 in.txt > out.txt).`,
    );
  }
  text = text.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n");
  if (text.trim() === "") throw new CorpusError(`${name} has only white space (语料文件为空)`);
  return text;
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => `0x${b.toString(16).padStart(2, "0")}`).join(" ");

/**
 * The offset of the first byte sequence that is not UTF-8 (for the message), or -1. Each
 * character is checked with a strict decoder, which also refuses overlong forms and surrogates.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const strict = new TextDecoder("utf-8", { fatal: true });
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i];
    const len = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    if (len === 0 || i + len > bytes.length) return i;
    try {
      strict.decode(bytes.subarray(i, i + len));
    } catch {
      return i;
    }
    i += len;
  }
  return -1;
}

/**
 * Reads a corpus file with `readFile` (Deno.readFile in the command) and decodes it. Every way it
 * can fail is a {@linkcode CorpusError} with a message for people: not found, a folder, no
 * permission, not UTF-8, empty.
 */
export async function readCorpus(
  path: string,
  readFile: (path: string) => Promise<Uint8Array>,
): Promise<CorpusText> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CorpusError(`${path}: no such file (找不到语料文件)`);
    }
    if (error instanceof Deno.errors.IsADirectory) {
      throw new CorpusError(`${path} is a folder; --corpus takes a text file`);
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new CorpusError(
        `${path} cannot be read (没有读取权限): ${(error as Error).message}. ` +
          `deno task train may read only inside the repository: copy the file here (e.g. into ` +
          `data/), or run deno run --allow-read --allow-write=.dojo tools/train.ts --corpus ${path}`,
      );
    }
    throw new CorpusError(`${path} cannot be read: ${(error as Error).message}`);
  }
  return { name: path, slug: corpusSlug(path), text: decodeCorpus(bytes, path) };
}
