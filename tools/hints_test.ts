import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { nextLevel, parseHints } from "./hints.ts";

const md = `# Hints · 提示

## 1

中文提示。

A nudge.

## 2

The API calls.

## 3

\`\`\`md
## 4
not a heading: inside a code block
\`\`\`
`;

Deno.test("parseHints splits the levels and leaves the title out", () => {
  deepStrictEqual(parseHints(md), [
    { level: 1, text: "中文提示。\n\nA nudge." },
    { level: 2, text: "The API calls." },
    { level: 3, text: "```md\n## 4\nnot a heading: inside a code block\n```" },
  ]);
  deepStrictEqual(parseHints("# Hints\n\nnothing yet\n"), []);
  deepStrictEqual(parseHints("## 1\r\nwindows\r\n").map((h) => h.text), ["windows"]);
});

Deno.test("parseHints rejects levels out of order", () => {
  throws(() => parseHints("## 1\na\n## 3\nb\n"), /found ## 3 in place 2/);
});

Deno.test("nextLevel", () => {
  const hints = parseHints(md);
  strictEqual(nextLevel(hints, 0), 1);
  strictEqual(nextLevel(hints, 2), 3);
  strictEqual(nextLevel(hints, 3), undefined);
});
