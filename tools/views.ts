/**
 * The screens of `learn` and `workshop`, as lines of text from plain data: the kata screen (test
 * results, first failure, types, hints, keys), the kata list, and a pager for hints, diffs and help.
 * Pure: tests render them without a terminal. Labels are bilingual, Chinese first.
 * @module
 */
import { type Kata, kataDir, pad } from "../lib/catalog.ts";
import type { KataResult } from "./results.ts";
import { summaryLine } from "./results.ts";
import type { RunSummary } from "./state.ts";
import { displayWidth, padEnd, type Paint, truncate, wrap } from "./term.ts";

/** Terminal size. */
export interface Size {
  columns: number;
  rows: number;
}

/** A key and what it does, e.g. `["h", "提示 hint"]`. */
export type KeyHelp = [key: string, label: string];

/** The key bar, wrapped to the width. */
export function keyBar(keys: KeyHelp[], p: Paint, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const [key, label] of keys) {
    const item = `${p.inverse(` ${key} `)} ${label}`;
    if (line && displayWidth(line) + 2 + displayWidth(item) > width) {
      lines.push(line);
      line = "";
    }
    line += (line ? "  " : "") + item;
  }
  if (line) lines.push(line);
  return lines;
}

/** Everything the kata screen shows. */
export interface KataScreen {
  kata: Kata;
  built: boolean;
  /** The first line: where the learner is (path and progress bar, or the workshop's clocks). */
  title: string;
  /** Lines under the title (the workshop's countdowns). */
  header: string[];
  watching: boolean;
  /** `checking`: a run is under way (or about to start after a save). */
  phase: "idle" | "checking";
  result?: KataResult;
  runNo: number;
  /** When the last run finished, `HH:MM:SS`. */
  finishedAt?: string;
  hints: { revealed: number; levels: number };
  /** Messages above the keys: passed, hint offered, time up, warnings. */
  banners: string[];
  keys: KeyHelp[];
}

const typesLine = (r: KataResult, p: Paint): string => {
  switch (r.types) {
    case "ok":
      return `类型 Types ${p.green("✓")}`;
    case "pending":
      return `类型 Types ${p.dim("检查中 checking…")}`;
    case "skipped":
      return `类型 Types ${p.dim("—")}`;
    case "errors":
      return `类型 Types ${p.red("✗ 类型错误 type errors")} (deno check):`;
  }
};

/** Fits the body (tests, failure, types) into `budget` lines. */
function body(s: KataScreen, p: Paint, width: number, budget: number): string[] {
  const r = s.result!;
  const stale = s.phase === "checking";
  const tone = (x: string) => stale ? p.dim(x) : x;
  const testLine = (t: KataResult["tests"][number]) =>
    tone(`  ${t.ok ? p.green("✓") : p.red("✗")} ${truncate(t.name, width - 4)}`);
  const lines: string[] = [];
  if (r.status === "error") {
    lines.push(p.red("测试无法运行 The tests could not run:"));
    const out = (r.output ?? "").split("\n").flatMap((l) => wrap(l, width - 2)).map((l) =>
      `  ${l}`
    );
    return [...lines, ...out.slice(0, Math.max(3, budget - 1))];
  }
  const failing = r.tests.filter((t) => !t.ok);
  const message = r.firstFailure
    ? [
      p.bold(`第一个失败 First failure: ${truncate(r.firstFailure.test, width - 28)}`),
      ...r.firstFailure.message.split("\n").flatMap((l) => wrap(l, width - 4)).map((l) =>
        `    ${l}`
      ),
    ]
    : [];
  const types = [
    typesLine(r, p),
    ...(r.types === "errors"
      ? (r.typeErrors ?? "").split("\n").flatMap((l) => wrap(l, width - 4)).map((l) => `    ${l}`)
      : []),
  ];
  let tests = r.tests.map(testLine);
  const room = budget - 2;
  if (tests.length + message.length + types.length > room) {
    // Passing tests fold into one line; then failing ones are cut.
    const passing = r.tests.length - failing.length;
    tests = [
      ...(passing ? [tone(`  ${p.green("✓")} ${passing} 个通过 passing`)] : []),
      ...failing.map(testLine),
    ];
    const maxTests = Math.max(3, Math.floor(room / 2));
    if (tests.length > maxTests) {
      const shown = tests.slice(0, maxTests - 1);
      tests = [...shown, p.dim(`  … 还有 ${tests.length - shown.length} 个 and more`)];
    }
  }
  const left = Math.max(2, room - tests.length - Math.min(types.length, 4));
  const msg = message.length > left ? [...message.slice(0, left - 1), p.dim("    …")] : message;
  const typeRoom = Math.max(1, room - tests.length - msg.length);
  const ty = types.length > typeRoom
    ? [
      ...types.slice(0, typeRoom - 1),
      p.dim(`    … (all of it: deno check katas/${pad(s.kata.id)}/mod_test.ts)`),
    ]
    : types;
  return [...tests, "", ...msg, ...(msg.length ? [""] : []), ...ty];
}

