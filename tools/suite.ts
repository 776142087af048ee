/**
 * `deno task test`: the full suite CI runs (format, lint, type-check, lib and tools tests, every
 * kata against its solution, and the proof that every skeleton fails with the TODO error). It ends
 * with one line, `test: N passed, N failed`.
 * @module
 */
import { join } from "node:path";
import { type Kata, kataDir, kataName, katas, pad, solutionDir } from "../lib/catalog.ts";
import { TODO_MARKER } from "../lib/todo.ts";
import { parseHints } from "./hints.ts";
import { exists, isBuilt, skeletonEdited, withSolutionMap } from "./kata_files.ts";
import { denoBin, denoTest, root, type TestRun } from "./runner.ts";

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
    try {
      const levels = parseHints(Deno.readTextFileSync(join(root, dir, "hints.md"))).length;
      if (levels < 2) {
        problems.push(`${dir}/hints.md has ${levels} levels ("## 1", "## 2", ...), not 2 or more`);
      }
    } catch (error) {
      problems.push(`${dir}/hints.md: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** One line of the suite's report, and the tests it counts. */
interface Outcome {
  passed: number;
  failed: number;
  skipped: number;
}

async function tool(name: string, args: string[]): Promise<Outcome> {
  const started = performance.now();
  const { code, stdout, stderr } = await new Deno.Command(denoBin(), {
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
  const ran = run.cases.filter((c) => !c.skipped);
  const skipped = run.cases.length - ran.length;
  const passed = ran.filter((c) => c.ok).length;
  const ok = run.code === 0 && !run.outsideErrors && ran.length > 0;
  report(
    name,
    run,
    `${passed} of ${ran.length} tests pass` + (skipped ? `, ${skipped} ignored` : ""),
    ok,
  );
  return { passed, failed: ran.length - passed + (ok ? 0 : 1), skipped };
}

/** Proves a kata's tests can fail: on the skeleton every test fails with the TODO error. */
function expectTodo(name: string, run: TestRun): Outcome {
  const todo = run.cases.filter((c) => !c.ok && c.message?.includes(TODO_MARKER));
  const bad = run.cases.filter((c) => !todo.includes(c));
  const ok = !run.outsideErrors && run.cases.length > 0 && bad.length === 0;
  report(name, run, `${todo.length} of ${run.cases.length} tests fail with the TODO error`, ok);
  for (const c of bad) {
    console.log(
      c.skipped
        ? `    "${c.name}" is ignored: every test of a kata must run on the skeleton and fail there.`
        : c.ok
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

/** Runs the suite; returns the exit code. */
export async function test(scriptArgs: string[]): Promise<number> {
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
  outcomes.push(
    await tool("type-check", ["check", "lib/", "tools/", "bench/", "katas/", "solutions/"]),
  );
  await withSolutionMap(async (map) => {
    outcomes.push(
      await tool("type-check tests × solutions", [
        "check",
        `--import-map=${map}`,
        ...built.map((k) => `${kataDir(k)}/mod_test.ts`),
      ]),
    );
    // The training threads load the repository's modules (read); the native BLAS path is tested
    // where a library is installed (ffi; .ci/run installs OpenBLAS), and its fallback without ffi.
    const libFlags = [
      ...noCheck,
      "--allow-read=.",
      "--allow-ffi",
      "--allow-env=DOJO_BLAS,DOJO_BLAS_THREADS,DOJO_REQUIRE_BLAS",
    ];
    outcomes.push(expectPass("lib", await denoTest([...libFlags, "lib/", "tools/"], scriptArgs)));
    outcomes.push(
      expectPass(
        "lib, no ffi",
        await denoTest([...noCheck, "lib/native_blas_test.ts"], scriptArgs),
      ),
    );
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
