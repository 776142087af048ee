/**
 * A workshop's report, from its replayed log: per kata, the time planned and used, whether it
 * passed, hints used and test runs. As JSON (for whoever collects reports from a room) and as a
 * readable Markdown and HTML summary with a small chart. Pure.
 * @module
 */
import { type Bilingual, kataById, kataName, pad } from "../lib/catalog.ts";
import { planMinutes } from "./plan.ts";
import { type Outcome, type SessionState, sessionUsed } from "./session.ts";
import { clock, minutesText } from "./term.ts";

export const REPORT_VERSION = 1;

export interface KataReport {
  kata: number;
  name: string;
  title: Bilingual;
  plannedSeconds: number;
  usedSeconds: number;
  passed: boolean;
  /**
   * How the session left it: `current` while the session is still on it, `unfinished` if the
   * session ended on it, `not-reached` for the katas after.
   */
  outcome: Outcome | "current" | "unfinished" | "not-reached";
  /** Hints revealed during the session, and the highest level. */
  hints: number;
  maxHint: number;
  /** Test runs during the session. */
  runs: number;
  /** Time used when the tests first passed. */
  secondsToPass?: number;
  lastRun?: { status: string; passed: number; total: number };
}

export interface WorkshopReport {
  version: typeof REPORT_VERSION;
  kind: "dojo-workshop-report";
  id: string;
  plan: { name: string; title: Bilingual; hintAt: number; plannedMinutes: number };
  /** ISO 8601. */
  startedAt: string;
  lastEventAt: string;
  status: "finished" | "ended-early" | "in-progress";
  totals: {
    plannedSeconds: number;
    usedSeconds: number;
    passed: number;
    timedOut: number;
    skipped: number;
    comingSoon: number;
    hints: number;
    runs: number;
  };
  katas: KataReport[];
}

const seconds = (ms: number) => Math.round(ms / 1000);

/** The report of a session as it stands at `now`. */
export function buildReport(s: SessionState, now: number): WorkshopReport {
  const katas: KataReport[] = s.katas.map((k, i) => {
    const live = i === s.index ? sessionUsed(s, now) - s.usedMs : 0;
    const kata = kataById(k.kata);
    return {
      kata: k.kata,
      name: kataName(kata),
      title: kata.title,
      plannedSeconds: seconds(k.minutes * 60_000),
      usedSeconds: seconds(k.usedMs + live),
      passed: k.passed,
      outcome: k.outcome ?? (i !== s.index ? "not-reached" : s.ended ? "unfinished" : "current"),
      hints: k.hints,
      maxHint: k.maxHint,
      runs: k.runs,
      ...(k.passedAtMs !== undefined ? { secondsToPass: seconds(k.passedAtMs) } : {}),
      ...(k.lastRun ? { lastRun: k.lastRun } : {}),
    };
  });
  const count = (o: KataReport["outcome"]) => katas.filter((k) => k.outcome === o).length;
  return {
    version: REPORT_VERSION,
    kind: "dojo-workshop-report",
    id: s.id,
    plan: {
      name: s.plan.name,
      title: s.plan.title,
      hintAt: s.plan.hintAt,
      plannedMinutes: planMinutes(s.plan),
    },
    startedAt: new Date(s.startedAt).toISOString(),
    lastEventAt: new Date(s.lastT).toISOString(),
    status: s.ended ?? "in-progress",
    totals: {
      plannedSeconds: katas.reduce((sum, k) => sum + k.plannedSeconds, 0),
      usedSeconds: seconds(sessionUsed(s, now)),
      passed: katas.filter((k) => k.passed).length,
      timedOut: count("timed-out"),
      skipped: count("skipped"),
      comingSoon: count("coming-soon"),
      hints: katas.reduce((sum, k) => sum + k.hints, 0),
      runs: katas.reduce((sum, k) => sum + k.runs, 0),
    },
    katas,
  };
}

