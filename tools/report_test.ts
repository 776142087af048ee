import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { FakeClock } from "./clock.ts";
import { MemoryFs } from "./fs.ts";
import { parsePlan } from "./plan.ts";
import { buildReport, renderHtml, renderMarkdown, svgChart, textChart } from "./report.ts";
import { SessionLog } from "./session.ts";

/** A short session: 01 passed with a hint, 02 timed out, 03 in progress. */
async function session() {
  const clock = new FakeClock();
  const plan = parsePlan(
    JSON.stringify({ title: "Demo", katas: [{ kata: 1, minutes: 2 }, { kata: 2, minutes: 2 }, 3] }),
    "demo.json",
  );
  const log = await SessionLog.start(new MemoryFs(), "/w", clock, plan);
  clock.advance(30_000);
  await log.record({ type: "run", kata: 1, status: "failed", passed: 3, total: 12, seconds: 0.4 });
  clock.advance(30_000);
  await log.record({ type: "hint", kata: 1, level: 1 });
  clock.advance(30_000);
  await log.record({ type: "run", kata: 1, status: "passed", passed: 12, total: 12, seconds: 0.4 });
  await log.record({ type: "move-on", kata: 1, outcome: "passed" });
  clock.advance(150_000);
  await log.record({ type: "run", kata: 2, status: "failed", passed: 1, total: 12, seconds: 0.4 });
  await log.record({ type: "move-on", kata: 2, outcome: "timed-out" });
  clock.advance(60_000);
  return { log, clock };
}

Deno.test("buildReport: per kata time, result, hints and runs", async () => {
  const { log, clock } = await session();
  const r = buildReport(log.state, clock.now());
  deepStrictEqual(
    r.katas.map((
      k,
    ) => [k.kata, k.plannedSeconds, k.usedSeconds, k.passed, k.outcome, k.hints, k.runs]),
    [
      [1, 120, 90, true, "passed", 1, 2],
      [2, 120, 150, false, "timed-out", 0, 1],
      [3, 2100, 60, false, "current", 0, 0],
    ],
  );
  strictEqual(r.katas[0].secondsToPass, 90);
  deepStrictEqual(r.totals, {
    plannedSeconds: 2340,
    usedSeconds: 300,
    passed: 1,
    timedOut: 1,
    skipped: 0,
    comingSoon: 0,
    hints: 1,
    runs: 3,
  });
  strictEqual(r.status, "in-progress");
  strictEqual(r.startedAt, "2026-01-01T09:00:00.000Z");
  deepStrictEqual(JSON.parse(JSON.stringify(r)), r, "plain JSON");
});

Deno.test("textChart scales bars to the longest and shows overtime", async () => {
  const { log, clock } = await session();
  const r = buildReport(log.state, clock.now());
  r.katas = r.katas.slice(0, 2); // 01: 90 s of 120; 02: 150 s of 120
  strictEqual(
    textChart(r, 10),
    [
      "01 ██████░░   1:30 / 2:00 ✓",
      "02 ████████▓▓ 2:30 / 2:00 ⏱",
    ].join("\n"),
  );
});

Deno.test("renderMarkdown: summary, table and chart", async () => {
  const { log, clock } = await session();
  const md = renderMarkdown(buildReport(log.state, clock.now()));
  strictEqual(md.startsWith("# 工作坊报告 · Workshop report\n\n**Demo** (demo.json)\n"), true);
  strictEqual(
    md.includes(
      "| 01 | 环境配置与张量 · Setup and tensors | 2:00 | 1:30 | ✓ 通过 passed | 1 | 2 |",
    ),
    true,
  );
  strictEqual(
    md.includes("| 02 | 线性回归 · Linear regression | 2:00 | 2:30 | ⏱ 超时 timed out | 0 | 1 |"),
    true,
  );
  strictEqual(md.includes("- 通过 Passed: 1 of 3; 超时 timed out: 1;"), true);
  strictEqual(md.includes("```text\n01 █"), true);
});

Deno.test("renderHtml: escaped, self-contained, with an SVG chart", async () => {
  const { log, clock } = await session();
  const r = buildReport(log.state, clock.now());
  r.plan.title = { zh: "<b>周五</b>", en: "Fri & Sat" };
  const html = renderHtml(r);
  strictEqual(html.includes("&lt;b&gt;周五&lt;/b&gt; · Fri &amp; Sat"), true);
  strictEqual(html.includes("<b>周五"), false);
  strictEqual(html.includes("<svg"), true);
  strictEqual(html.includes("http://") && !html.includes("src="), true, "no external resources");
  strictEqual((svgChart(r).match(/<rect/g) ?? []).length, 6); // planned + used per kata
});
