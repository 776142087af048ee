/**
 * The outcome of running a kata's tests, per kata and per test, as one JSON shape shared by
 * `learn`, `workshop`, `check-all --json` and the workshop reports. Documented in RESULTS.md.
 * Pure: building a result from a run touches nothing.
 * @module
 */
import { type Kata, kataName } from "../lib/catalog.ts";
import { TODO_MARKER } from "../lib/todo.ts";
import type { TestRun } from "./runner.ts";

/** Bumped when a field changes meaning or goes away (adding fields does not bump it). */
export const RESULTS_VERSION = 1;

/**
 * - `passed`: every test passes and the kata type-checks (provisional while `types` is `pending`).
 * - `failed`: the tests ran; some fail, or the types do not check.
 * - `error`: the tests could not run (a crash or a type error while loading, no tests found).
 * - `coming-soon`: the kata is not written yet (its folder has no mod_test.ts).
 */
export type KataStatus = "passed" | "failed" | "error" | "coming-soon";

/** The type-check of the kata's files: `pending` while it still runs. */
export type TypesStatus = "ok" | "errors" | "pending" | "skipped";

/** One test of a run. */
export interface TestResult {
  name: string;
  ok: boolean;
  /** It failed with the skeleton's `TODO(kata NN · fn)` error: that part is not written yet. */
  todo: boolean;
  /** The failure message (without Deno's "Uncaught "), when it failed. */
  message?: string;
}

/** One run of one kata's tests: the JSON that RESULTS.md documents. */
export interface KataResult {
  version: typeof RESULTS_VERSION;
  /** The kata's id, 1..14. */
  kata: number;
  /** Its folder name, e.g. `01_setup_tensors`. */
  name: string;
  /** `learner`: katas/NN_slug/mod.ts; `solution`: solutions/NN_slug/mod.ts. */
  target: "learner" | "solution";
  status: KataStatus;
  /** Tests that pass / fail / in all (failed includes todo). */
  passed: number;
  failed: number;
  total: number;
  /** Failing tests that are still the skeleton's TODO. */
  todo: number;
  tests: TestResult[];
  types: TypesStatus;
  /** `deno check`'s output when the types do not check. */
  typeErrors?: string;
  /** The first failing test and its message: what the learner should look at next. */
  firstFailure?: { test: string; message: string };
  /** Deno's own output when the tests could not run (status `error`). */
  output?: string;
  /** When the run started (ISO 8601) and how long it took. */
  startedAt: string;
  seconds: number;
}

/** A file of results: what `check-all --json` and `learn --json` print. */
export interface ResultsFile {
  version: typeof RESULTS_VERSION;
  kind: "dojo-results";
  createdAt: string;
  results: KataResult[];
}

/** What the type-check of a kata gave: `undefined` while it still runs. */
export interface CheckRun {
  code: number;
  output: string;
}

/** Deno's output without the empty "Stack backtrace" some builds add after an error. */
export function cleanOutput(output: string): string {
  return output.replace(/\n*Stack backtrace:\n(?:[ \t]+\d+: .*(?:\n|$))*/g, "\n").trim();
}

/** The failure message as a learner should read it. */
function cleanMessage(message: string): string {
  return message.replace(/^Uncaught (\(in promise\) )?/, "");
}