const outcomeText: Record<KataReport["outcome"], string> = {
  "passed": "✓ 通过 passed",
  "timed-out": "⏱ 超时 timed out",
  "skipped": "→ 跳过 skipped",
  "coming-soon": "… 即将推出 coming soon",
  "current": "▶ 进行中 in progress",
  "unfinished": "■ 未完成 unfinished",
  "not-reached": "· 未开始 not reached",
};

/** What the report says about a kata: its outcome, with "passed" when it passed anyway. */
export function resultText(k: KataReport): string {
  if (k.passed && k.outcome !== "passed") return `✓ 通过 passed (${outcomeText[k.outcome]})`;
  return outcomeText[k.outcome];
}

const statusText: Record<WorkshopReport["status"], string> = {
  "finished": "完成 finished",
  "ended-early": "提前结束 ended early",
  "in-progress": "进行中 in progress",
};

const mark = (k: KataReport) =>
  k.passed ? "✓" : k.outcome === "timed-out" ? "⏱" : k.outcome === "skipped" ? "→" : "·";

/**
 * The text chart: one bar per kata, scaled to the longest; `█` time used within the plan, `░` time
 * the plan gave and was not used, `▓` overtime.
 */
export function textChart(r: WorkshopReport, width = 40): string {
  const longest = Math.max(1, ...r.katas.map((k) => Math.max(k.plannedSeconds, k.usedSeconds)));
  const cols = (s: number) => Math.round((width * s) / longest);
  return r.katas.map((k) => {
    const used = cols(k.usedSeconds);
    const planned = cols(k.plannedSeconds);
    const bar = used <= planned
      ? "█".repeat(used) + "░".repeat(planned - used)
      : "█".repeat(planned) + "▓".repeat(used - planned);
    return `${pad(k.kata)} ${bar.padEnd(width)} ${clock(k.usedSeconds * 1000)} / ${
      clock(k.plannedSeconds * 1000)
    } ${mark(k)}`;
  }).join("\n");
}

const title = (t: Bilingual) => t.zh === t.en ? t.zh : `${t.zh} · ${t.en}`;
const day = (iso: string) => iso.slice(0, 16).replace("T", " ") + " UTC";

/** The report as Markdown, with a text chart. */
export function renderMarkdown(r: WorkshopReport): string {
  const t = r.totals;
  const rows = r.katas.map((k) =>
    `| ${pad(k.kata)} | ${k.title.zh} · ${k.title.en} | ${clock(k.plannedSeconds * 1000)} | ${
      clock(k.usedSeconds * 1000)
    } | ${resultText(k)} | ${k.hints} | ${k.runs} |`
  );
  return [
    "# 工作坊报告 · Workshop report",
    "",
    `**${title(r.plan.title)}** (${r.plan.name})`,
    "",
    `- 场次 Session: \`${r.id}\`, ${statusText[r.status]}`,
    `- 开始 Started: ${day(r.startedAt)}; 最后记录 last event: ${day(r.lastEventAt)}`,
    `- 计划 Planned: ${minutesText(r.plan.plannedMinutes)}; 用时 used: ${
      clock(t.usedSeconds * 1000)
    } (paused time not counted · 暂停时间不计)`,
    `- 通过 Passed: ${t.passed} of ${r.katas.length}; 超时 timed out: ${t.timedOut}; ` +
    `跳过 skipped: ${t.skipped}; 即将推出 coming soon: ${t.comingSoon}`,
    `- 提示 Hints: ${t.hints}; 测试运行 test runs: ${t.runs}`,
    "",
    "| 练习 Kata | 标题 Title | 计划 Planned | 用时 Used | 结果 Result | 提示 Hints | 运行 Runs |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    "## 用时与计划 · Time used against time planned",
    "",
    "```text",
    textChart(r),
    "```",
    "",
    "█ 用时 used · ░ 计划剩余 planned, not used · ▓ 超时 overtime · ✓ 通过 passed · ⏱ 超时 timed out" +
    " · → 跳过 skipped",
    "",
  ].join("\n");
}

