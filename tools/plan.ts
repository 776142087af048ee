/**
 * Workshop plans: which katas, in which order, with how many minutes each. The built-in plans are
 * derived from lib/catalog.ts (its paths and suggested minutes); a facilitator can also write a
 * plan file, which is validated with messages that say where and what is wrong. Pure.
 *
 * A plan file (JSON):
 *
 * ```json
 * {
 *   "title": { "zh": "周五下午", "en": "Friday afternoon" },
 *   "katas": ["08", { "kata": 9, "minutes": 30 }, "mini_llm"],
 *   "hintAt": 0.5
 * }
 * ```
 *
 * `katas` lists katas (number or name, as `findKata` takes them), each with the catalog's minutes
 * unless it gives its own; or `"path": "minimal"` takes a learning path. `hintAt` (0 < x ≤ 1,
 * default 0.5) is the share of a kata's minutes after which the next hint is offered. `scale`
 * multiplies every kata's minutes (default 1). `title` is text or `{ "zh": ..., "en": ... }`.
 * @module
 */
import {
  type Bilingual,
  findKata,
  kataById,
  katas,
  type LearningPath,
  pad,
  type PathName,
  paths,
} from "../lib/catalog.ts";

/** One kata of a plan with its time box. */
export interface PlanItem {
  kata: number;
  /** Minutes for this kata (fractions allowed: tests and rehearsals scale plans down). */
  minutes: number;
}

export interface Plan {
  /** The built-in plan's name, or the plan file's path. */
  name: string;
  title: Bilingual;
  katas: PlanItem[];
  /** Share of each kata's minutes after which the next hint is offered, 0 < hintAt ≤ 1. */
  hintAt: number;
}

export const DEFAULT_HINT_AT = 0.5;

