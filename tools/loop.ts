/**
 * The interactive kata loop behind `deno task learn` (and, extended, `deno task workshop`): raw-mode
 * keys, a watcher on the kata's folder that re-runs the tests on every save ("checking…" at once,
 * then the results), hints, the kata list with jumps, reset, compare, check-all.
 *
 * This is the I/O edge: what it shows comes from views.ts, what it decides from state.ts,
 * hints.ts and results.ts, which are tested without a terminal.
 * @module
 */
import { join } from "node:path";
import { type Kata, kataById, kataDir, katas, pad } from "../lib/catalog.ts";
import { type Hint, nextLevel } from "./hints.ts";
import { compareText, isBuilt, learnerFile, readHints, resetKata, runKata } from "./kata_files.ts";
import { parseKeys } from "./keys.ts";
import type { KataResult } from "./results.ts";
import { root } from "./runner.ts";
import {
  emptyState,
  markReset,
  recordRun,
  revealHint,
  type State,
  type StateStore,
} from "./state.ts";
import { clip, type Paint, paint } from "./term.ts";
import {
  type KataScreen,
  type KeyHelp,
  type ListRow,
  pagerMax,
  renderKata,
  renderList,
  renderPager,
  type Size,
} from "./views.ts";

/** The terminal the loop draws on. */
export interface Terminal {
  write(text: string): void;
  size(): Size;
  color: boolean;
}

/** The process's terminal. */
export function processTerminal(): Terminal {
  const encoder = new TextEncoder();
  return {
    write(text) {
      const bytes = encoder.encode(text);
      let written = 0;
      while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
    },
    size() {
      try {
        return Deno.consoleSize();
      } catch {
        return { columns: 100, rows: 30 };
      }
    },
    color: !Deno.noColor,
  };
}

type View =
  | { kind: "kata" }
  | { kind: "list"; cursor: number; typed: string }
  | {
    kind: "pager";
    title: string;
    lines: string[];
    offset: number;
    keys: KeyHelp[];
    /** Extra keys the page handles (return true when handled). */
    onKey?: (key: string) => Promise<boolean>;
  }
  | { kind: "confirm"; lines: string[]; yes: () => Promise<void> };

/** Options shared by learn and workshop. */
export interface LoopOptions {
  store: StateStore;
  /** Re-run on save (Deno.watchFs); false: manual mode, `r` runs. */
  watch: boolean;
  /** `--backend=cpu` for the tests. */
  scriptArgs: string[];
  term: Terminal;
  /** The learning path: the progress bar, `next` and the list's `*`. */
  path: { title: string; katas: readonly number[] };
}

/** Said when `n` comes while the type-check still runs; cleared once it is done. */
export const STILL_CHECKING = "类型检查还在进行 The type-check is still running; a moment.";
const time = (d = new Date()) => d.toTimeString().slice(0, 8);
const BACK = ["escape", "q", "enter", "backspace"];

/** The learner's loop. `run()` resolves with the exit code once the learner quits. */
export class KataLoop {
  kata: Kata = katas[0];
  built = false;
  state: State = emptyState();
  hints: Hint[] = [];
  result?: KataResult;
  phase: "idle" | "checking" = "idle";
  runNo = 0;
  finishedAt?: string;
  /** Messages shown above the keys until the next key or run. */
  notices: string[] = [];
  /** Problems with the state file: shown until the next key. */
  warnings: string[] = [];
  view: View = { kind: "kata" };
  watching = false;
  protected p: Paint;
  #abort?: AbortController;
  #debounce?: ReturnType<typeof setTimeout>;
  #watcher?: Deno.FsWatcher;
  #exit = Promise.withResolvers<number>();
  #closed = false;

  constructor(protected opts: LoopOptions) {
    this.p = paint(opts.term.color);
  }

  // --- Hooks for the workshop ------------------------------------------------------------------

