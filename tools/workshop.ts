/**
 * `deno task workshop`: the learner's loop against the clock of a plan. Countdowns for the kata
 * and the session, the next hint offered at `hintAt` of a kata's time, an offer to move on when
 * the time is up (the kata is marked timed out), pause and resume, and a report at the end. Every
 * event is appended to `.dojo/workshops/<id>.jsonl` as it happens: Ctrl-C or a crash loses
 * nothing, and `--resume` continues.
 * @module
 */
import { join } from "node:path";
import { kataById, pad, paths } from "../lib/catalog.ts";
import { type Clock, systemClock } from "./clock.ts";
import { denoFs, writeAtomic } from "./fs.ts";
import { dojoDir, isBuilt } from "./kata_files.ts";
import { repoStore } from "./learn.ts";
import { KataLoop, type LoopOptions, processTerminal, STILL_CHECKING } from "./loop.ts";
import { builtinPlans, parsePlan, type Plan, planMinutes, scalePlan } from "./plan.ts";
import { buildReport, renderHtml, renderMarkdown } from "./report.ts";
import type { KataResult } from "./results.ts";
import { root } from "./runner.ts";
import {
  currentKata,
  hintToOffer,
  kataLeft,
  latestUnfinished,
  type Outcome,
  parseLog,
  replay,
  sessionLeft,
  SessionLog,
  timeUp,
} from "./session.ts";
import { markTimedOut } from "./state.ts";
import { clock as clockText, minutesText } from "./term.ts";
import type { KeyHelp } from "./views.ts";

/** Where session logs and reports go. */
export const workshopsDir = join(dojoDir, "workshops");

/** Seconds between `tick` events: the most a crash can lose. */
const TICK_SECONDS = 15;

/** A plan from a built-in name or a plan file's path; throws PlanError or a clear Error. */
export async function resolvePlan(arg: string): Promise<Plan> {
  const builtin = builtinPlans()[arg];
  if (builtin) return builtin;
  let text: string;
  try {
    text = await Deno.readTextFile(arg);
  } catch (error) {
    const names = Object.keys(builtinPlans()).join(", ");
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new RangeError(
        `Unknown plan "${arg}": not a built-in plan (${names}), and a plan file must be inside ` +
          `the repository (${root}), the only place the workshop may read: put it there, e.g. ` +
          `plans/room.json, and give that path.`,
      );
    }
    throw new RangeError(
      `Unknown plan "${arg}": not a built-in plan (${names}) and not a readable file ` +
        `(${(error as Error).message}).`,
    );
  }
  return parsePlan(text, arg);
}

/** The plans for --help: name, katas and minutes. */
export function plansHelp(): string {
  return Object.entries(builtinPlans()).map(([name, plan]) =>
    `  ${name.padEnd(20)} ${plan.katas.map((k) => pad(k.kata)).join(" → ")}  (${
      minutesText(planMinutes(plan))
    })  ${plan.title.en}`
  ).join("\n");
}

/** The session log for `--resume`/`--report`: an id, a path, or the newest unfinished one. */
export async function findLog(arg: string | undefined, any = false): Promise<string> {
  if (arg) {
    for (const candidate of [arg, join(workshopsDir, `${arg}.jsonl`), join(workshopsDir, arg)]) {
      try {
        if (Deno.statSync(candidate).isFile) return candidate;
      } catch { /* try the next form */ }
    }
    throw new RangeError(`No workshop session "${arg}" in ${workshopsDir}.`);
  }
  const found = any
    ? (await denoFs.list(workshopsDir)).filter((n) => n.endsWith(".jsonl")).sort().reverse()
      .map((n) => join(workshopsDir, n))[0]
    : await latestUnfinished(denoFs, workshopsDir);
  if (!found) {
    throw new RangeError(
      any
        ? "There is no workshop session yet."
        : "There is no unfinished workshop session to resume.",
    );
  }
  return found;
}

/** Writes the report next to the log (`<id>.report.json`, `.md`, `.html`); returns the paths. */
export async function writeReports(log: string, now: number): Promise<string[]> {
  const { events } = parseLog(await Deno.readTextFile(log));
  const report = buildReport(replay(events), now);
  const base = log.replace(/\.jsonl$/, "");
  const files: [string, string][] = [
    [`${base}.report.json`, JSON.stringify(report, null, 2) + "\n"],
    [`${base}.report.md`, renderMarkdown(report)],
    [`${base}.report.html`, renderHtml(report)],
  ];
  for (const [path, text] of files) await writeAtomic(denoFs, path, text);
  return files.map(([path]) => path);
}

const relative = (path: string) => path.startsWith(root) ? path.slice(root.length) : path;

class WorkshopLoop extends KataLoop {
  #tick?: ReturnType<typeof setInterval>;
  #lastLogged = 0;
  #ended = false;
  #code = 0;

  constructor(opts: LoopOptions, readonly log: SessionLog, readonly resumed: boolean) {
    super(opts);
  }

  get session() {
    return this.log.state;
  }

