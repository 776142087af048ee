import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { kataById } from "../lib/catalog.ts";
import {
  cleanOutput,
  comingSoon,
  kataResult,
  kataResultProblems,
  resultsFile,
  summaryLine,
} from "./results.ts";
import type { TestRun } from "./runner.ts";

const at = new Date("2026-01-02T03:04:05.000Z");
const todoMessage =
  "Uncaught TodoError: TODO(kata 01 · fromRows): not written yet. Fill in `fromRows` in ...";

function run(cases: TestRun["cases"], extra: Partial<TestRun> = {}): TestRun {
  return {
    code: cases.every((c) => c.ok) ? 0 : 1,
    cases,
    outsideErrors: false,
    output: "deno's output",
    seconds: 0.4567,
    ...extra,
  };
}

Deno.test("kataResult: a passing run that type-checks has status passed", () => {
  const r = kataResult(
    kataById(1),
    "learner",
    run([{ name: "a", file: "f", ok: true }, { name: "b", file: "f", ok: true }]),
    { code: 0, output: "" },
    at,
  );
  deepStrictEqual(r, {
    version: 1,
    kata: 1,
    name: "01_setup_tensors",
    target: "learner",
    status: "passed",
    passed: 2,
    failed: 0,
    total: 2,
    todo: 0,
    tests: [{ name: "a", ok: true, todo: false }, { name: "b", ok: true, todo: false }],
    types: "ok",
    startedAt: "2026-01-02T03:04:05.000Z",
    seconds: 0.457,
  });
  strictEqual(summaryLine(r), "✓ 2/2 通过 pass");
  deepStrictEqual(kataResultProblems(r), []);
});

Deno.test("kataResult: TODO failures are counted and the first failure is kept", () => {
  const r = kataResult(
    kataById(1),
    "learner",
    run([
      { name: "a", file: "f", ok: true },
      { name: "b", file: "f", ok: false, message: "Uncaught AssertionError: shape [2] ≠ [2, 1]" },
      { name: "c", file: "f", ok: false, message: todoMessage },
    ]),
    undefined,
    at,
  );
  strictEqual(r.status, "failed");
  strictEqual(r.types, "pending");
  deepStrictEqual([r.passed, r.failed, r.total, r.todo], [1, 2, 3, 1]);
  deepStrictEqual(r.firstFailure, { test: "b", message: "AssertionError: shape [2] ≠ [2, 1]" });
  strictEqual(r.tests[2].todo, true);
  strictEqual(summaryLine(r), "✗ 1/3 通过 pass · 1 TODO");
});

Deno.test("kataResult: passing tests are provisionally passed while the types are checked", () => {
  const r = kataResult(
    kataById(2),
    "learner",
    run([{ name: "a", file: "f", ok: true }]),
    undefined,
    at,
  );
  deepStrictEqual([r.status, r.types], ["passed", "pending"]);
});

Deno.test("kataResult: passing tests with type errors do not pass the kata", () => {
  const r = kataResult(
    kataById(2),
    "learner",
    run([{ name: "a", file: "f", ok: true }]),
    { code: 1, output: "TS2322 [ERROR]: Type 'string' is not assignable\n" },
    at,
  );
  strictEqual(r.status, "failed");
  strictEqual(r.typeErrors, "TS2322 [ERROR]: Type 'string' is not assignable");
  strictEqual(summaryLine(r), "✗ 1/1 通过 pass · 类型错误 type errors");
});

Deno.test("kataResult: a crash while loading is an error with Deno's output", () => {
  for (
    const bad of [
      run([], { code: 1 }),
      run([{ name: "a", file: "f", ok: true }], { code: 1, outsideErrors: true }),
      run([{ name: "a", file: "f", ok: true }], { code: 1 }),
    ]
  ) {
    const r = kataResult(kataById(3), "solution", bad, "skipped", at);
    strictEqual(r.status, "error");
    strictEqual(r.output, "deno's output");
    strictEqual(r.types, "skipped");
  }
});

Deno.test("comingSoon and resultsFile", () => {
  const r = comingSoon(kataById(5), "learner", at);
  strictEqual(r.status, "coming-soon");
  strictEqual(r.name, "05_cnn");
  deepStrictEqual(kataResultProblems(r), []);
  deepStrictEqual(resultsFile([r], at), {
    version: 1,
    kind: "dojo-results",
    createdAt: "2026-01-02T03:04:05.000Z",
    results: [r],
  });
});

Deno.test("kataResultProblems names what is wrong", () => {
  deepStrictEqual(kataResultProblems(null), ["not an object"]);
  const r = { ...comingSoon(kataById(5), "learner", at), status: "great", total: -1 };
  deepStrictEqual(kataResultProblems(r), [
    'status: passed, failed, error or coming-soon (got "great")',
    "total: a count (got -1)",
  ]);
});

Deno.test("cleanOutput drops the empty stack backtrace", () => {
  strictEqual(
    cleanOutput(
      "error: SyntaxError: x\n\nStack backtrace:\n   0: <unknown>\n\nStack backtrace:\n   0: <unknown>",
    ),
    "error: SyntaxError: x",
  );
  strictEqual(cleanOutput("a\nStack backtrace:\n   0: <unknown>\nb"), "a\nb");
});
