import { ok, rejects, strictEqual, throws } from "node:assert/strict";
import {
  CorpusError,
  corpusSlug,
  decodeCorpus,
  defaultCorpus,
  firstInvalidUtf8,
  readCorpus,
} from "./corpus.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("decodeCorpus: UTF-8 text, without a byte-order mark, with \\n line ends", () => {
  strictEqual(
    decodeCorpus(utf8("\uFEFF床前明月光，\r\n疑是地上霜。\r\n"), "a.txt"),
    "床前明月光，\n疑是地上霜。\n",
  );
  strictEqual(decodeCorpus(utf8("𠀀 outside the BMP"), "a.txt"), "𠀀 outside the BMP");
});

Deno.test("decodeCorpus refuses an empty file, a blank one and bytes that are not UTF-8", () => {
  throws(() => decodeCorpus(new Uint8Array(0), "a.txt"), /a\.txt is empty/);
  throws(() => decodeCorpus(utf8(" \n\t\n"), "a.txt"), /only white space/);
  // "月光" in GBK (D4 C2 B9 E2) after two ASCII letters.
  const gbk = new Uint8Array([0x68, 0x69, 0xd4, 0xc2, 0xb9, 0xe2]);
  throws(() => decodeCorpus(gbk, "gbk.txt"), (e: Error) => {
    ok(e instanceof CorpusError);
    ok(e.message.includes("gbk.txt is not valid UTF-8 text"), e.message);
    ok(e.message.includes("offset 2 (0xd4 0xc2 0xb9 0xe2)"), e.message);
    ok(e.message.includes("iconv -f GBK -t UTF-8"), e.message);
    return true;
  });
});

Deno.test("firstInvalidUtf8 finds bad, cut, overlong and surrogate sequences", () => {
  strictEqual(firstInvalidUtf8(utf8("月光 ok")), -1);
  strictEqual(firstInvalidUtf8(new Uint8Array([0x61, 0xe6, 0x9c])), 1); // a cut 月
  strictEqual(firstInvalidUtf8(new Uint8Array([0x61, 0x62, 0xc0, 0xaf])), 2); // overlong "/"
  strictEqual(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80])), 0); // a UTF-16 surrogate
  strictEqual(firstInvalidUtf8(new Uint8Array([0x61, 0x80])), 1); // a lone continuation byte
});

Deno.test("readCorpus: a missing file, a folder or no permission each get a clear message", async () => {
  const failing = (error: Error) => () => Promise.reject(error);
  await rejects(
    () => readCorpus("none.txt", failing(new Deno.errors.NotFound("x"))),
    /none\.txt: no such file \(找不到语料文件\)/,
  );
  await rejects(
    () => readCorpus("data", failing(new Deno.errors.IsADirectory("x"))),
    /data is a folder; --corpus takes a text file/,
  );
  await rejects(
    () => readCorpus("/etc/x.txt", failing(new Deno.errors.NotCapable("Requires read access"))),
    /cannot be read \(没有读取权限\).*copy the file here/,
  );
  await rejects(() => readCorpus("e.txt", () => Promise.resolve(new Uint8Array(0))), CorpusError);
  const read = await readCorpus("books/My Poems.txt", () => Promise.resolve(utf8("春眠不覺曉")));
  strictEqual(read.text, "春眠不覺曉");
  strictEqual(read.slug, "My_Poems");
});

Deno.test("corpusSlug: a safe file name from a path", () => {
  strictEqual(corpusSlug("data/shakespeare.txt"), "shakespeare");
  strictEqual(corpusSlug("唐诗.txt"), "唐诗");
  strictEqual(corpusSlug("../a b/c.d.txt"), "c_d");
  strictEqual(corpusSlug("/"), "corpus");
});

Deno.test("the built-in corpus: 320 poems of 唐詩三百首, without the editors' notes", () => {
  const { text, slug, name } = defaultCorpus();
  strictEqual(slug, "tang300");
  ok(name.includes("唐詩三百首"));
  const poems = text.split("\n\n");
  strictEqual(poems.length, 320);
  for (const poem of poems) ok(/^《[^》\n]+》[^\n]+\n[^\n]/.test(poem), poem.slice(0, 30));
  ok(!/[()（）]|一作|[ ,?!:]/.test(text.replace(/^《.*$/gm, "")), "no notes, full-width marks");
  ok(text.includes("《登鸛雀樓》王之渙\n白日依山盡，黃河入海流。\n欲窮千里目，更上一層樓。"));
  strictEqual(new Set(text).size, 2609);
});
