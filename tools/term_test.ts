import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  clip,
  clock,
  displayWidth,
  minutesText,
  padEnd,
  paint,
  progressBar,
  stripAnsi,
  truncate,
  wrap,
} from "./term.ts";

Deno.test("displayWidth counts Chinese characters as two columns and escapes as none", () => {
  strictEqual(displayWidth("abc"), 3);
  strictEqual(displayWidth("线性回归"), 8);
  strictEqual(displayWidth("01 线性回归 · Linear"), 20);
  strictEqual(displayWidth(paint(true).red("完成 done")), 9);
  strictEqual(displayWidth("（二分类）"), 10);
});

Deno.test("padEnd and truncate work in columns", () => {
  strictEqual(padEnd("提示", 6), "提示  ");
  strictEqual(padEnd("toolong", 3), "toolong");
  strictEqual(truncate("abcdef", 4), "abc…");
  strictEqual(truncate("环境配置与张量", 7), "环境配…");
  strictEqual(truncate("short", 10), "short");
});

Deno.test("paint colours only when asked", () => {
  strictEqual(paint(false).green("ok"), "ok");
  strictEqual(paint(true).green("ok"), "\x1b[32mok\x1b[39m");
  strictEqual(stripAnsi(paint(true).bold(paint(true).red("x"))), "x");
});

Deno.test("progressBar", () => {
  strictEqual(progressBar(0, 4, 8), "[░░░░░░░░] 0/4");
  strictEqual(progressBar(2, 4, 8), "[████░░░░] 2/4");
  strictEqual(progressBar(4, 4, 8), "[████████] 4/4");
  strictEqual(progressBar(0, 0, 4), "[░░░░] 0/0");
});

Deno.test("clock shows time left and overtime", () => {
  strictEqual(clock(0), "0:00");
  strictEqual(clock(59_999), "0:59");
  strictEqual(clock(61_000), "1:01");
  strictEqual(clock(3_723_000), "1:02:03");
  strictEqual(clock(-1), "+0:01");
  strictEqual(clock(-65_000), "+1:05");
});

Deno.test("minutesText", () => {
  strictEqual(minutesText(25), "25 min");
  strictEqual(minutesText(100), "1 h 40 min");
  strictEqual(minutesText(120), "2 h");
  strictEqual(minutesText(0.5), "0.5 min");
});

Deno.test("wrap breaks at columns, at a space when one is near, and keeps escapes", () => {
  deepStrictEqual(wrap("short", 10), ["short"]);
  deepStrictEqual(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
  deepStrictEqual(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
  deepStrictEqual(wrap("是 `[n] → [n, 1]`", 2), ["是", "`[", "n]", "→", "[n", ",", "1]", "`"]);
  deepStrictEqual(wrap("形状：`toColumn` 是 `[n]`", 16), ["形状：`toColumn`", "是 `[n]`"]);
  deepStrictEqual(wrap("形状是难点所在", 6), ["形状是", "难点所", "在"]);
  deepStrictEqual(wrap("变成整数 1 和 0。凡是", 14), ["变成整数 1 和", "0。凡是"]);
  const red = paint(true).red("abcdef");
  deepStrictEqual(wrap(red, 3), ["\x1b[31mabc", "def\x1b[39m"]);
});

Deno.test("clip cuts to the width and closes escapes", () => {
  strictEqual(clip("abc", 5), "abc");
  strictEqual(clip("abcdef", 3), "abc\x1b[0m");
  strictEqual(clip(paint(true).red("环境配置"), 5), "\x1b[31m环境\x1b[0m");
});
