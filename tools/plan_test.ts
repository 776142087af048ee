import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import { kataById, paths } from "../lib/catalog.ts";
import {
  builtinPlans,
  parsePlan,
  PlanError,
  planMinutes,
  planProblems,
  scalePlan,
} from "./plan.ts";

Deno.test("built-in plans come from the catalog's paths and minutes", () => {
  const plans = builtinPlans();
  deepStrictEqual(Object.keys(plans), [
    "minimal-day",
    "first-morning",
    "attention-afternoon",
    "image",
    "sequence",
    "final",
  ]);
  const day = plans["minimal-day"];
  deepStrictEqual(day.katas.map((k) => k.kata), [...paths.minimal.katas]);
  for (const k of day.katas) strictEqual(k.minutes, kataById(k.kata).minutes);
  strictEqual(planMinutes(day), paths.minimal.katas.reduce((s, id) => s + kataById(id).minutes, 0));
  deepStrictEqual(plans["attention-afternoon"].katas.map((k) => k.kata), [8, 9, 10]);
  strictEqual(day.hintAt, 0.5);
  for (const plan of Object.values(plans)) deepStrictEqual(planProblems(plan), []);
});

Deno.test("scalePlan shrinks every kata's minutes", () => {
  const plan = scalePlan(builtinPlans()["first-morning"], 0.02);
  deepStrictEqual(plan.katas.map((k) => k.minutes), [0.5, 0.7, 0.7]);
  throws(() => scalePlan(plan, 0), /above 0/);
  throws(() => scalePlan(plan, NaN), /above 0/);
});

Deno.test("parsePlan reads katas by number or name, with the catalog's or its own minutes", () => {
  const plan = parsePlan(
    JSON.stringify({
      title: { zh: "周五", en: "Friday" },
      katas: ["08", { kata: 9, minutes: 30 }, "mini_llm"],
      hintAt: 0.25,
    }),
    "friday.json",
  );
  deepStrictEqual(plan, {
    name: "friday.json",
    title: { zh: "周五", en: "Friday" },
    katas: [{ kata: 8, minutes: 50 }, { kata: 9, minutes: 30 }, { kata: 10, minutes: 40 }],
    hintAt: 0.25,
  });
  const byPath = parsePlan('{"path": "image", "scale": 0.5, "title": "Images"}', "p.json");
  deepStrictEqual(byPath.katas, [{ kata: 4, minutes: 22.5 }, { kata: 5, minutes: 20 }]);
  deepStrictEqual(byPath.title, { zh: "Images", en: "Images" });
});

function problemsOf(text: string): string[] {
  try {
    parsePlan(text, "plan.json");
  } catch (error) {
    if (error instanceof PlanError) return error.problems;
    throw error;
  }
  throw new Error("expected a PlanError");
}

Deno.test("parsePlan lists every problem, saying where", () => {
  deepStrictEqual(problemsOf("[1, 2]"), [
    'a plan is a JSON object: { "katas": [...] } or { "path": ... }',
  ]);
  strictEqual(problemsOf("{ katas: [] }")[0].startsWith("not valid JSON: "), true);
  deepStrictEqual(problemsOf("{}"), [
    'no katas: give "katas": ["01", {"kata": "02", "minutes": 20}] or "path"',
  ]);
  deepStrictEqual(problemsOf('{"katas": []}'), ["katas: a non-empty list, not []"]);
  deepStrictEqual(
    problemsOf(JSON.stringify({
      katas: ["01", "99", { kata: 2, minutes: -5 }, "01", { kata: 3, mins: 4 }, true],
      hintAt: 2,
      scale: "fast",
      colour: "red",
    })),
    [
      'unknown field "colour" (known: title, katas, path, hintAt, scale)',
      'katas[1]: there is no kata "99" (katas are 01 to 14)',
      "katas[2].minutes: a number above 0 and at most 480, not -5",
      "katas[3]: kata 01 is already in the plan",
      'katas[4]: unknown field "mins" (known: kata, minutes)',
      'katas[5]: a kata number or name, or { "kata": ..., "minutes": ... }',
      "hintAt: the share of a kata's time after which a hint is offered, above 0 and at most 1 " +
      "(0.5 = halfway), not 2",
      'scale: a number above 0, not "fast"',
    ],
  );
  deepStrictEqual(problemsOf('{"path": "scenic"}'), [
    'path: one of minimal, image, sequence, final, not "scenic"',
  ]);
  deepStrictEqual(problemsOf('{"path": "image", "katas": ["01"]}'), [
    'give "katas" or "path", not both',
  ]);
});

Deno.test("PlanError's message names the file and lists the problems", () => {
  throws(
    () => parsePlan('{"katas": ["99"]}', "room-b.json"),
    (e: unknown) => {
      strictEqual(e instanceof PlanError, true);
      strictEqual(
        (e as Error).message,
        'The plan room-b.json cannot be used:\n  - katas[0]: there is no kata "99" (katas are 01 to 14)',
      );
      return true;
    },
  );
});

Deno.test("planProblems checks a plan read back from a log", () => {
  deepStrictEqual(planProblems(null), ["the plan is missing"]);
  deepStrictEqual(planProblems({ name: "x", title: { zh: "x", en: "x" }, katas: [], hintAt: 0 }), [
    "plan.hintAt",
    "plan.katas",
  ]);
});