/** A plan file that cannot be used; `problems` says every reason, one per line. */
export class PlanError extends Error {
  override name = "PlanError";
  constructor(readonly source: string, readonly problems: string[]) {
    super(`The plan ${source} cannot be used:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

function fromIds(name: string, title: Bilingual, ids: readonly number[]): Plan {
  return {
    name,
    title,
    katas: ids.map((id) => ({ kata: id, minutes: kataById(id).minutes })),
    hintAt: DEFAULT_HINT_AT,
  };
}

const range = (ids: readonly number[]) => `${pad(ids[0])} → ${pad(ids[ids.length - 1])}`;

/** The built-in plans, by name. Their minutes are the catalog's. */
export function builtinPlans(): Record<string, Plan> {
  const minimal = paths.minimal.katas;
  const plans: Record<string, Plan> = {
    "minimal-day": fromIds("minimal-day", {
      zh: `一天走完必选路径 ${range(minimal)}`,
      en: `The minimal path in one day, ${range(minimal)}`,
    }, minimal),
    "first-morning": fromIds("first-morning", {
      zh: "第一个上午：01 → 03",
      en: "The first morning: 01 → 03",
    }, [1, 2, 3]),
    "attention-afternoon": fromIds("attention-afternoon", {
      zh: "注意力下午：08 → 10",
      en: "The attention afternoon: 08 → 10",
    }, [8, 9, 10]),
  };
  for (const [name, path] of Object.entries(paths) as [PathName, LearningPath][]) {
    if (name !== "minimal") plans[name] = fromIds(name, path.title, path.katas);
  }
  return plans;
}

/** Every kata's minutes multiplied by `factor` (rehearsals, demos and tests scale time down). */
export function scalePlan(plan: Plan, factor: number): Plan {
  if (!(factor > 0) || !Number.isFinite(factor)) {
    throw new RangeError(`The time scale must be a number above 0, not ${factor}.`);
  }
  // Rounded to a millisecond of a minute, so that 35 × 0.02 is 0.7 and not 0.7000000000000001.
  const scale = (m: number) => Math.max(0.001, Math.round(m * factor * 1000) / 1000);
  return { ...plan, katas: plan.katas.map((k) => ({ ...k, minutes: scale(k.minutes) })) };
}

/** The plan's total minutes. */
export function planMinutes(plan: Plan): number {
  return plan.katas.reduce((sum, k) => sum + k.minutes, 0);
}

const MAX_MINUTES = 8 * 60;

function describe(x: unknown): string {
  return JSON.stringify(x) ?? String(x);
}

/** Reads a plan file's text; throws a {@linkcode PlanError} listing every problem. */
export function parsePlan(text: string, source: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new PlanError(source, [`not valid JSON: ${(error as Error).message}`]);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new PlanError(source, ['a plan is a JSON object: { "katas": [...] } or { "path": ... }']);
  }
  const d = data as Record<string, unknown>;
  const problems: string[] = [];
  const known = ["title", "katas", "path", "hintAt", "scale"];
  for (const key of Object.keys(d).filter((k) => !known.includes(k))) {
    problems.push(`unknown field "${key}" (known: ${known.join(", ")})`);
  }

  let title: Bilingual = { zh: source, en: source };
  if (typeof d.title === "string" && d.title.trim()) title = { zh: d.title, en: d.title };
  else if (
    typeof d.title === "object" && d.title !== null &&
    typeof (d.title as Bilingual).zh === "string" && typeof (d.title as Bilingual).en === "string"
  ) title = { zh: (d.title as Bilingual).zh, en: (d.title as Bilingual).en };
  else if (d.title !== undefined) {
    problems.push(`title: text or { "zh": ..., "en": ... }, not ${describe(d.title)}`);
  }

  let items: PlanItem[] = [];
  if (d.katas !== undefined && d.path !== undefined) {
    problems.push(`give "katas" or "path", not both`);
  } else if (d.path !== undefined) {
    if (typeof d.path === "string" && d.path in paths) {
      items = paths[d.path as PathName].katas.map((id) => ({
        kata: id,
        minutes: kataById(id).minutes,
      }));
    } else {
      problems.push(`path: one of ${Object.keys(paths).join(", ")}, not ${describe(d.path)}`);
    }
  } else if (d.katas === undefined) {
    problems.push(`no katas: give "katas": ["01", {"kata": "02", "minutes": 20}] or "path"`);
  } else if (!Array.isArray(d.katas) || d.katas.length === 0) {
    problems.push(`katas: a non-empty list, not ${describe(d.katas)}`);
  } else {
    d.katas.forEach((entry: unknown, i: number) => {
      const where = `katas[${i}]`;
      const isObject = typeof entry === "object" && entry !== null && !Array.isArray(entry);
      const ref = isObject ? (entry as Record<string, unknown>).kata : entry;
      if (isObject) {
        for (const key of Object.keys(entry).filter((k) => k !== "kata" && k !== "minutes")) {
          problems.push(`${where}: unknown field "${key}" (known: kata, minutes)`);
        }
      }
      if (typeof ref !== "string" && typeof ref !== "number") {
        problems.push(`${where}: a kata number or name, or { "kata": ..., "minutes": ... }`);
        return;
      }
      let id: number;
      try {
        id = findKata(String(ref)).id;
      } catch {
        problems.push(
          `${where}: there is no kata ${describe(ref)} (katas are ${pad(katas[0].id)} to ${
            pad(katas[katas.length - 1].id)
          })`,
        );
        return;
      }
      if (items.some((k) => k.kata === id)) {
        problems.push(`${where}: kata ${pad(id)} is already in the plan`);
        return;
      }
      let minutes = kataById(id).minutes;
      const given = isObject ? (entry as Record<string, unknown>).minutes : undefined;
      if (given !== undefined) {
        if (typeof given !== "number" || !(given > 0) || given > MAX_MINUTES) {
          problems.push(
            `${where}.minutes: a number above 0 and at most ${MAX_MINUTES}, not ${describe(given)}`,
          );
          return;
        }
        minutes = given;
      }
      items.push({ kata: id, minutes });
    });
  }

  let hintAt = DEFAULT_HINT_AT;
  if (d.hintAt !== undefined) {
    if (typeof d.hintAt === "number" && d.hintAt > 0 && d.hintAt <= 1) hintAt = d.hintAt;
    else {
      problems.push(
        `hintAt: the share of a kata's time after which a hint is offered, above 0 and at most 1 ` +
          `(0.5 = halfway), not ${describe(d.hintAt)}`,
      );
    }
  }
  let scale = 1;
  if (d.scale !== undefined) {
    if (typeof d.scale === "number" && d.scale > 0 && Number.isFinite(d.scale)) scale = d.scale;
    else problems.push(`scale: a number above 0, not ${describe(d.scale)}`);
  }
  if (problems.length) throw new PlanError(source, problems);
  return scalePlan({ name: source, title, katas: items, hintAt }, scale);
}

/** Problems with a plan read back from a session log (empty when it is sound). */
export function planProblems(x: unknown): string[] {
  const p = x as Partial<Plan> | null;
  if (typeof p !== "object" || p === null) return ["the plan is missing"];
  const problems: string[] = [];
  if (typeof p.name !== "string") problems.push("plan.name");
  if (typeof p.title?.zh !== "string" || typeof p.title?.en !== "string") {
    problems.push("plan.title");
  }
  if (!(typeof p.hintAt === "number" && p.hintAt > 0 && p.hintAt <= 1)) {
    problems.push("plan.hintAt");
  }
  if (
    !Array.isArray(p.katas) || p.katas.length === 0 ||
    !p.katas.every((k) =>
      katas.some((c) => c.id === k?.kata) && typeof k.minutes === "number" && k.minutes > 0
    )
  ) problems.push("plan.katas");
  return problems;
}
