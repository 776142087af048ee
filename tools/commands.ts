/**
 * The plain commands, for scripts, CI and anyone who prefers them to the interactive loop: `list`,
 * `hint NN [level]`, `reset NN [--yes]`, `compare NN`, `check-all [--all] [--json]`,
 * `solution [NN ...]`. They share the core with `learn` (state.ts, results.ts, kata_files.ts).
 * @module
 */
import { type Kata, kataDir, kataName, katas, pad, type PathName, paths } from "../lib/catalog.ts";
import { nextLevel } from "./hints.ts";
import {
  compareText,
  isBuilt,
  learnerFile,
  readHints,
  resetKata,
  runKata,
  withSolutionMap,
} from "./kata_files.ts";
import { repoStore } from "./learn.ts";
import { resultsFile, summaryLine } from "./results.ts";
import type { KataResult } from "./results.ts";
import { denoBin, root } from "./runner.ts";
import { markReset, recordRun, revealHint } from "./state.ts";
import { displayWidth, padEnd, paint, progressBar } from "./term.ts";
import { type ListRow, rowState } from "./views.ts";

/** A mistake in the command line: exit status 2, with the message and a pointer to --help. */
export class UsageError extends Error {}

const color = () => Deno.stdout.isTerminal() && !Deno.noColor;
const label = (k: Kata) => `${pad(k.id)} ${k.title.zh} · ${k.title.en}`;

/** Katas that are not written yet cannot be run, hinted or reset: exit 1 with a clear message. */
function needBuilt(kata: Kata): boolean {
  if (isBuilt(kata)) return true;
  console.error(`${label(kata)}: 即将推出 coming soon (${kataDir(kata)} is not written yet).`);
  return false;
}

/** `list`: every kata with its state. */
export async function list(pathName: PathName, json: boolean): Promise<number> {
  const state = await repoStore().load();
  const path = paths[pathName];
  const rows: ListRow[] = katas.map((k) => ({
    kata: k,
    onPath: (path.katas as readonly number[]).includes(k.id),
    built: isBuilt(k),
    done: state.done.includes(k.id),
    timedOut: state.timedOut.includes(k.id),
    hints: state.hints[k.id] ?? 0,
    last: state.last[k.id],
    current: false,
  }));
  if (json) {
    console.log(JSON.stringify(
      rows.map((r) => ({
        kata: r.kata.id,
        name: kataName(r.kata),
        title: r.kata.title,
        built: r.built,
        onPath: r.onPath,
        done: r.done,
        timedOut: r.timedOut,
        hints: r.hints,
        ...(r.last ? { last: r.last } : {}),
      })),
      null,
      2,
    ));
    return 0;
  }
  const p = paint(color());
  const done = path.katas.filter((id) => state.done.includes(id)).length;
  console.log(`${path.title.zh} · ${path.title.en}  ${progressBar(done, path.katas.length)}\n`);
  const zh = Math.max(...katas.map((k) => displayWidth(k.title.zh)));
  const en = Math.max(...katas.map((k) => k.title.en.length));
  for (const r of rows) {
    console.log(
      `  ${pad(r.kata.id)} ${r.onPath ? "*" : " "} ${padEnd(r.kata.title.zh, zh)}  ${
        padEnd(r.kata.title.en, en)
      }  ${rowState(r, p)}`,
    );
  }
  console.log(
    `\n* 在${path.title.zh}上 on the ${path.title.en} (--path ${Object.keys(paths).join("|")})`,
  );
  return 0;
}

/** `hint NN [level]`: the next hint level, or the level asked for; records it as revealed. */
export async function hint(kata: Kata, levelArg: string | undefined): Promise<number> {
  if (!needBuilt(kata)) return 1;
  const hints = await readHints(kata);
  if (hints.length === 0) {
    console.error(`${label(kata)}: 还没有提示 no hints yet.`);
    return 1;
  }
  const store = repoStore();
  const revealed = (await store.load()).hints[kata.id] ?? 0;
  let level: number;
  if (levelArg !== undefined) {
    level = Number(levelArg);
    if (!Number.isInteger(level) || level < 1 || level > hints.length) {
      throw new UsageError(
        `Kata ${pad(kata.id)} has hint levels 1 to ${hints.length}, not "${levelArg}".`,
      );
    }
  } else level = nextLevel(hints, revealed) ?? hints.length;
  await store.update((s) => revealHint(s, kata.id, level));
  console.log(`提示 Hint ${level}/${hints.length} · ${label(kata)}\n`);
  console.log(hints[level - 1].text);
  console.log(
    level < hints.length
      ? `\n下一级 Next level: deno task hint ${pad(kata.id)}   (${level + 1}/${hints.length})`
      : `\n这是最后一级 This is the last level.`,
  );
  return 0;
}