/** Builds the result of one run. `check` is undefined while the type-check still runs. */
export function kataResult(
  kata: Kata,
  target: KataResult["target"],
  run: TestRun,
  check: CheckRun | undefined | "skipped",
  startedAt: Date,
): KataResult {
  const tests: TestResult[] = run.cases.map((c) => {
    const message = c.ok ? undefined : cleanMessage(c.message ?? "");
    return {
      name: c.name,
      ok: c.ok,
      todo: !c.ok && (message ?? "").includes(TODO_MARKER),
      ...(message !== undefined ? { message } : {}),
    };
  });
  const passed = tests.filter((t) => t.ok).length;
  const couldNotRun = run.outsideErrors || tests.length === 0 ||
    (run.code !== 0 && passed === tests.length);
  const types: TypesStatus = check === "skipped"
    ? "skipped"
    : check === undefined
    ? "pending"
    : check.code === 0
    ? "ok"
    : "errors";
  const testsOk = !couldNotRun && run.code === 0 && passed === tests.length;
  // While the type-check runs, passing tests read as `passed`: provisional until `types` is known.
  const status: KataStatus = couldNotRun
    ? "error"
    : testsOk && types !== "errors"
    ? "passed"
    : "failed";
  const first = tests.find((t) => !t.ok);
  return {
    version: RESULTS_VERSION,
    kata: kata.id,
    name: kataName(kata),
    target,
    status,
    passed,
    failed: tests.length - passed,
    total: tests.length,
    todo: tests.filter((t) => t.todo).length,
    tests,
    types,
    ...(types === "errors" ? { typeErrors: cleanOutput((check as CheckRun).output) } : {}),
    ...(first ? { firstFailure: { test: first.name, message: first.message ?? "" } } : {}),
    ...(couldNotRun ? { output: cleanOutput(run.output) } : {}),
    startedAt: startedAt.toISOString(),
    seconds: Math.round(run.seconds * 1000) / 1000,
  };
}

/** The result for a kata that is not written yet. */
export function comingSoon(kata: Kata, target: KataResult["target"], at: Date): KataResult {
  return {
    version: RESULTS_VERSION,
    kata: kata.id,
    name: kataName(kata),
    target,
    status: "coming-soon",
    passed: 0,
    failed: 0,
    total: 0,
    todo: 0,
    tests: [],
    types: "skipped",
    startedAt: at.toISOString(),
    seconds: 0,
  };
}

/** The results as a {@linkcode ResultsFile}. */
export function resultsFile(results: KataResult[], at: Date): ResultsFile {
  return { version: RESULTS_VERSION, kind: "dojo-results", createdAt: at.toISOString(), results };
}

/** A short, bilingual one-line summary: `✓ 12/12 通过 pass`, `✗ 3/12 通过 pass · 9 TODO`. */
export function summaryLine(r: KataResult): string {
  switch (r.status) {
    case "coming-soon":
      return "即将推出 coming soon";
    case "error":
      return "✗ 测试无法运行 the tests could not run";
    case "passed":
      return `✓ ${r.passed}/${r.total} 通过 pass`;
    case "failed": {
      const todo = r.todo ? ` · ${r.todo} TODO` : "";
      const types = r.types === "errors" ? " · 类型错误 type errors" : "";
      return `✗ ${r.passed}/${r.total} 通过 pass${todo}${types}`;
    }
  }
}

/** Problems that make `x` not a {@linkcode KataResult} (empty when it is one). */
export function kataResultProblems(x: unknown): string[] {
  if (typeof x !== "object" || x === null) return ["not an object"];
  const r = x as Record<string, unknown>;
  const problems: string[] = [];
  const want = (key: string, ok: boolean, what: string) => {
    if (!ok) problems.push(`${key}: ${what} (got ${JSON.stringify(r[key])})`);
  };
  want("version", r.version === RESULTS_VERSION, `must be ${RESULTS_VERSION}`);
  want("kata", Number.isInteger(r.kata), "a kata id");
  want("name", typeof r.name === "string", "a folder name");
  want("target", r.target === "learner" || r.target === "solution", "learner or solution");
  want(
    "status",
    ["passed", "failed", "error", "coming-soon"].includes(r.status as string),
    "passed, failed, error or coming-soon",
  );
  for (const key of ["passed", "failed", "total", "todo"]) {
    want(key, Number.isInteger(r[key]) && (r[key] as number) >= 0, "a count");
  }
  want("tests", Array.isArray(r.tests), "a list");
  want("types", ["ok", "errors", "pending", "skipped"].includes(r.types as string), "a status");
  want("startedAt", typeof r.startedAt === "string", "an ISO date");
  want("seconds", typeof r.seconds === "number", "seconds");
  return problems;
}