  /** The first line of the kata screen. */
  protected title(): string {
    const path = this.opts.path;
    const done = path.katas.filter((id) => this.state.done.includes(id)).length;
    const filled = Math.round((20 * done) / path.katas.length);
    return `${this.p.bold("LLM Dojo")} · ${path.title}  [${this.p.green("█".repeat(filled))}${
      "░".repeat(20 - filled)
    }] ${done}/${path.katas.length}`;
  }

  /** Lines under the title. */
  protected header(): string[] {
    return [];
  }

  /** Banners of the mode (the workshop's hint offer, time up, pause). */
  protected modeBanners(): string[] {
    return [];
  }

  /** Keys of the kata screen. */
  protected keys(): KeyHelp[] {
    const passed = this.passed();
    const hint = `提示 hint ${this.state.hints[this.kata.id] ?? 0}/${this.hints.length}`;
    return [
      ...(passed ? [["n", "下一个 next"] as KeyHelp, ["c", "对照答案 compare"] as KeyHelp] : []),
      ...(this.built ? [["h", hint] as KeyHelp] : []),
      ["l", "列表 list"],
      ...(this.built ? [["x", "重置 reset"] as KeyHelp] : []),
      ["a", "全部检查 check all"],
      ["r", "运行 run"],
      ["?", "帮助 help"],
      ["q", "退出 quit"],
    ];
  }

  /** Mode keys on the kata screen (return true when handled). */
  protected modeKey(_key: string): Promise<boolean> {
    return Promise.resolve(false);
  }

  /** After each complete run of the learner's file. */
  protected afterRun(_result: KataResult): Promise<void> {
    return Promise.resolve();
  }

  /** After a hint level is revealed. */
  protected afterHint(_level: number): Promise<void> {
    return Promise.resolve();
  }

  /** `n`: the next kata (only once the current one passes). */
  protected async next(): Promise<void> {
    if (!this.passed()) {
      this.notice(
        this.result?.types === "pending"
          ? STILL_CHECKING
          : "先让测试通过，才能进入下一个 Make the tests pass first (or pick a kata with l).",
      );
      return;
    }
    const path = this.opts.path.katas;
    const after = path.filter((id) => id > this.kata.id && !this.state.done.includes(id));
    const next = after[0] ?? path.find((id) => !this.state.done.includes(id));
    if (next === undefined) {
      this.notice(this.p.green("★ 这条路径全部完成！Every kata of this path is done."));
      return;
    }
    await this.select(kataById(next));
  }

  /** The list's Enter: jump to a kata. */
  protected async jump(kata: Kata): Promise<void> {
    this.view = { kind: "kata" };
    await this.select(kata);
  }

  /** `q` and Ctrl-C on the kata screen. */
  protected quit(_how: "q" | "ctrl-c" | "signal"): Promise<void> {
    this.exit(0);
    return Promise.resolve();
  }

  /** Called once before the first screen (the workshop writes its log here). */
  protected begin(): Promise<void> {
    return Promise.resolve();
  }

  /** Called once the loop has stopped and the terminal is back to normal. */
  protected end(): Promise<void> {
    return Promise.resolve();
  }

  // --- The loop --------------------------------------------------------------------------------

  /** The current kata passed its last complete run. */
  passed(): boolean {
    return this.result?.status === "passed" && this.result.types !== "pending" &&
      this.result.kata === this.kata.id;
  }

  notice(message: string): void {
    this.notices = [message];
    this.render();
  }

