/**
 * The LLM Dojo command line, behind `deno task`. Each command is a task of deno.json with only the
 * permissions it needs.
 *
 * ```sh
 * deno task learn                 # the interactive loop on the next unfinished kata
 * deno task workshop --plan first-morning
 * deno task list · hint 02 · reset 02 · compare 02 · check-all · solution 02
 * deno task test                  # everything CI runs; ends with "N passed, N failed"
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { findKata, type Kata, katas, type PathName, paths } from "../lib/catalog.ts";
import { checkAll, compare, hint, list, reset, solution, UsageError } from "./commands.ts";
import { isBuilt } from "./kata_files.ts";
import { learn } from "./learn.ts";
import { PlanError } from "./plan.ts";
import { SessionError } from "./session.ts";
import { test } from "./suite.ts";
import { plansHelp, workshop } from "./workshop.ts";

export { isBuilt };

const usage = () =>
  `LLM Dojo · 深度学习练习场

用法 Usage (NN: a kata, as 2, 02, 02_linear_regression or linear_regression):

  deno task learn [--path NAME] [--kata NN] [--manual] [--once] [--json]
      The interactive loop: runs the first unfinished kata of a learning path (default minimal),
      re-runs it on every save, with keys for next, hint, list/jump, reset, compare, check-all.
      --manual: no file watching, press r to run. Without a terminal (or with --once) it prints
      the status once and exits 0 (all pass or the next kata is coming soon) or 1.
      Paths: ${Object.keys(paths).join(", ")}.
  deno task workshop [--plan NAME|FILE] [--scale X] [--hint-at F] [--manual]
  deno task workshop --resume [SESSION]      continue a session stopped by q, Ctrl-C or a crash
  deno task workshop --report [SESSION]      (re)write a session's report (JSON, Markdown, HTML)
      Timed sessions. --scale multiplies every kata's minutes (0.1 for a rehearsal); --hint-at is
      the share of a kata's time after which the next hint is offered (default 0.5).
      Built-in plans (default minimal-day), or a JSON plan file (see tools/plan.ts):
${plansHelp()}
  deno task list [--path NAME] [--json]      every kata with its state
  deno task hint NN [LEVEL]                  the next hint level (or LEVEL); remembered
  deno task reset NN [--yes]                 the skeleton back from git; your file kept in .dojo/backups/
  deno task compare NN                       your file against the reference solution (git diff)
  deno task check-all [--all] [--json]       re-run the katas marked done (--all: every written kata);
                                             exit 1 if any fails; --json: results as in tools/RESULTS.md
  deno task solution [NN ...]                the kata tests against the reference solutions
  deno task test                             the full suite CI runs

  --backend=cpu  runs TensorFlow.js on its pure-JavaScript backend instead of WebAssembly.
  Progress is kept in .dojo/state.json (ignored by git).`;

type Options = NonNullable<Parameters<typeof parseArgs>[0]>["options"];

const common: Options = {
  help: { type: "boolean", short: "h" },
  backend: { type: "string", default: "wasm" },
};

/** The options each command takes (anything else is an error). */
const commandOptions: Record<string, Options> = {
  learn: {
    path: { type: "string", default: "minimal" },
    kata: { type: "string" },
    manual: { type: "boolean" },
    once: { type: "boolean" },
    json: { type: "boolean" },
  },
  workshop: {
    plan: { type: "string", default: "minimal-day" },
    scale: { type: "string", default: "1" },
    "hint-at": { type: "string" },
    resume: { type: "boolean" },
    report: { type: "boolean" },
    manual: { type: "boolean" },
  },
  list: { path: { type: "string", default: "minimal" }, json: { type: "boolean" } },
  hint: {},
  reset: { yes: { type: "boolean", short: "y" } },
  compare: {},
  "check-all": { all: { type: "boolean" }, json: { type: "boolean" } },
  solution: {},
  test: {},
};

