import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { kataById, katas } from "../lib/catalog.ts";
import { comingSoon, type KataResult } from "./results.ts";
import { displayWidth, paint } from "./term.ts";
import {
  type KataScreen,
  keyBar,
  type ListRow,
  pagerMax,
  renderKata,
  renderList,
  renderPager,
  rowState,
} from "./views.ts";

const p = paint(false);
const at = new Date("2026-01-01T00:00:00Z");

function result(failing: number, total = 12, types: KataResult["types"] = "ok"): KataResult {
  const tests = Array.from({ length: total }, (_, i) => ({
    name: `test ${i + 1}`,
    ok: i >= failing,
    todo: false,
    ...(i < failing ? { message: `AssertionError: wrong ${i + 1}\nline two` } : {}),
  }));
  return {
    ...comingSoon(kataById(1), "learner", at),
    status: failing ? "failed" : "passed",
    passed: total - failing,
    failed: failing,
    total,
    tests,
    types,
    ...(failing
      ? { firstFailure: { test: "test 1", message: "AssertionError: wrong 1\nline two" } }
      : {}),
  };
}

function screen(extra: Partial<KataScreen> = {}): KataScreen {
  return {
    kata: kataById(1),
    built: true,
    title: "LLM Dojo · path",
    header: [],
    watching: true,
    phase: "idle",
    result: result(2),
    runNo: 3,
    finishedAt: "10:00:00",
    hints: { revealed: 1, levels: 3 },
    banners: [],
    keys: [["h", "提示 hint 1/3"], ["q", "退出 quit"]],
    ...extra,
  };
}

Deno.test("renderKata: results, the first failure and the keys", () => {
  const lines = renderKata(screen(), p, { columns: 100, rows: 40 });
  const text = lines.join("\n");
  strictEqual(text.includes("练习 Kata 01 · 环境配置与张量 · Setup and tensors"), true);
  strictEqual(text.includes("✗ 10/12 通过 pass  运行 run #3 · 10:00:00"), true);
  strictEqual(text.includes("  ✗ test 1\n  ✗ test 2\n  ✓ test 3"), true);
  strictEqual(
    text.includes("第一个失败 First failure: test 1\n    AssertionError: wrong 1\n    line two"),
    true,
  );
  strictEqual(text.includes("类型 Types ✓"), true);
  strictEqual(
    lines[lines.length - 1],
    "[h] 提示 hint 1/3  [q] 退出 quit".replace(/\[(\w)\]/g, " $1 "),
  );
  strictEqual(text.includes("监视中"), true);
});

Deno.test("renderKata: 'checking…' at once, the old results kept below it", () => {
  const text = renderKata(screen({ phase: "checking" }), p, { columns: 100, rows: 40 }).join("\n");
  strictEqual(text.includes("⟳ 检查中 checking…"), true);
  strictEqual(text.includes("✗ test 1"), true);
});

Deno.test("renderKata fits a small terminal: passing tests fold, long parts are cut", () => {
  const lines = renderKata(screen({ result: result(9, 30) }), p, { columns: 80, rows: 24 });
  strictEqual(lines.length <= 24, true, `${lines.length} lines`);
  const text = lines.join("\n");
  strictEqual(text.includes("✓ 21 个通过 passing"), true);
  strictEqual(text.includes("and more"), true);
});

Deno.test("renderKata: type errors and a kata not written yet", () => {
  const typeErrors = {
    ...result(0),
    status: "failed" as const,
    types: "errors" as const,
    typeErrors: "TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.",
  };
  const text = renderKata(screen({ result: typeErrors }), p, { columns: 100, rows: 40 }).join("\n");
  strictEqual(text.includes("✗ 类型错误 type errors"), true);
  strictEqual(text.includes("    TS2322 [ERROR]"), true);
  const soon = renderKata(screen({ kata: kataById(14), built: false, result: undefined }), p, {
    columns: 100,
    rows: 40,
  }).join("\n");
  strictEqual(
    soon.includes("即将推出：这个练习还没有写好。 Coming soon: this kata is not written yet."),
    true,
  );
});

Deno.test("renderList: every kata with its state and the cursor", () => {
  const rows: ListRow[] = katas.map((k) => ({
    kata: k,
    onPath: k.id <= 3,
    built: k.id <= 3,
    done: k.id === 1,
    timedOut: k.id === 2,
    hints: k.id === 2 ? 2 : 0,
    last: k.id === 2 ? { status: "failed", passed: 3, total: 12, at: "x" } : undefined,
    current: k.id === 2,
  }));
  const lines = renderList(rows, 2, p, {
    title: "t",
    typed: "0",
    help: "h",
    keys: [["Esc", "返回 back"]],
    width: 100,
  });
  strictEqual(lines.filter((l) => /^[›▶ ] \d\d /.test(l)).length, 14);
  strictEqual(lines[3].startsWith("  01 * 环境配置与张量"), true);
  strictEqual(lines[4].startsWith("▶ 02 * 线性回归"), true);
  strictEqual(lines[5].startsWith("› 03 * "), true);
  strictEqual(rowState(rows[0], p), "✓ 完成 done");
  strictEqual(rowState(rows[1], p), "◐ 3/12 通过 pass  ⏱ 超时 timed out  提示 hints 2");
  strictEqual(rowState(rows[13], p), "即将推出 coming soon");
  strictEqual(lines.join("\n").includes("编号 number: 0_"), true);
  // Titles line up although Chinese characters are two columns wide.
  const column = (l: string) => displayWidth(l.slice(0, l.indexOf("Setup") + 1));
  strictEqual(column(lines[3]), displayWidth(lines[4].slice(0, lines[4].indexOf("Linear") + 1)));
});

Deno.test("keyBar wraps at the width", () => {
  const keys: [string, string][] = [["a", "aaaa"], ["b", "bbbb"], ["c", "cccc"]];
  deepStrictEqual(keyBar(keys, p, 20), [" a  aaaa   b  bbbb", " c  cccc"]);
});

Deno.test("renderPager shows one screen and where it is", () => {
  const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`);
  const size = { columns: 80, rows: 12 };
  const page = renderPager("Title", lines, 5, p, size, [["Esc", "back"]]);
  strictEqual(page.length, 12);
  deepStrictEqual(page.slice(0, 2), ["Title", "line 6"]);
  strictEqual(page[page.length - 2], "— 6–14 / 50 (↑↓ 空格 space 翻页) —");
  strictEqual(pagerMax(lines, size), 41);
  strictEqual(renderPager("T", lines, 999, p, size, [])[1], "line 41"); // no key line: 10 rows of text
});
