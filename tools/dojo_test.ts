import { deepStrictEqual, strictEqual } from "node:assert/strict";
import config from "../deno.json" with { type: "json" };
import { main } from "./dojo.ts";

/** Runs the CLI with the console captured; returns the exit code and what it printed. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { log, error } = console;
  let out = "";
  let err = "";
  console.log = (...parts: unknown[]) => void (out += parts.join(" ") + "\n");
  console.error = (...parts: unknown[]) => void (err += parts.join(" ") + "\n");
  try {
    return { code: await main(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

for (
  const [args, expected] of [
    [["bogus"], 'Unknown command "bogus"'],
    [["learn", "--nope"], "Unknown option '--nope'"],
    [["learn", "--path", "scenic"], 'Unknown path "scenic"'],
    [["learn", "02"], '"learn" takes no kata: 02 (to start on a kata: --kata 02)'],
    [["learn", "--kata", "99"], 'Unknown kata "99"'],
    [["test", "--backend=gpu"], 'Unknown backend "gpu"'],
    [["solution", "99"], 'Unknown kata "99"'],
    [["list", "--yes"], "Unknown option '--yes'"],
    [["list", "--path", "scenic"], 'Unknown path "scenic"'],
    [["list", "02"], '"list" takes no kata'],
    [["hint"], '"hint" needs a kata: hint NN'],
    [["hint", "nope"], 'Unknown kata "nope"'],
    [["hint", "01", "2", "3"], '"hint" takes one kata, not: 01 2 3'],
    [["reset", "01", "02"], '"reset" takes one kata, not: 01 02'],
    [["reset", "--force", "01"], "Unknown option '--force'"],
    [["compare"], '"compare" needs a kata: compare NN'],
    [["compare", "15"], 'Unknown kata "15"'],
    [["check-all", "02"], '"check-all" takes no kata'],
    [["check-all", "--every"], "Unknown option '--every'"],
    [["workshop", "--scale", "0"], '--scale must be a number above 0, not "0"'],
    [["workshop", "--scale", "fast"], '--scale must be a number above 0, not "fast"'],
    [["workshop", "--hint-at", "1.5"], "--hint-at must be a share of the kata's time"],
    [["workshop", "someday"], '"workshop" takes a session only with --resume or --report'],
    [["workshop", "--plan", "no-such-plan"], 'Unknown plan "no-such-plan"'],
  ] as const
) {
  Deno.test(`dojo ${args.join(" ")}: exit 2 with a clear message`, async () => {
    const { code, err } = await run([...args]);
    strictEqual(code, 2, err);
    strictEqual(err.includes(expected), true, `expected "${expected}" in:\n${err}`);
    strictEqual(err.includes("--help"), true, "the message should point to --help");
  });
}

Deno.test("dojo --help lists every command, and the built-in plans", async () => {
  const { code, out } = await run(["--help"]);
  strictEqual(code, 0);
  for (const command of ["learn", "workshop", "list", "hint", "reset", "compare", "check-all"]) {
    strictEqual(out.includes(`deno task ${command}`), true, command);
  }
  for (const plan of ["minimal-day", "first-morning", "attention-afternoon"]) {
    strictEqual(out.includes(plan), true, plan);
  }
  strictEqual((await run(["hint", "--help"])).code, 0);
});

Deno.test("deno.json: every runner task runs its own command with narrow permissions", () => {
  const tasks = config.tasks as Record<string, { command: string }>;
  const runner = Object.entries(tasks).filter(([, t]) => t.command.includes("tools/dojo.ts"));
  deepStrictEqual(
    runner.map(([name]) => name),
    ["learn", "workshop", "list", "hint", "reset", "compare", "check-all", "solution", "test"],
  );
  for (const [name, task] of runner) {
    if (name === "test") continue; // the suite: kept as it was
    const m = /^deno run ((?:--allow-\S+ )+)tools\/dojo\.ts (\S+)$/.exec(task.command);
    strictEqual(m !== null, true, `${name}: ${task.command}`);
    strictEqual(m![2], name, `task ${name} runs "${m![2]}"`);
    for (const flag of m![1].trim().split(" ")) {
      strictEqual(
        /^--allow-(read|write|run)=\S+$/.test(flag),
        true,
        `${name}: ${flag} is too wide`,
      );
    }
  }
});