/** The kata screen, at most `size.rows` lines. */
export function renderKata(s: KataScreen, p: Paint, size: Size): string[] {
  const width = Math.max(40, size.columns);
  const dir = kataDir(s.kata);
  const top = [
    truncate(s.title, width),
    ...s.header,
    "",
    p.bold(`练习 Kata ${pad(s.kata.id)} · ${s.kata.title.zh} · ${s.kata.title.en}`),
  ];
  if (!s.built) {
    return [
      ...top,
      "",
      p.yellow("即将推出：这个练习还没有写好。 Coming soon: this kata is not written yet."),
      "",
      ...s.banners,
      "",
      ...keyBar(s.keys, p, width),
    ];
  }
  top.push(
    `  阅读 read  ${dir}/README.zh.md · README.md`,
    `  编辑 edit  ${dir}/mod.ts` +
      (s.watching
        ? p.dim("   监视中，保存即检查 watching: save to check")
        : p.dim("   手动模式：按 r 运行 manual: press r to run")),
    "",
  );
  let status: string;
  if (s.phase === "checking") status = p.yellow("⟳ 检查中 checking…");
  else if (!s.result) status = p.dim("尚未运行 not run yet");
  else {
    const line = summaryLine(s.result);
    status = s.result.status === "passed" ? p.green(line) : p.red(line);
  }
  const stamp = s.runNo
    ? p.dim(`  运行 run #${s.runNo}${s.finishedAt ? ` · ${s.finishedAt}` : ""}`)
    : "";
  top.push(status + stamp);
  const bottom = [
    ...(s.banners.length ? ["", ...s.banners.flatMap((b) => wrap(b, width))] : []),
    "",
    ...keyBar(s.keys, p, width),
  ];
  const budget = size.rows - top.length - bottom.length;
  const middle = s.result ? body(s, p, width, budget) : [];
  return [...top, ...middle, ...bottom];
}

/** One row of the kata list. */
export interface ListRow {
  kata: Kata;
  onPath: boolean;
  built: boolean;
  done: boolean;
  timedOut: boolean;
  hints: number;
  last?: RunSummary;
  current: boolean;
}

/** The state of a kata in words: `✓ 完成 done`, `◐ 3/12`, `即将推出 coming soon`, ... */
export function rowState(r: ListRow, p: Paint): string {
  const parts: string[] = [];
  if (!r.built) parts.push(p.dim("即将推出 coming soon"));
  else if (r.done) parts.push(p.green("✓ 完成 done"));
  else if (r.last) parts.push(p.yellow(`◐ ${r.last.passed}/${r.last.total} 通过 pass`));
  else parts.push(p.dim("· 未开始 not started"));
  if (r.timedOut) parts.push(p.yellow("⏱ 超时 timed out"));
  if (r.hints) parts.push(p.dim(`提示 hints ${r.hints}`));
  return parts.join("  ");
}

/** The list of all katas with their state; `cursor` is the highlighted row. */
export function renderList(
  rows: ListRow[],
  cursor: number,
  p: Paint,
  opts: { title: string; typed: string; help: string; keys: KeyHelp[]; width: number },
): string[] {
  const zhWidth = Math.max(...rows.map((r) => displayWidth(r.kata.title.zh)));
  const enWidth = Math.max(...rows.map((r) => r.kata.title.en.length));
  return [
    opts.title,
    p.dim(opts.help),
    "",
    ...rows.map((r, i) => {
      const marker = i === cursor ? "›" : r.current ? "▶" : " ";
      const line = `${marker} ${pad(r.kata.id)} ${r.onPath ? "*" : " "} ${
        padEnd(r.kata.title.zh, zhWidth)
      }  ${padEnd(r.kata.title.en, enWidth)}  ${rowState(r, p)}`;
      return i === cursor ? p.bold(line) : line;
    }),
    "",
    p.dim("* 在当前学习路径上 on the current path · ▶ 当前练习 current kata") +
    (opts.typed ? `   编号 number: ${opts.typed}_` : ""),
    "",
    ...keyBar(opts.keys, p, opts.width),
  ];
}

/** A scrolling page: title, the visible part of `lines`, a position line and the keys. */
export function renderPager(
  title: string,
  lines: string[],
  offset: number,
  p: Paint,
  size: Size,
  keys: KeyHelp[],
): string[] {
  const width = Math.max(40, size.columns);
  const wrapped = lines.flatMap((l) => wrap(l, width));
  const bar = keyBar(keys, p, width);
  const room = Math.max(3, size.rows - 2 - bar.length);
  const top = Math.max(0, Math.min(offset, wrapped.length - room));
  const shown = wrapped.slice(top, top + room);
  const position = wrapped.length > room
    ? p.dim(`— ${top + 1}–${top + shown.length} / ${wrapped.length} (↑↓ 空格 space 翻页) —`)
    : "";
  return [p.bold(title), ...shown, position, ...bar];
}

/** How far a pager can scroll. */
export function pagerMax(lines: string[], size: Size, keyLines = 1): number {
  const wrapped = lines.flatMap((l) => wrap(l, Math.max(40, size.columns)));
  return Math.max(0, wrapped.length - Math.max(3, size.rows - 2 - keyLines));
}