function pathName(name: string): PathName {
  if (!(name in paths)) {
    throw new UsageError(`Unknown path "${name}". Paths: ${Object.keys(paths).join(", ")}.`);
  }
  return name as PathName;
}

function number(flag: string, text: string, ok: (x: number) => boolean, what: string): number {
  const x = Number(text);
  if (text.trim() === "" || !Number.isFinite(x) || !ok(x)) {
    throw new UsageError(`--${flag} must be ${what}, not "${text}".`);
  }
  return x;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const command = argv[0]?.startsWith("-") ? undefined : argv[0];
    const rest = command === undefined ? argv : argv.slice(1);
    if (command !== undefined && !(command in commandOptions)) {
      throw new UsageError(`Unknown command "${command}".`);
    }
    const { values: v, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { ...common, ...(command ? commandOptions[command] : {}) },
    });
    const values = v as Record<string, string | boolean | undefined>;
    if (values.help) {
      console.log(usage());
      return 0;
    }
    if (values.backend !== "wasm" && values.backend !== "cpu") {
      throw new UsageError(`Unknown backend "${values.backend}": use wasm or cpu.`);
    }
    const scriptArgs = values.backend === "cpu" ? ["--backend=cpu"] : [];
    const noArgs = (hint = "") => {
      if (positionals.length > 0) {
        throw new UsageError(`"${command}" takes no kata: ${positionals.join(" ")}${hint}`);
      }
    };
    const oneKata = (extra = 0): Kata => {
      if (positionals.length === 0) {
        throw new UsageError(`"${command}" needs a kata: ${command} NN`);
      }
      if (positionals.length > 1 + extra) {
        throw new UsageError(`"${command}" takes one kata, not: ${positionals.join(" ")}`);
      }
      return findKata(positionals[0]);
    };
    switch (command) {
      case "learn":
        noArgs(` (to start on a kata: --kata ${positionals[0]})`);
        return await learn({
          path: pathName(values.path as string),
          kata: values.kata ? findKata(values.kata as string) : undefined,
          watch: !values.manual,
          once: Boolean(values.once),
          json: Boolean(values.json),
          scriptArgs,
        });
      case "workshop": {
        const session = positionals.length ? positionals[0] : undefined;
        if (positionals.length > 1 || (session && !values.resume && !values.report)) {
          throw new UsageError(
            `"workshop" takes a session only with --resume or --report: ${positionals.join(" ")}`,
          );
        }
        return await workshop({
          plan: values.plan as string,
          scale: number("scale", values.scale as string, (x) => x > 0, "a number above 0"),
          hintAt: values["hint-at"] === undefined ? undefined : number(
            "hint-at",
            values["hint-at"] as string,
            (x) => x > 0 && x <= 1,
            "a share of the kata's time, above 0 and at most 1",
          ),
          resume: Boolean(values.resume),
          report: Boolean(values.report),
          session,
          watch: !values.manual,
          scriptArgs,
        });
      }
      case "list":
        noArgs();
        return await list(pathName(values.path as string), Boolean(values.json));
      case "hint":
        return await hint(oneKata(1), positionals[1]);
      case "reset":
        return await reset(oneKata(), Boolean(values.yes));
      case "compare":
        return await compare(oneKata());
      case "check-all":
        noArgs();
        return await checkAll(Boolean(values.all), Boolean(values.json), scriptArgs);
      case "solution":
        return await solution(
          positionals.length ? positionals.map(findKata) : katas.filter(isBuilt),
          scriptArgs,
        );
      case "test":
        noArgs();
        return await test(scriptArgs);
      default:
        console.log(usage());
        return 2;
    }
  } catch (error) {
    const parseError = String((error as { code?: string }).code).startsWith("ERR_PARSE_ARGS");
    if (
      error instanceof UsageError || error instanceof RangeError || error instanceof PlanError ||
      parseError
    ) {
      console.error(`error: ${(error as Error).message}\n\nRun with --help for usage.`);
      return 2;
    }
    if (error instanceof SessionError) {
      console.error(`error: the session log cannot be read: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