/** Some browser fonts lack ⏱ (it shows as a box): HTML uses ✗ for a kata that timed out. */
const forHtml = (s: string) => s.replace(/⏱/g, "✗");

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** An SVG bar chart: the plan's time in grey, the time used over it, coloured by result. */
export function svgChart(r: WorkshopReport): string {
  const rowH = 26;
  const left = 48;
  const barW = 420;
  const right = 110;
  const h = r.katas.length * rowH + 10;
  const longest = Math.max(1, ...r.katas.map((k) => Math.max(k.plannedSeconds, k.usedSeconds)));
  const x = (s: number) => Math.round((barW * s) / longest * 10) / 10;
  const colour = (k: KataReport) =>
    k.passed
      ? "#2e8b57"
      : k.outcome === "timed-out"
      ? "#d2691e"
      : k.outcome === "current"
      ? "#4682b4"
      : "#999999";
  const rows = r.katas.map((k, i) => {
    const y = 5 + i * rowH;
    const label = forHtml(
      `${clock(k.usedSeconds * 1000)} / ${clock(k.plannedSeconds * 1000)} ${mark(k)}`,
    );
    return [
      `<text x="0" y="${y + 16}" font-size="13">${pad(k.kata)}</text>`,
      `<rect x="${left}" y="${y + 3}" width="${x(k.plannedSeconds)}" height="16" fill="#e6e6e6"/>`,
      `<rect x="${left}" y="${y + 6}" width="${x(k.usedSeconds)}" height="10" fill="${
        colour(k)
      }"><title>${escapeHtml(forHtml(`${k.name}: ${resultText(k)}`))}</title></rect>`,
      `<line x1="${left + x(k.plannedSeconds)}" x2="${left + x(k.plannedSeconds)}" y1="${y}" y2="${
        y + 22
      }" stroke="#333" stroke-width="1"/>`,
      `<text x="${left + barW + 8}" y="${y + 16}" font-size="12">${escapeHtml(label)}</text>`,
    ].join("");
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + barW + right}" height="${h}" ` +
    `role="img" aria-label="time used per kata">${rows.join("")}</svg>`;
}

/** The report as one self-contained HTML page with an SVG chart. */
export function renderHtml(r: WorkshopReport): string {
  const t = r.totals;
  const rows = r.katas.map((k) =>
    `<tr><td>${pad(k.kata)}</td><td>${escapeHtml(k.title.zh)} · ${escapeHtml(k.title.en)}</td>` +
    `<td>${clock(k.plannedSeconds * 1000)}</td><td>${clock(k.usedSeconds * 1000)}</td>` +
    `<td>${escapeHtml(forHtml(resultText(k)))}</td><td>${k.hints}</td><td>${k.runs}</td></tr>`
  ).join("\n");
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>工作坊报告 · Workshop report · ${escapeHtml(r.id)}</title>
<style>
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #f4f4f4; }
.legend span { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 12px; }
</style>
</head>
<body>
<h1>工作坊报告 · Workshop report</h1>
<p><strong>${escapeHtml(title(r.plan.title))}</strong> (${escapeHtml(r.plan.name)}) · ${
    escapeHtml(statusText[r.status])
  }</p>
<p>开始 Started ${day(r.startedAt)} · 计划 planned ${
    minutesText(r.plan.plannedMinutes)
  } · 用时 used ${
    clock(t.usedSeconds * 1000)
  } · 通过 passed ${t.passed}/${r.katas.length} · 超时 timed out ${t.timedOut} · 提示 hints ${t.hints} · 测试运行 test runs ${t.runs}</p>
${svgChart(r)}
<p class="legend"><span style="background:#e6e6e6"></span>计划 planned<span style="background:#2e8b57"></span>通过 passed<span style="background:#d2691e"></span>超时 timed out<span style="background:#4682b4"></span>进行中 in progress<span style="background:#999"></span>其他 other</p>
<table>
<tr><th>练习 Kata</th><th>标题 Title</th><th>计划 Planned</th><th>用时 Used</th><th>结果 Result</th><th>提示 Hints</th><th>运行 Runs</th></tr>
${rows}
</table>
<p>Session <code>${escapeHtml(r.id)}</code>; the same data as JSON is beside this file.</p>
</body>
</html>
`;
}
