import { strictEqual } from "node:assert/strict";
import { main } from "./dojo.ts";

/** Runs the CLI with console.error captured; returns the exit code and what it printed. */
async function run(args: string[]): Promise<{ code: number; err: string }> {
  const original = console.error;
  let err = "";
  console.error = (...parts: unknown[]) => void (err += parts.join(" ") + "\n");
  try {
    return { code: await main(args), err };
  } finally {
    console.error = original;
  }
}

for (
  const [args, expected] of [
    [["bogus"], 'Unknown command "bogus"'],
    [["learn", "--nope"], "Unknown option '--nope'"],
    [["learn", "--path", "scenic"], 'Unknown path "scenic"'],
    [["learn", "02"], '"learn" takes no kata'],
    [["test", "--backend=gpu"], 'Unknown backend "gpu"'],
    [["solution", "99"], 'Unknown kata "99"'],
  ] as const
) {
  Deno.test(`dojo ${args.join(" ")}: exit 2 with a clear message`, async () => {
    const { code, err } = await run([...args]);
    strictEqual(code, 2);
    strictEqual(err.includes(expected), true, `expected "${expected}" in:\n${err}`);
    strictEqual(err.includes("--help"), true, "the message should point to --help");
  });
}
