/**
 * `deno task learn`: in a terminal, the interactive loop (loop.ts) from the first kata of the path
 * that is not done; piped or in CI, the stateless status (run the path's katas in order, stop at the
 * first failing one) printed once, with an exit status that says whether it passes.
 * @module
 */
import { type Kata, kataById, kataDir, pad, type PathName, paths } from "../lib/catalog.ts";
import { denoFs } from "./fs.ts";
import { dojoDir, runKata } from "./kata_files.ts";
import { KataLoop, processTerminal } from "./loop.ts";
import { resultsFile } from "./results.ts";
import type { KataResult } from "./results.ts";
import { firstUnfinished, StateStore } from "./state.ts";
import { progressBar } from "./term.ts";

export interface LearnOptions {
  path: PathName;
  /** Start on this kata instead of the first one not done. */
  kata?: Kata;
  watch: boolean;
  scriptArgs: string[];
  /** Print the results as JSON (RESULTS.md) instead of text; implies the one-shot status. */
  json: boolean;
  /** Print the status once even in a terminal. */
  once: boolean;
}

function label(kata: Kata): string {
  return `${pad(kata.id)} ${kata.title.zh} · ${kata.title.en}`;
}

/** The state store of this repository, reporting problems on stderr. */
export function repoStore(warn = (m: string) => console.error(`warning: ${m}`)): StateStore {
  return new StateStore(dojoDir, denoFs, warn);
}

/** Runs the path's katas in order and prints the first failing one's status; no state is used. */
export async function learnOnce(options: LearnOptions): Promise<number> {
  const path = paths[options.path];
  const results: KataResult[] = [];
  const out = (text: string) => {
    if (!options.json) console.log(text);
  };
  const finish = (code: number) => {
    if (options.json) console.log(JSON.stringify(resultsFile(results, new Date()), null, 2));
    return code;
  };
  out(`${path.title.zh} · ${path.title.en}: ${path.katas.map(pad).join(" → ")}\n`);
  const ids = options.kata ? [options.kata.id] : path.katas;
  for (const [i, id] of ids.entries()) {
    const kata = kataById(id);
    const run = await runKata(kata, { scriptArgs: options.scriptArgs });
    results.push(run);
    const at = (path.katas as readonly number[]).indexOf(id);
    const bar = progressBar(at >= 0 ? at : i, path.katas.length);
    if (run.status === "coming-soon") {
      out(`${bar} ${label(kata)}: coming soon. 即将推出。`);
      return finish(0);
    }
    if (run.status === "passed") {
      out(`✓ ${label(kata)}`);
      continue;
    }
    const dir = kataDir(kata);
    out(
      `\n${label(kata)}: ` +
        (run.status === "error"
          ? "the tests did not run"
          : `${run.passed} of ${run.total} tests pass`),
    );
    for (const t of run.tests) out(`  ${t.ok ? "✓" : "✗"} ${t.name}`);
    if (run.status === "error") out(`\n${run.output ?? ""}`);
    else if (run.firstFailure) {
      const message = run.firstFailure.message.replace(/\n/g, "\n    ");
      out(`\nFirst failure / 第一个失败: ${run.firstFailure.test}\n    ${message}`);
    }
    if (run.types === "errors") out(`\nType errors / 类型错误:\n${run.typeErrors}`);
    out(
      `\n${bar} Next kata / 下一个练习: ${label(kata)}\n` +
        `  read / 阅读   ${dir}/README.zh.md · ${dir}/README.md\n` +
        `  edit / 编辑   ${dir}/mod.ts\n` +
        `  hints / 提示  deno task hint ${pad(kata.id)}\n` +
        `  re-run / 重跑 deno test katas/${pad(kata.id)}   (all details) · deno task learn`,
    );
    return finish(1);
  }
  out(`\nAll ${ids.length} katas pass. 全部通过！`);
  return finish(0);
}

/** `deno task learn`: interactive in a terminal, the one-shot status otherwise. */
export async function learn(options: LearnOptions): Promise<number> {
  const tty = Deno.stdin.isTerminal() && Deno.stdout.isTerminal();
  if (!tty || options.once || options.json) return await learnOnce(options);
  const early: string[] = [];
  const holder: { loop?: KataLoop } = {};
  const store = repoStore((m) => {
    if (!holder.loop) return void early.push(m);
    holder.loop.warnings.push(m);
    holder.loop.render();
  });
  const path = paths[options.path];
  const state = await store.load();
  const start = options.kata ??
    kataById(firstUnfinished(path.katas, state) ?? path.katas[path.katas.length - 1]);
  const loop = holder.loop = new KataLoop({
    store,
    watch: options.watch,
    scriptArgs: options.scriptArgs,
    term: processTerminal(),
    path: { title: `${path.title.zh} ${path.title.en}`, katas: path.katas },
  });
  loop.warnings = early;
  const code = await loop.run(start);
  console.log(
    `进度已保存 Progress saved in .dojo/state.json. 下次继续 Next time: deno task learn`,
  );
  return code;
}