  /** Starts on `kata` (the workshop picks its own) and resolves with the exit code at the end. */
  async run(kata?: Kata): Promise<number> {
    this.state = await this.opts.store.load();
    Deno.stdin.setRaw(true);
    this.opts.term.write("\x1b[?25l"); // hide the cursor
    // Ctrl-C arrives as a key in raw mode; SIGINT from elsewhere (kill -INT) is taken the same way.
    const handlers: [Deno.Signal, () => void][] = [
      ["SIGINT", () => void this.quit("ctrl-c")],
      ["SIGTERM", () => void this.quit("signal")],
      ["SIGHUP", () => void this.quit("signal")],
    ];
    for (const [s, f] of handlers) Deno.addSignalListener(s, f);
    const onResize = () => this.render();
    Deno.addSignalListener("SIGWINCH", onResize);
    const reading = this.#readKeys();
    try {
      await this.begin();
      if (!this.#closed && kata) await this.select(kata);
      return await this.#exit.promise;
    } finally {
      this.#closed = true;
      clearTimeout(this.#debounce);
      this.#abort?.abort();
      this.#watcher?.close();
      for (const [s, f] of handlers) Deno.removeSignalListener(s, f);
      Deno.removeSignalListener("SIGWINCH", onResize);
      this.opts.term.write("\x1b[?25h\r\n");
      Deno.stdin.setRaw(false);
      await this.end();
      void reading;
    }
  }

  /** Ends the loop with `code`. */
  exit(code: number): void {
    this.#closed = true;
    this.#exit.resolve(code);
  }

  async #readKeys(): Promise<void> {
    const reader = Deno.stdin.readable.getReader();
    try {
      while (!this.#closed) {
        const { value, done } = await reader.read();
        if (done) {
          await this.quit("signal");
          break;
        }
        for (const key of parseKeys(value)) {
          if (this.#closed) break;
          try {
            await this.#key(key);
          } catch (error) {
            this.notice(this.p.red(`出错了 Something went wrong: ${(error as Error).message}`));
          }
        }
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** Shows `kata`, watches its folder and runs its tests. */
  async select(kata: Kata): Promise<void> {
    this.#abort?.abort();
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = undefined;
    this.kata = kata;
    this.built = isBuilt(kata);
    this.result = undefined;
    this.phase = "idle";
    this.runNo = 0;
    this.finishedAt = undefined;
    this.notices = [];
    this.view = { kind: "kata" };
    this.hints = [];
    if (!this.built) {
      this.render();
      return;
    }
    try {
      this.hints = await readHints(kata);
    } catch (error) {
      this.notices = [`hints.md: ${(error as Error).message}`];
    }
    this.#watch();
    this.scheduleRun(0);
  }

  #watch(): void {
    this.watching = false;
    if (!this.opts.watch) return;
    let watcher: Deno.FsWatcher;
    try {
      watcher = Deno.watchFs(join(root, kataDir(this.kata)), { recursive: true });
    } catch (error) {
      this.notices.push(
        `无法监视文件，改用手动模式 Cannot watch files (${(error as Error).message}): ` +
          `press r to run.`,
      );
      return;
    }
    this.#watcher = watcher;
    this.watching = true;
    (async () => {
      for await (const event of watcher) {
        if (event.kind === "access" || event.kind === "other") continue;
        if (event.paths.some((p) => p.endsWith(".ts"))) this.scheduleRun();
      }
    })().catch(() => {});
  }

  /** Shows "checking…" at once and runs the tests after a short quiet time (editors write twice). */
  scheduleRun(delay = 40): void {
    if (!this.built || this.#closed) return;
    this.phase = "checking";
    this.render();
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#startRun(), delay);
  }

  #startRun(): void {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    const kata = this.kata;
    const current = () => !abort.signal.aborted && kata === this.kata && !this.#closed;
    this.runNo++;
    runKata(kata, {
      signal: abort.signal,
      scriptArgs: this.opts.scriptArgs,
      onTests: (partial) => {
        if (!current()) return;
        this.result = partial;
        this.phase = "idle";
        this.finishedAt = time();
        this.render();
      },
    }).then(async (final) => {
      if (!current()) return;
      this.notices = this.notices.filter((n) => !n.includes(STILL_CHECKING));
      this.result = final;
      this.phase = "idle";
      this.finishedAt ??= time();
      this.state = await this.opts.store.update((s) => recordRun(s, final));
      await this.afterRun(final);
      this.render();
    }).catch((error) => {
      if (!current()) return;
      this.phase = "idle";
      this.notice(this.p.red(`无法运行测试 Could not run the tests: ${(error as Error).message}`));
    });
  }

  // --- Keys ------------------------------------------------------------------------------------

  async #key(key: string): Promise<void> {
    if (key === "ctrl-c") return await this.quit("ctrl-c");
    const view = this.view;
    switch (view.kind) {
      case "kata":
        return await this.#kataKey(key);
      case "list":
        return await this.#listKey(view, key);
      case "pager":
        return await this.#pagerKey(view, key);
      case "confirm":
        this.view = { kind: "kata" };
        if (key === "y" || key === "Y" || key === "是") await view.yes();
        else this.notice("已取消 Cancelled.");
        this.render();
        return;
    }
  }

  async #kataKey(key: string): Promise<void> {
    this.warnings = [];
    if (await this.modeKey(key)) return;
    this.notices = [];
    switch (key) {
      case "n":
        return await this.next();
      case "h":
        return await this.#hint();
      case "l":
        this.view = {
          kind: "list",
          cursor: katas.findIndex((k) => k.id === this.kata.id),
          typed: "",
        };
        return this.render();
      case "x":
        return this.#confirmReset();
      case "c":
        return await this.#compare();
      case "a":
        return void this.#checkAll();
      case "r":
        // A kata that was "coming soon" may have arrived since: look again.
        return this.built ? this.scheduleRun(0) : await this.select(this.kata);
      case "?":
        return this.#help();
      case "q":
        return await this.quit("q");
      default:
        return this.render();
    }
  }

  async #listKey(view: Extract<View, { kind: "list" }>, key: string): Promise<void> {
    const last = katas.length - 1;
    if (key === "up" || key === "k") view.cursor = Math.max(0, view.cursor - 1);
    else if (key === "down" || key === "j") view.cursor = Math.min(last, view.cursor + 1);
    else if (/^[0-9]$/.test(key)) {
      view.typed = (view.typed + key).slice(-2);
      const i = katas.findIndex((k) => k.id === Number(view.typed));
      if (i >= 0) view.cursor = i;
      if (view.typed.length === 2) view.typed = "";
    } else if (key === "enter") return await this.jump(katas[view.cursor]);
    else if (["escape", "q", "l", "backspace"].includes(key)) this.view = { kind: "kata" };
    this.render();
  }

  async #pagerKey(view: Extract<View, { kind: "pager" }>, key: string): Promise<void> {
    if (view.onKey && await view.onKey(key)) return;
    const size = this.opts.term.size();
    const max = pagerMax(view.lines, size);
    const page = Math.max(1, size.rows - 5);
    if (key === "down" || key === "j") view.offset = Math.min(max, view.offset + 1);
    else if (key === "up" || key === "k") view.offset = Math.max(0, view.offset - 1);
    else if (key === " " || key === "pagedown") view.offset = Math.min(max, view.offset + page);
    else if (key === "pageup" || key === "b") view.offset = Math.max(0, view.offset - page);
    else if (BACK.includes(key)) this.view = { kind: "kata" };
    this.render();
  }