  protected override title(): string {
    const t = this.session.plan.title;
    return `${this.p.bold("工作坊 Workshop")} · ${t.zh === t.en ? t.zh : `${t.zh} · ${t.en}`}`;
  }

  protected override header(): string[] {
    const s = this.session;
    const now = this.log.now();
    const left = kataLeft(s, now);
    const n = s.plan.katas.length;
    const done = Math.min(s.index, n);
    const filled = Math.round((16 * done) / n);
    const kataClock = left < 0 ? this.p.red(clockText(left)) : this.p.bold(clockText(left));
    return [
      `  本题剩余 Kata left ${kataClock}   全场剩余 Session left ${
        this.p.bold(clockText(sessionLeft(s, now)))
      }   练习 ${Math.min(s.index + 1, n)}/${n} [${"█".repeat(filled)}${"░".repeat(16 - filled)}]` +
      (s.paused ? this.p.yellow("   ⏸ 已暂停 PAUSED") : ""),
    ];
  }

  protected override modeBanners(): string[] {
    const s = this.session;
    const now = this.log.now();
    const banners: string[] = [];
    if (s.paused) {
      banners.push(
        this.p.yellow("⏸ 已暂停，计时停止 Paused: the clocks are stopped. p 继续 resume"),
      );
    }
    if (timeUp(s, now)) {
      banners.push(
        this.p.yellow("⏱ 本题时间到 Time is up for this kata: ") +
          "n 进入下一个 move on (记为超时 marked timed out), 或继续做 or keep going.",
      );
    }
    const offer = this.built
      ? hintToOffer(s, now, this.hints.length, this.state.hints[this.kata.id] ?? 0)
      : undefined;
    if (offer !== undefined) {
      banners.push(
        this.p.cyan(`💡 需要提示吗？A hint is offered: h 显示第 ${offer} 级 show level ${offer}`),
      );
    }
    return banners;
  }

  protected override keys(): KeyHelp[] {
    const s = this.session;
    const passed = this.passed();
    const next: KeyHelp = passed
      ? ["n", "下一个 next"]
      : timeUp(s, this.log.now())
      ? ["n", "进入下一个 move on"]
      : ["n", "跳过 skip"];
    const hint = `提示 hint ${this.state.hints[this.kata.id] ?? 0}/${this.hints.length}`;
    return [
      next,
      ...(passed ? [["c", "对照答案 compare"] as KeyHelp] : []),
      ...(this.built ? [["h", hint] as KeyHelp] : []),
      ["p", s.paused ? "继续 resume" : "暂停 pause"],
      ["l", "列表 list"],
      ...(this.built ? [["x", "重置 reset"] as KeyHelp] : []),
      ["r", "运行 run"],
      ["e", "结束 end"],
      ["q", "退出(可继续) quit, resumable"],
    ];
  }

  protected override async modeKey(key: string): Promise<boolean> {
    if (key === "p") {
      await this.log.record({ type: this.session.paused ? "resume" : "pause" });
      this.render();
      return true;
    }
    if (key === "e") {
      this.view = {
        kind: "confirm",
        lines: [
          this.p.bold("结束工作坊？End the workshop now?"),
          "",
          "剩下的练习记为未开始，并写出报告。The katas left are reported as not reached.",
          "",
          `${this.p.inverse(" y ")} 确认 yes   ${this.p.inverse(" n ")} 取消 no`,
        ],
        yes: () => this.#finish("ended-early"),
      };
      this.render();
      return true;
    }
    return false;
  }

  protected override async next(): Promise<void> {
    const now = this.log.now();
    if (this.passed()) return await this.#moveOn("passed");
    if (this.result?.types === "pending" && this.result.status === "passed") {
      return this.notice(STILL_CHECKING);
    }
    if (timeUp(this.session, now)) return await this.#moveOn("timed-out");
    this.view = {
      kind: "confirm",
      lines: [
        this.p.bold(`跳过练习 Skip kata ${pad(this.kata.id)}?`),
        "",
        `还剩 ${clockText(kataLeft(this.session, now))}；跳过的练习会在报告中标出。`,
        `${clockText(kataLeft(this.session, now))} left; the report marks it skipped.`,
        "",
        `${this.p.inverse(" y ")} 确认 yes   ${this.p.inverse(" n ")} 取消 no`,
      ],
      yes: () => this.#moveOn("skipped"),
    };
    this.render();
  }

  protected override jump(): Promise<void> {
    this.view = { kind: "kata" };
    this.notice("工作坊按计划进行 In a workshop the plan sets the order; n moves on.");
    return Promise.resolve();
  }

  protected override async afterRun(result: KataResult): Promise<void> {
    const k = currentKata(this.session);
    if (!k || result.kata !== k.kata) return;
    await this.log.record({
      type: "run",
      kata: result.kata,
      status: result.status,
      passed: result.passed,
      total: result.total,
      seconds: result.seconds,
    });
  }

  protected override async afterHint(level: number): Promise<void> {
    await this.log.record({ type: "hint", kata: this.kata.id, level });
  }

