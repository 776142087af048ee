import assert from "node:assert/strict";
import { todo, TODO_MARKER, TodoError } from "./todo.ts";

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail("nothing was thrown");
}

Deno.test("todo throws a TodoError that names the kata, the function and the hints", () => {
  const e = caught(() => todo(2, "mse"));
  assert.ok(e instanceof TodoError, `got ${e}`);
  assert.ok(e instanceof Error);
  assert.equal(e.name, "TodoError");
  assert.equal(e.kata, 2);
  assert.equal(e.fn, "mse");
  assert.ok(e.message.startsWith(TODO_MARKER), e.message);
  assert.ok(e.message.startsWith("TODO(kata 02 · mse): not written yet."), e.message);
  assert.ok(e.message.includes("Fill in `mse` in katas/02_linear_regression/mod.ts."), e.message);
  assert.ok(e.message.includes("Read katas/02_linear_regression/hints.md"), e.message);
  assert.match(String(e), /^TodoError: TODO\(kata 02 · mse\)/);
});

Deno.test("todo names the right folder for every kata", () => {
  const e = caught(() => todo(14, "generate"));
  assert.ok(e instanceof TodoError);
  assert.ok(e.message.startsWith(`${TODO_MARKER}14 · generate)`), e.message);
  assert.ok(e.message.includes("katas/14_improvements/hints.md"), e.message);
  const e8 = caught(() => todo(8, "attention"));
  assert.ok(e8 instanceof TodoError && e8.message.includes("katas/08_self_attention/mod.ts"));
});

Deno.test("the marker is what the runner looks for", () => {
  assert.equal(TODO_MARKER, "TODO(kata ");
  // A skeleton with a wrong kata number fails loudly, not with a TodoError the runner would accept.
  const e = caught(() => todo(99, "mse"));
  assert.ok(e instanceof RangeError && !(e instanceof TodoError), `got ${e}`);
  assert.ok(!(e as Error).message.startsWith(TODO_MARKER));
});
