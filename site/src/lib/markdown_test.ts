// Tests of the site's Markdown transforms: `deno test` in site/ (part of `deno task site:test`).
import { deepStrictEqual, strictEqual } from "node:assert";
import {
  codeBlock,
  joinCjkLines,
  katexCompat,
  normalizeDisplayMath,
  parseHints,
  rewriteLinks,
  stripLanguageLine,
  stripTitle,
} from "./markdown.ts";

Deno.test("display math written GitHub's way gets fences on their own lines", () => {
  const md = "Text.\n$$a = b, \\qquad\nc = d.$$\nMore.";
  strictEqual(normalizeDisplayMath(md), "Text.\n\n$$\na = b, \\qquad\nc = d.\n$$\n\nMore.");
});

Deno.test("well-formed display math, inline $$ and code are left alone", () => {
  const md = "$$\nx\n$$\n\nTail $$y$$ end.\n\n```ts\n$$z = 1,\nw$$\n```";
  strictEqual(normalizeDisplayMath(md), md);
});

Deno.test("display math inside a list item keeps its indentation", () => {
  strictEqual(normalizeDisplayMath("- item\n  $$x = 1$$"), "- item\n\n  $$\n  x = 1\n  $$");
});

Deno.test("unclosed $$ stays text", () => {
  strictEqual(normalizeDisplayMath("$$ costs\nmore"), "$$ costs\nmore");
});

Deno.test("KaTeX gets braces around a function name used as a subscript", () => {
  strictEqual(katexCompat("$\\lambda_\\max$ and $x^\\log$"), "$\\lambda_{\\max}$ and $x^{\\log}$");
  strictEqual(katexCompat("$\\lambda_{\\max}$ $\\max_i$"), "$\\lambda_{\\max}$ $\\max_i$");
});

Deno.test("a line break between two Chinese characters disappears; headings stay", () => {
  strictEqual(joinCjkLines("第一行的\n第二行"), "第一行的第二行");
  strictEqual(joinCjkLines("## 模型\n先算"), "## 模型\n先算");
  strictEqual(joinCjkLines("达到\n0.99"), "达到\n0.99");
  strictEqual(joinCjkLines("段落。\n\n下一段"), "段落。\n\n下一段");
});

Deno.test("the title and the language line go; the text stays", () => {
  const zh = "# 练习 03 · 逻辑回归\n\n中文 · [English](README.md)\n\n正文。\n";
  strictEqual(stripLanguageLine(stripTitle(zh)), "正文。\n");
  const en = "# Kata 03\n\n[中文](README.zh.md) · English\n\nText.\n";
  strictEqual(stripLanguageLine(stripTitle(en)), "Text.\n");
  strictEqual(
    stripLanguageLine("Some [link](README.md) in a sentence.\n\nMore."),
    "Some [link](README.md) in a sentence.\n\nMore.",
  );
});

Deno.test("links: own files to sections, other katas to pages, unknown files to code", () => {
  const ctx = {
    name: "03_logistic_regression",
    kataUrl: (n: string) => (n.startsWith("0") ? `/katas/${n}/` : null),
  };
  strictEqual(
    rewriteLinks("[hints](hints.md), [skeleton](./mod.ts), [en](README.md)", ctx),
    "[hints](/katas/03_logistic_regression/#hints), [skeleton](/katas/03_logistic_regression/#skeleton), [en](/katas/03_logistic_regression/)",
  );
  strictEqual(
    rewriteLinks("[kata 02](../02_linear_regression/README.md#the-loss)", ctx),
    "[kata 02](/katas/02_linear_regression/#the-loss)",
  );
  strictEqual(rewriteLinks("[data](../../lib/data.ts)", ctx), "`data`");
  strictEqual(
    rewriteLinks("[MDN](https://x.org/a) [top](#top)", ctx),
    "[MDN](https://x.org/a) [top](#top)",
  );
  strictEqual(rewriteLinks("```md\n[x](y.md)\n```", ctx), "```md\n[x](y.md)\n```");
});

Deno.test("hints split into levels and languages; code goes to both", () => {
  const md =
    "# Hints · 提示\n\n## 1\n\n中文提示。\n\nEnglish hint.\n\n## 2\n\n用 `tf.add`。\n\nUse `tf.add`.\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```\n";
  deepStrictEqual(parseHints(md), [
    { level: 1, zh: "中文提示。", en: "English hint." },
    {
      level: 2,
      zh: "用 `tf.add`。\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```",
      en: "Use `tf.add`.\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```",
    },
  ]);
});

Deno.test("a code block's fence is longer than any backtick run inside it", () => {
  strictEqual(codeBlock("a\n```\nb\n", "ts", "f.ts"), '````ts title="f.ts"\na\n```\nb\n````');
});

Deno.test("a formula in a heading reads as plain text in the table of contents", async () => {
  const { texToPlain } = await import("./heading_ids.ts");
  strictEqual(texToPlain("\\sqrt{d_k}"), "√d_k");
  strictEqual(texToPlain("\\sigma(z) - y"), "σ(z) - y");
  strictEqual(texToPlain("QK^\\top / \\sqrt{d}"), "QK^⊤ / √d");
});
