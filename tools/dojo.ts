/**
 * The LLM Dojo command line: `deno task learn`, `deno task solution`, `deno task test`.
 *
 * ```sh
 * deno task learn                 # run the next unfinished kata of the minimal path
 * deno task learn --path image    # ... of another learning path
 * deno task solution 02           # run kata 02's tests against its reference solution
 * deno task test                  # everything CI runs; ends with "N passed, N failed"
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import {
  findKata,
  type Kata,
  kataDir,
  kataName,
  katas,
  pad,
  type PathName,
  paths,
  solutionDir,
} from "../lib/catalog.ts";
import { TODO_MARKER } from "../lib/todo.ts";
import { denoTest, root, type TestRun } from "./runner.ts";

const usage = `LLM Dojo

Usage:
  deno task learn [--path NAME] [--backend=cpu]
      Runs the katas of a learning path in order and stops at the first one whose tests fail,
      showing its failures. Paths: ${Object.keys(paths).join(", ")} (default: minimal).
  deno task solution [NN ...] [--backend=cpu]
      Runs the kata tests against the reference solutions in solutions/ (all built katas if no NN).
  deno task test [--backend=cpu]
      The full suite: format, lint, type-check, lib tests, every kata's tests against its solution,
      and the proof that every kata's tests fail on its untouched skeleton with the TODO error.

NN is a kata number or name: 2, 02, 02_linear_regression, linear_regression.
--backend=cpu runs TensorFlow.js on its pure-JavaScript backend instead of WebAssembly.`;

class UsageError extends Error {}

function exists(path: string): boolean {
  try {
    Deno.statSync(join(root, path));
    return true;
  } catch {
    return false;
  }
}

/** A kata is built once its folder has tests. */
export function isBuilt(kata: Kata): boolean {
  return exists(`${kataDir(kata)}/mod_test.ts`);
}