  /** Opens a pager; `at` is the line to show first. */
  protected page(
    title: string,
    lines: string[],
    at = 0,
    keys: KeyHelp[] = [],
    onKey?: (key: string) => Promise<boolean>,
  ): void {
    const size = this.opts.term.size();
    this.view = {
      kind: "pager",
      title,
      lines,
      offset: Math.min(at, pagerMax(lines, size)),
      keys: [...keys, ["Esc", "返回 back"]],
      onKey,
    };
    this.render();
  }

  async #hint(): Promise<void> {
    if (!this.built) return this.notice("这个练习还没有写好 This kata is not written yet.");
    if (this.hints.length === 0) {
      return this.notice("这个练习还没有提示 This kata has no hints yet.");
    }
    const revealed = this.state.hints[this.kata.id] ?? 0;
    const level = nextLevel(this.hints, revealed);
    if (level !== undefined) {
      this.state = await this.opts.store.update((s) => revealHint(s, this.kata.id, level));
      await this.afterHint(level);
    }
    this.#showHints(level === undefined);
  }

  #showHints(allRevealed: boolean): void {
    const shown = this.state.hints[this.kata.id] ?? 0;
    const lines: string[] = [];
    let at = 0;
    for (const h of this.hints.slice(0, shown)) {
      if (h.level === shown) at = lines.length;
      lines.push(
        this.p.bold(`## 提示 Hint ${h.level}/${this.hints.length}`),
        "",
        ...h.text.split("\n"),
        "",
      );
    }
    if (allRevealed) lines.push(this.p.dim("所有提示都已显示 Every level is shown."));
    const more = shown < this.hints.length;
    this.page(
      `提示 Hints · ${pad(this.kata.id)} ${this.kata.title.zh} · ${this.kata.title.en}`,
      lines,
      at,
      more ? [["h", `下一级 next level (${shown + 1}/${this.hints.length})`]] : [],
      async (key) => {
        if (key !== "h" || !more) return false;
        await this.#hint();
        return true;
      },
    );
  }

  #confirmReset(): void {
    if (!this.built) return this.notice("这个练习还没有写好 This kata is not written yet.");
    const file = learnerFile(this.kata);
    this.view = {
      kind: "confirm",
      lines: [
        this.p.bold(`重置练习 Reset kata ${pad(this.kata.id)}?`),
        "",
        `把 ${file} 恢复成最初的骨架；你现在的文件会备份到 .dojo/backups/。`,
        `This restores the skeleton of ${file}; your file is kept in .dojo/backups/.`,
        "",
        `${this.p.inverse(" y ")} 确认 yes   ${this.p.inverse(" n ")} 取消 no`,
      ],
      yes: async () => {
        const outcome = await resetKata(this.kata);
        this.state = await this.opts.store.update((s) => markReset(s, this.kata.id));
        this.result = undefined;
        this.notices = [
          outcome.changed
            ? `已恢复骨架 Restored the skeleton. 你的文件 Your file: ${outcome.backup}`
            : "文件本来就是骨架 The file already was the skeleton.",
        ];
        this.scheduleRun(0);
      },
    };
    this.render();
  }

  async #compare(): Promise<void> {
    if (!this.passed()) {
      return this.notice(
        "通过之后才能对照参考答案 Compare with the solution once the kata passes.",
      );
    }
    const diff = await compareText(this.kata, this.opts.term.color);
    const lines = diff.trim()
      ? [
        this.p.dim(`git diff --no-index solutions/… ${learnerFile(this.kata)}`),
        this.p.dim("- 参考答案 the solution   + 你的代码 your code"),
        "",
        ...diff.trimEnd().split("\n"),
      ]
      : ["与参考答案完全相同 Identical to the reference solution."];
    this.page(`对照参考答案 Compare · ${pad(this.kata.id)} ${this.kata.title.en}`, lines);
  }

  async #checkAll(): Promise<void> {
    const ids = this.state.done.filter((id) => isBuilt(kataById(id)));
    const lines: string[] = ["重新运行所有已完成的练习 Re-running every kata marked done:", ""];
    this.page("全部检查 Check all", lines);
    const view = this.view;
    const update = () => {
      if (this.view === view) this.render();
    };
    if (ids.length === 0) {
      lines.push("还没有完成的练习 No kata is marked done yet.");
      return update();
    }
    for (const id of ids) {
      const kata = kataById(id);
      const label = `  ${pad(id)} ${kata.title.zh} · ${kata.title.en}  `;
      lines.push(label + this.p.yellow("⟳ 检查中 checking…"));
      update();
      const result = await runKata(kata, { scriptArgs: this.opts.scriptArgs });
      this.state = await this.opts.store.update((s) => recordRun(s, result));
      lines[lines.length - 1] = label +
        (result.status === "passed"
          ? this.p.green(`✓ ${result.passed}/${result.total}`)
          : this.p.red(`✗ ${result.passed}/${result.total} → 已取消完成标记 no longer done`));
      update();
    }
    const failed = ids.filter((id) => !this.state.done.includes(id)).length;
    lines.push(
      "",
      failed
        ? this.p.red(`${failed} 个不再通过 no longer pass(es).`)
        : this.p.green("全部仍然通过 All still pass."),
    );
    if (this.view === view || this.view.kind === "kata") this.render();
  }

  #help(): void {
    this.page("帮助 Help", [
      "保存 mod.ts 就会自动运行测试（手动模式下按 r）。Save mod.ts and the tests run (in manual mode, press r).",
      "",
      "  n   下一个练习（通过之后）  next kata, once this one passes",
      "  h   下一级提示              reveal the next hint level",
      "  l   所有练习及状态，可跳转  all katas with their state; jump to one",
      "  x   重置为骨架（先备份）    reset to the skeleton (your file is backed up)",
      "  c   与参考答案对照（通过后）compare with the solution, once passed",
      "  a   重新检查已完成的练习    re-check every kata marked done",
      "  r   立即运行                run now",
      "  q   退出（进度已保存）      quit (progress is saved)",
      "",
      `进度 Progress: .dojo/state.json · 备份 backups: .dojo/backups/`,
      `完整输出 Full output: deno test katas/${pad(this.kata.id)}`,
    ]);
  }

  // --- Drawing ---------------------------------------------------------------------------------

  /** The kata screen's data. */
  protected screen(): KataScreen {
    const banners = [
      ...this.modeBanners(),
      ...this.warnings.map((w) => this.p.yellow(w)),
      ...this.notices,
    ];
    if (this.passed() && this.view.kind === "kata") {
      banners.unshift(
        this.p.green("★ 通过！Passed! ") +
          "n 下一个 next · c 对照参考答案 compare with the solution",
      );
    }
    return {
      kata: this.kata,
      built: this.built,
      title: this.title(),
      header: this.header(),
      watching: this.watching,
      phase: this.phase,
      result: this.result,
      runNo: this.runNo,
      finishedAt: this.finishedAt,
      hints: { revealed: this.state.hints[this.kata.id] ?? 0, levels: this.hints.length },
      banners,
      keys: this.keys(),
    };
  }

  protected listRows(): ListRow[] {
    return katas.map((k) => ({
      kata: k,
      onPath: this.opts.path.katas.includes(k.id),
      built: isBuilt(k),
      done: this.state.done.includes(k.id),
      timedOut: this.state.timedOut.includes(k.id),
      hints: this.state.hints[k.id] ?? 0,
      last: this.state.last[k.id],
      current: k.id === this.kata.id,
    }));
  }

  protected listKeys(): KeyHelp[] {
    return [["↑↓", "选择 move"], ["Enter", "跳转 jump"], ["01-14", "编号 number"], [
      "Esc",
      "返回 back",
    ]];
  }

  render(): void {
    if (this.#closed) return;
    const size = this.opts.term.size();
    const view = this.view;
    let lines: string[];
    switch (view.kind) {
      case "kata":
        lines = renderKata(this.screen(), this.p, size);
        break;
      case "list":
        lines = renderList(this.listRows(), view.cursor, this.p, {
          title: this.title(),
          typed: view.typed,
          help: "所有练习 All katas",
          keys: this.listKeys(),
          width: size.columns,
        });
        break;
      case "pager":
        lines = renderPager(view.title, view.lines, view.offset, this.p, size, view.keys);
        break;
      case "confirm":
        lines = [this.title(), "", ...view.lines];
        break;
    }
    const shown = lines.slice(0, size.rows).map((l) => clip(l, size.columns) + "\x1b[K");
    this.opts.term.write("\x1b[H" + shown.join("\r\n") + "\x1b[J");
  }
}
