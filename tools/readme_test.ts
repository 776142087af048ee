import { deepStrictEqual } from "node:assert/strict";
import en from "../README.md" with { type: "text" };
import zh from "../README.zh.md" with { type: "text" };
import { katas, pad } from "../lib/catalog.ts";

/** The rows `| 01 | 中文 | English |` of a README's kata table. */
function tableRows(markdown: string): string[][] {
  return markdown.split("\n")
    .filter((line) => /^\|\s*\d\d\s*\|/.test(line))
    .map((line) => line.split("|").slice(1, -1).map((cell) => cell.trim()));
}

for (const [name, text] of [["README.md", en], ["README.zh.md", zh]]) {
  Deno.test(`${name} lists the katas exactly as lib/catalog.ts does`, () => {
    const expected = katas.map((k) => [pad(k.id), k.title.zh, k.title.en]);
    deepStrictEqual(
      tableRows(text),
      expected,
      `${name}'s kata table is out of date; its rows should be:\n` +
        expected.map((r) => `| ${r.join(" | ")} |`).join("\n"),
    );
  });
}