/** `reset NN [--yes]`: the skeleton back from git, the learner's file kept in .dojo/backups/. */
export async function reset(kata: Kata, yes: boolean): Promise<number> {
  if (!needBuilt(kata)) return 1;
  const file = learnerFile(kata);
  if (!yes) {
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError(
        `reset asks before it overwrites ${file}; without a terminal, add --yes.`,
      );
    }
    const answer = prompt(
      `把 ${file} 恢复成骨架？你的文件会备份到 .dojo/backups/。\n` +
        `Restore the skeleton of ${file}? Your file is kept in .dojo/backups/. [y/N]`,
    );
    if (!/^(y|yes|是)$/i.test((answer ?? "").trim())) {
      console.log("已取消 Cancelled.");
      return 1;
    }
  }
  const outcome = await resetKata(kata);
  await repoStore().update((s) => markReset(s, kata.id));
  console.log(
    outcome.changed
      ? `已恢复骨架 Restored the skeleton of ${file}.\n你的文件 Your file: ${outcome.backup}`
      : `${file} 本来就是骨架 already is the skeleton.`,
  );
  return 0;
}

/** `compare NN`: the diff from the reference solution to the learner's file. */
export async function compare(kata: Kata): Promise<number> {
  if (!needBuilt(kata)) return 1;
  const state = await repoStore().load();
  if (!state.done.includes(kata.id)) {
    console.error(
      `注意 Note: kata ${pad(kata.id)} is not marked done yet; this shows the solution anyway.`,
    );
  }
  const diff = await compareText(kata, color());
  console.log(
    diff.trim()
      ? `- 参考答案 the solution (solutions/${kataName(kata)}/mod.ts)\n` +
        `+ 你的代码 your code (${learnerFile(kata)})\n\n${diff.trimEnd()}`
      : "与参考答案完全相同 Identical to the reference solution.",
  );
  return 0;
}

/**
 * `check-all`: re-runs every kata marked done (with `--all`, every built kata), records the
 * results (a kata that no longer passes is not done any more) and exits 1 if any fails.
 */
export async function checkAll(all: boolean, json: boolean, scriptArgs: string[]): Promise<number> {
  const store = repoStore();
  const state = await store.load();
  const chosen = katas.filter((k) => isBuilt(k) && (all || state.done.includes(k.id)));
  if (chosen.length === 0 && !json) {
    console.log(
      "还没有完成的练习 No kata is marked done yet. `check-all --all` checks every written kata.",
    );
    return 0;
  }
  const results: KataResult[] = [];
  for (const kata of chosen) {
    const result = await runKata(kata, { scriptArgs });
    results.push(result);
    await store.update((s) => recordRun(s, result));
    if (!json) {
      const was = state.done.includes(kata.id) && result.status !== "passed"
        ? " → 不再标记完成 no longer done"
        : "";
      console.log(`${padEnd(label(kata), 44)} ${summaryLine(result)}${was}`);
    }
  }
  const failed = results.filter((r) => r.status !== "passed").length;
  if (json) console.log(JSON.stringify(resultsFile(results, new Date()), null, 2));
  else console.log(`\ncheck-all: ${results.length - failed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

/** `solution [NN ...]`: the kata tests against the reference solutions, with Deno's output. */
export async function solution(chosen: Kata[], scriptArgs: string[]): Promise<number> {
  for (const kata of chosen) {
    if (!isBuilt(kata)) throw new UsageError(`Kata ${kataName(kata)} is not written yet.`);
  }
  const code = await withSolutionMap(async (map) => {
    const { code } = await new Deno.Command(denoBin(), {
      args: ["test", `--import-map=${map}`, ...chosen.map(kataDir), "--", ...scriptArgs],
      cwd: root,
    }).spawn().status;
    return code;
  });
  if (chosen.length === 1) {
    console.log(`\n对照 Compare your file with it: deno task compare ${pad(chosen[0].id)}`);
  }
  return code;
}
