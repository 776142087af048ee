/**
 * Tensor-leak checks. TensorFlow.js frees a tensor's memory only when it is disposed; a training
 * step that forgets one leaks memory on every step until the process dies.
 *
 * @example
 * ```ts
 * import { assertNoLeaks } from "./leak.ts";
 * import { tf } from "./tf.ts";
 * const x = tf.ones([3]);
 * const y = assertNoLeaks(() => tf.tidy(() => tf.sum(tf.square(x)))); // the result may stay
 * y.dispose();
 * x.dispose();
 * ```
 * @module
 */
import { AssertionError } from "node:assert";
import { tf } from "./tf.ts";

/**
 * Counts the distinct live tensors in a value (a tensor, or arrays and objects holding tensors) that
 * were made after the tensor with id `newerThan`: returning a tensor that existed before the call
 * does not excuse a leak. Objects are visited once, so cycles are fine.
 */
function tensorsIn(
  value: unknown,
  newerThan: number,
  seen = new Set<number>(),
  visited = new Set<object>(),
): number {
  if (value instanceof tf.Tensor) {
    if (!value.isDisposed && value.id > newerThan) seen.add(value.id);
  } else if (
    value !== null && typeof value === "object" && !ArrayBuffer.isView(value) &&
    !visited.has(value)
  ) {
    visited.add(value);
    for (const v of Array.isArray(value) ? value : Object.values(value)) {
      tensorsIn(v, newerThan, seen, visited);
    }
  }
  return seen.size;
}

function check(before: number, mark: number, result: unknown, what: string, allowed: number): void {
  const after = tf.memory().numTensors;
  const returned = tensorsIn(result, mark);
  const leaked = after - before - returned;
  if (leaked > allowed) {
    throw new AssertionError({
      message: `${what} leaked ${leaked} tensor${leaked === 1 ? "" : "s"} ` +
        `(tf.memory().numTensors went ${before} → ${after}; ${returned} of them returned)` +
        (allowed > 0 ? `, more than the ${allowed} allowed` : "") +
        `. Wrap intermediate math in tf.tidy(() => ...), which frees every tensor made inside ` +
        `except the one it returns, or call .dispose() on tensors you replace (old weights after ` +
        `an update, the previous hidden state).`,
    });
  }
}

/**
 * Runs `fn` and throws if it left more new tensors alive than it returned (plus `allowed`).
 * Works for async functions too: then it returns a promise. Warm up optimizers first: their first
 * step creates state tensors on purpose.
 */
export function assertNoLeaks<T>(fn: () => T, { what = "the call", allowed = 0 } = {}): T {
  const probe = tf.scalar(0); // tensor ids only grow: every tensor made by fn has a larger one
  const mark = probe.id;
  probe.dispose();
  const before = tf.memory().numTensors;
  const result = fn();
  if (result instanceof Promise) {
    return result.then((r) => (check(before, mark, r, what, allowed), r)) as T;
  }
  check(before, mark, result, what, allowed);
  return result;
}