  protected override async quit(how: "q" | "ctrl-c" | "signal"): Promise<void> {
    if (this.#ended) return this.exit(this.#code);
    this.#ended = true;
    await this.log.record({ type: "stop", reason: how === "q" ? "quit" : "interrupted" });
    this.#code = how === "q" ? 0 : 130;
    this.exit(this.#code);
  }

  protected override async begin(): Promise<void> {
    if (this.resumed) await this.log.record({ type: "continue" });
    this.#lastLogged = this.log.now();
    this.#tick = setInterval(() => void this.#onTick(), 1000);
    await this.#enterCurrent();
  }

  protected override async end(): Promise<void> {
    clearInterval(this.#tick);
    const files = await writeReports(this.log.path, this.log.now());
    const s = this.session;
    if (s.ended) {
      console.log(await Deno.readTextFile(files[1]));
      console.log(`报告 Report: ${files.map(relative).join(", ")}`);
    } else {
      console.log(
        `工作坊已保存 Session saved (${relative(this.log.path)}).\n` +
          `继续 Resume: deno task workshop --resume   ·   报告 Report so far: ${
            relative(files[1])
          }`,
      );
    }
  }

  async #onTick(): Promise<void> {
    const s = this.session;
    if (s.ended || s.stopped) return;
    const now = this.log.now();
    if (now - this.#lastLogged >= TICK_SECONDS * 1000 && !s.paused) {
      this.#lastLogged = now;
      await this.log.record({ type: "tick" });
    }
    if (this.view.kind === "kata") this.render();
  }

  async #moveOn(outcome: Outcome): Promise<void> {
    const kata = this.kata.id;
    await this.log.record({ type: "move-on", kata, outcome });
    if (outcome === "timed-out") {
      this.state = await this.opts.store.update((s) => markTimedOut(s, kata));
    }
    await this.#enterCurrent();
  }

  /** Shows the session's current kata; katas not written yet are passed over. */
  async #enterCurrent(): Promise<void> {
    for (;;) {
      const k = currentKata(this.session);
      if (!k) return await this.#finish("finished");
      const kata = kataById(k.kata);
      if (isBuilt(kata)) {
        await this.select(kata);
        return;
      }
      await this.log.record({ type: "move-on", kata: kata.id, outcome: "coming-soon" });
      this.notices.push(`${pad(kata.id)} ${kata.title.en}: 即将推出，已跳过 coming soon, skipped.`);
    }
  }

  async #finish(reason: "finished" | "ended-early"): Promise<void> {
    this.#ended = true;
    await this.log.record({ type: "end", reason });
    this.exit(0);
  }
}

export interface WorkshopOptions {
  plan: string;
  scale: number;
  hintAt?: number;
  resume: boolean;
  report: boolean;
  session?: string;
  watch: boolean;
  scriptArgs: string[];
  clock?: Clock;
}

/** `deno task workshop`. */
export async function workshop(options: WorkshopOptions): Promise<number> {
  const clock = options.clock ?? systemClock;
  if (options.report) {
    const log = await findLog(options.session, true);
    const files = await writeReports(log, clock.now());
    console.log(await Deno.readTextFile(files[1]));
    console.log(`报告 Report: ${files.map(relative).join(", ")}`);
    return 0;
  }
  // The plan is read and validated first, so that a plan file can be checked anywhere (CI).
  let plan: Plan | undefined;
  if (!options.resume) {
    plan = scalePlan(await resolvePlan(options.plan), options.scale);
    if (options.hintAt !== undefined) plan = { ...plan, hintAt: options.hintAt };
  }
  if (!(Deno.stdin.isTerminal() && Deno.stdout.isTerminal())) {
    if (plan) {
      const t = plan.title;
      console.log(
        `${t.zh === t.en ? t.zh : `${t.zh} · ${t.en}`}: ` +
          plan.katas.map((k) => `${pad(k.kata)} (${minutesText(k.minutes)})`).join(" → ") +
          `, ${minutesText(planMinutes(plan))} in all.`,
      );
    }
    console.error(
      "error: the workshop is interactive: run it in a terminal. " +
        "(`deno task workshop --report` works anywhere.)",
    );
    return 2;
  }
  let log: SessionLog;
  if (!plan) {
    log = await SessionLog.open(denoFs, await findLog(options.session), clock);
    for (const p of log.problems) console.error(`warning: ${relative(log.path)}: ${p}`);
    if (log.state.ended) {
      console.error(`This session has ended; see: deno task workshop --report ${log.state.id}`);
      return 1;
    }
  } else {
    log = await SessionLog.start(denoFs, workshopsDir, clock, plan);
  }
  const loop: { current?: WorkshopLoop } = {};
  const store = repoStore((m) => {
    loop.current?.warnings.push(m);
    loop.current?.render();
  });
  const minimal = paths.minimal;
  loop.current = new WorkshopLoop(
    {
      store,
      watch: options.watch,
      scriptArgs: options.scriptArgs,
      term: processTerminal(),
      path: { title: minimal.title.en, katas: log.state.plan.katas.map((k) => k.kata) },
    },
    log,
    options.resume,
  );
  return await loop.current.run();
}