/** The parts of a kata (see CONTRIBUTING.md) that are missing or wrong. */
export function layoutProblems(kata: Kata): string[] {
  const dir = kataDir(kata);
  const problems = ["README.md", "README.zh.md", "mod.ts", "mod_test.ts", "hints.md"]
    .filter((file) => !exists(`${dir}/${file}`)).map((file) => `no ${dir}/${file}`);
  if (!exists(`${solutionDir(kata)}/mod.ts`)) problems.push(`no ${solutionDir(kata)}/mod.ts`);
  const link = `katas/${pad(kata.id)}`;
  let target = "";
  try {
    target = Deno.readLinkSync(join(root, link));
  } catch { /* reported below */ }
  if (target !== kataName(kata)) {
    problems.push(
      `${link} should be a link to ${kataName(kata)} (ln -s ${kataName(kata)} ${link})`,
    );
  }
  if (exists(`${dir}/hints.md`)) {
    const levels = Deno.readTextFileSync(join(root, dir, "hints.md")).match(/^## \d+\s*$/gm) ?? [];
    if (levels.length < 2) {
      problems.push(
        `${dir}/hints.md has ${levels.length} levels ("## 1", "## 2", ...), not 2 or more`,
      );
    }
  }
  return problems;
}

/** Writes an import map that sends each kata's `mod.ts` to its solution; returns its path. */
async function solutionImportMap(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const imports: Record<string, string> = { ...config.imports };
  for (const kata of katas.filter(isBuilt)) {
    const solution = pathToFileURL(join(root, solutionDir(kata), "mod.ts")).href;
    for (const dir of [kataDir(kata), `katas/${pad(kata.id)}`]) {
      imports[pathToFileURL(join(root, dir, "mod.ts")).href] = solution;
    }
  }
  const path = await Deno.makeTempFile({ prefix: "dojo-solutions-", suffix: ".json" });
  await Deno.writeTextFile(path, JSON.stringify({ imports }, null, 2));
  return path;
}

async function withSolutionMap<T>(fn: (map: string) => Promise<T>): Promise<T> {
  const map = await solutionImportMap();
  try {
    return await fn(map);
  } finally {
    await Deno.remove(map).catch(() => {});
  }
}

function label(kata: Kata): string {
  return `${pad(kata.id)} ${kata.title.zh} · ${kata.title.en}`;
}

/** True when the learner has changed the kata's skeleton (git knows the original). */
async function skeletonEdited(kata: Kata): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("git", {
      args: ["diff", "--quiet", "HEAD", "--", `${kataDir(kata)}/mod.ts`],
      cwd: root,
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 1;
  } catch {
    return false; // no git: take the file as the skeleton
  }
}

/** `[████░░░░░░] 4/10` */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = Math.round((width * done) / total);
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${total}`;
}

async function learn(pathName: string, scriptArgs: string[]): Promise<number> {
  if (!(pathName in paths)) {
    throw new UsageError(
      `Unknown path "${pathName}". Paths: ${Object.keys(paths).join(", ")}.`,
    );
  }
  const path = paths[pathName as PathName];
  console.log(`${path.title.zh} · ${path.title.en}: ${path.katas.map(pad).join(" → ")}\n`);
  for (const [i, id] of path.katas.entries()) {
    const kata = katas.find((k) => k.id === id)!;
    if (!isBuilt(kata)) {
      console.log(`${progressBar(i, path.katas.length)} ${label(kata)}: coming soon. 即将推出。`);
      return 0;
    }
    const run = await denoTest([kataDir(kata)], scriptArgs);
    if (run.code === 0) {
      console.log(`✓ ${label(kata)}`);
      continue;
    }
    const dir = kataDir(kata);
    const passed = run.cases.filter((c) => c.ok).length;
    console.log(
      `\n${label(kata)}: ` +
        (run.cases.length
          ? `${passed} of ${run.cases.length} tests pass\n`
          : "the tests did not run"),
    );
    for (const c of run.cases) console.log(`  ${c.ok ? "✓" : "✗"} ${c.name}`);
    const first = run.cases.find((c) => !c.ok);
    if (first && !run.outsideErrors) {
      const message = (first.message ?? "").replace(/^Uncaught /, "").replace(/\n/g, "\n    ");
      console.log(`\nFirst failure / 第一个失败: ${first.name}\n    ${message}`);
    } else {
      // A type error or a crash while loading: the learner needs Deno's own words.
      console.log(`\n${run.output.trimEnd()}`);
    }
    console.log(
      `\n${progressBar(i, path.katas.length)} Next kata / 下一个练习: ${label(kata)}\n` +
        `  read / 阅读   ${dir}/README.zh.md · ${dir}/README.md\n` +
        `  edit / 编辑   ${dir}/mod.ts\n` +
        `  hints / 提示  ${dir}/hints.md\n` +
        `  re-run / 重跑 deno test katas/${pad(kata.id)}   (all details) · deno task learn`,
    );
    return 1;
  }
  console.log(`\nAll ${path.katas.length} katas of this path pass. 全部通过！`);
  return 0;
}

async function solution(args: string[], scriptArgs: string[]): Promise<number> {
  const chosen = args.length > 0 ? args.map(findKata) : katas.filter(isBuilt);
  for (const kata of chosen) {
    if (!isBuilt(kata)) throw new UsageError(`Kata ${kataName(kata)} is not written yet.`);
  }
  return await withSolutionMap(async (map) => {
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["test", `--import-map=${map}`, ...chosen.map(kataDir), "--", ...scriptArgs],
      cwd: root,
    }).spawn().status;
    return code;
  });
}

/** One line of the suite's report, and the tests it counts. */
interface Outcome {
  passed: number;
  failed: number;
  skipped: number;
}

async function tool(name: string, args: string[]): Promise<Outcome> {
  const started = performance.now();
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (code === 0) {
    console.log(`✓ ${name.padEnd(26)} (${seconds} s)`);
    return { passed: 1, failed: 0, skipped: 0 };
  }
  const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  console.log(`✗ ${name.padEnd(26)} deno ${args.join(" ")}\n${text.trimEnd()}\n`);
  return { passed: 0, failed: 1, skipped: 0 };
}

function report(name: string, run: TestRun, detail: string, ok: boolean): void {
  const mark = ok ? "✓" : "✗";
  console.log(`${mark} ${name.padEnd(26)} ${detail} (${run.seconds.toFixed(1)} s)`);
  if (!ok) console.log(`${run.output.trimEnd()}\n`);
}

/** Runs tests that must all pass: the lib tests, a kata against its solution. */
function expectPass(name: string, run: TestRun): Outcome {
  const passed = run.cases.filter((c) => c.ok).length;
  const ok = run.code === 0 && !run.outsideErrors && run.cases.length > 0;
  report(name, run, `${passed} of ${run.cases.length} tests pass`, ok);
  return { passed, failed: run.cases.length - passed + (ok ? 0 : 1), skipped: 0 };
}

/** Proves a kata's tests can fail: on the skeleton every test fails with the TODO error. */
function expectTodo(name: string, run: TestRun): Outcome {
  const todo = run.cases.filter((c) => !c.ok && c.message?.includes(TODO_MARKER));
  const bad = run.cases.filter((c) => !todo.includes(c));
  const ok = !run.outsideErrors && run.cases.length > 0 && bad.length === 0;
  report(name, run, `${todo.length} of ${run.cases.length} tests fail with the TODO error`, ok);
  for (const c of bad) {
    console.log(
      c.ok
        ? `    "${c.name}" passes on the untouched skeleton: it cannot catch a wrong answer.`
        : `    "${c.name}" fails with something other than todo(): ${c.message?.split("\n")[0]}`,
    );
  }
  if (run.outsideErrors) {
    console.log("    an error outside the tests (crash or type error): see above");
  }
  return { passed: todo.length, failed: run.cases.length - todo.length + (ok ? 0 : 1), skipped: 0 };
}

/** The suite type-checks everything once up front, so its test runs skip that. */
const noCheck = ["--no-check"];

async function test(scriptArgs: string[]): Promise<number> {
  const built = katas.filter(isBuilt);
  console.log(
    `LLM Dojo · full test suite · ${built.length} of ${katas.length} katas built · ` +
      `backend ${scriptArgs.includes("--backend=cpu") ? "cpu" : "wasm"}\n`,
  );
  const outcomes: Outcome[] = [];
  for (const kata of built) {
    const problems = layoutProblems(kata);
    console.log(
      `${problems.length ? "✗" : "✓"} ${`${pad(kata.id)} layout`.padEnd(26)} ` +
        (problems.length ? problems.join("; ") : "every part in place"),
    );
    outcomes.push({ passed: problems.length ? 0 : 1, failed: problems.length ? 1 : 0, skipped: 0 });
  }
  outcomes.push(await tool("format", ["fmt", "--check"]));
  outcomes.push(await tool("lint", ["lint"]));
  outcomes.push(await tool("type-check", ["check", "lib/", "tools/", "katas/", "solutions/"]));
  await withSolutionMap(async (map) => {
    outcomes.push(
      await tool("type-check tests × solutions", [
        "check",
        `--import-map=${map}`,
        ...built.map((k) => `${kataDir(k)}/mod_test.ts`),
      ]),
    );
    outcomes.push(expectPass("lib", await denoTest([...noCheck, "lib/", "tools/"], scriptArgs)));
    for (const kata of built) {
      const run = await denoTest([...noCheck, `--import-map=${map}`, kataDir(kata)], scriptArgs);
      outcomes.push(expectPass(`${pad(kata.id)} solution`, run));
    }
  });
  for (const kata of built) {
    if (await skeletonEdited(kata)) {
      const msg = `${
        kataDir(kata)
      }/mod.ts has your edits; the proof runs on the untouched skeleton`;
      if (Deno.env.get("CI")) {
        console.log(`✗ ${pad(kata.id)} skeleton: ${msg}, and CI must run it`);
        outcomes.push({ passed: 0, failed: 1, skipped: 0 });
      } else {
        console.log(`- ${pad(kata.id)} skeleton: skipped (${msg})`);
        outcomes.push({ passed: 0, failed: 0, skipped: 1 });
      }
      continue;
    }
    outcomes.push(
      expectTodo(
        `${pad(kata.id)} skeleton`,
        await denoTest([...noCheck, kataDir(kata)], scriptArgs),
      ),
    );
  }
  const sum = (key: keyof Outcome) => outcomes.reduce((s, o) => s + o[key], 0);
  const skipped = sum("skipped");
  console.log(
    `\ntest: ${sum("passed")} passed, ${sum("failed")} failed` +
      (skipped ? `, ${skipped} skipped` : ""),
  );
  return sum("failed") === 0 ? 0 : 1;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        path: { type: "string", default: "minimal" },
        backend: { type: "string", default: "wasm" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    if (values.backend !== "wasm" && values.backend !== "cpu") {
      throw new UsageError(`Unknown backend "${values.backend}": use wasm or cpu.`);
    }
    const scriptArgs = values.backend === "cpu" ? ["--backend=cpu"] : [];
    const [command, ...rest] = positionals;
    const noArgs = () => {
      if (rest.length > 0) throw new UsageError(`"${command}" takes no kata: ${rest.join(" ")}`);
    };
    switch (command) {
      case "learn":
        noArgs();
        return await learn(values.path, scriptArgs);
      case "solution":
        return await solution(rest, scriptArgs);
      case "test":
        noArgs();
        return await test(scriptArgs);
      case undefined:
        console.log(usage);
        return 2;
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (error) {
    const parseError = String((error as { code?: string }).code).startsWith("ERR_PARSE_ARGS");
    if (error instanceof UsageError || error instanceof RangeError || parseError) {
      console.error(`error: ${(error as Error).message}\n\nRun with --help for usage.`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
