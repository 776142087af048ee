/**
 * Makes data/tang300.txt, the default corpus of `deno task train`: the 320 poems of 唐詩三百首
 * (Three Hundred Tang Poems) from the npm package chinese-poetry@2.0.1 (MIT, © 2016 JackeyGao),
 * file `dist/mengxue/tangshisanbaishou.json`. The package is ~350 MB unpacked, so it is not a
 * dependency: a maintainer runs this once and commits the small text file (see data/README.md).
 *
 * ```sh
 * cd /tmp && npm pack chinese-poetry@2.0.1
 * tar xzf chinese-poetry-2.0.1.tgz package/dist/mengxue/tangshisanbaishou.json package/LICENSE
 * cd -   # back to the repository
 * deno run --allow-read=/tmp/package --allow-write=data data/make_tang300.ts \
 *   /tmp/package/dist/mengxue/tangshisanbaishou.json
 * ```
 *
 * What it does to the text, and nothing more:
 * - one poem per block: a title line `《title》author`, then the poem's lines as the package gives
 *   them (usually one couplet per line), then an empty line;
 * - the editors' notes on variant readings are removed: "(明年 一作：年年)", "(唯 通：惟)" (some
 *   run over two lines);
 * - half-width punctuation inside the poems becomes full-width (`,` → `，`, `?` → `？`, `!` → `！`,
 *   `:` → `：`), so that one mark is one token, and spaces are removed;
 * - the poems are put in a fixed order by a hash of their title and author, so that the last 10%
 *   of the file (the validation split of `deno task train`) mixes every form of poem instead of
 *   being the book's last chapter (樂府).
 *
 * The characters are traditional (繁體), as in the package.
 * @module
 */

/** One poem as the package stores it. */
interface Poem {
  chapter: string;
  subchapter: string | null;
  author: string;
  paragraphs: string[];
}

interface Book {
  title: string;
  content: { type: string; content: Poem[] }[];
}

/** FNV-1a, 32 bits: a stable order that does not depend on the order of the input. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** SHA-256 of dist/mengxue/tangshisanbaishou.json in chinese-poetry@2.0.1. */
const SOURCE_SHA256 = "8423b65d938d0327e369972e790549b42609fa7ac4a2a72df59f4cb5a49c08f8";

const halfToFull: Record<string, string> = { ",": "，", "?": "？", "!": "！", ":": "：" };

/** The poem's lines without notes, with full-width punctuation. */
export function cleanLines(paragraphs: readonly string[]): string[] {
  // Notes may span two paragraphs: join with a marker, strip, split again.
  const joined = paragraphs.join("\n")
    .replace(/[(（][^()（）]*[)）]/g, "")
    .replace(/[,?!:]/g, (c) => halfToFull[c])
    .replace(/[ \u3000]/g, "");
  return joined.split("\n").filter((line) => line.length > 0);
}

/** The corpus text of the book. */
export function bookToText(book: Book): string {
  const poems = book.content.flatMap((group) => group.content).map((p) => {
    const title = p.subchapter ?? p.chapter;
    return {
      key: fnv1a(`${title}|${p.author}`),
      text: `《${title}》${p.author}\n${cleanLines(p.paragraphs).join("\n")}\n`,
    };
  });
  poems.sort((a, b) => a.key - b.key);
  return poems.map((p) => p.text).join("\n");
}

if (import.meta.main) {
  const [input, output = "data/tang300.txt"] = Deno.args;
  if (!input) {
    console.error(
      "usage: deno run --allow-read --allow-write=data data/make_tang300.ts PATH/tangshisanbaishou.json [OUT]",
    );
    Deno.exit(2);
  }
  const bytes = await Deno.readFile(input);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== SOURCE_SHA256) {
    console.error(
      `warning: ${input} is not the file of chinese-poetry@2.0.1 (SHA-256 ${hex}); ` +
        `update data/README.md if you mean to use it`,
    );
  }
  const book = JSON.parse(new TextDecoder().decode(bytes)) as Book;
  const text = bookToText(book);
  const left = /[(（)）]|一作|通：/.exec(text);
  if (left) {
    throw new Error(
      `a note survived the cleaning: …${text.slice(left.index - 20, left.index + 20)}…`,
    );
  }
  await Deno.writeTextFile(output, text);
  const poems = book.content.reduce((n, g) => n + g.content.length, 0);
  console.log(
    `${output}: ${poems} poems, ${[...text].length} characters, ${new Set(text).size} distinct`,
  );
}
