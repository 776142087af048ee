import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { parseJunit, parseSummary } from "./runner.ts";

// A report as `deno test --junit-path` writes it (Deno 2.9), with a failure and a step.
const junit = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="3" failures="1" errors="0" time="0.081">
    <testsuite name="./a_test.ts" tests="3" disabled="0" errors="0" failures="1">
        <testcase name="one &lt;&amp;&gt;" classname="./a_test.ts" time="0.003" line="1" col="6">
            <failure message="Uncaught Error: TODO(kata 02 · mse): not &quot;written&quot;">Error: ...</failure>
        </testcase>
        <testcase name="two" classname="./a_test.ts" time="0.000" line="2" col="6">
        </testcase>
        <testcase name="two &gt; s" classname="./a_test.ts" time="0.000" line="3" col="43">
        </testcase>
        <testcase name="ign" classname="./a_test.ts" time="0.000" line="4" col="6">
            <skipped/>
        </testcase>
    </testsuite>
</testsuites>`;

Deno.test("parseJunit reads names, results and unescaped failure messages", () => {
  deepStrictEqual(parseJunit(junit), [
    {
      name: "one <&>",
      file: "./a_test.ts",
      ok: false,
      message: 'Uncaught Error: TODO(kata 02 · mse): not "written"',
    },
    { name: "two", file: "./a_test.ts", ok: true },
    { name: "two > s", file: "./a_test.ts", ok: true },
    { name: "ign", file: "./a_test.ts", ok: true, skipped: true },
  ]);
  deepStrictEqual(parseJunit(""), []);
});

Deno.test("parseSummary counts tests and steps, passed and failed", () => {
  strictEqual(parseSummary("ok | 3 passed | 0 failed (5ms)"), 3);
  strictEqual(parseSummary("FAILED | 2 passed (1 step) | 1 failed (10ms)"), 4);
  strictEqual(parseSummary("FAILED | 0 passed | 2 failed (2 steps) (1ms)"), 4);
  strictEqual(parseSummary("error: Type checking failed."), undefined);
});
