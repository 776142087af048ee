/**
 * The `todo()` marker of kata skeletons. Every gap a learner fills calls it, so an untouched
 * skeleton fails its tests with one recognisable message instead of a crash.
 *
 * @example
 * ```ts
 * import { todo } from "../../lib/todo.ts";
 * export function mse(pred: number[], y: number[]): number {
 *   // TODO: the mean of the squared differences
 *   return todo(2, "mse");
 * }
 * ```
 * @module
 */
import { kataById, kataDir, pad } from "./catalog.ts";

/** Starts the message of every {@linkcode TodoError}; the test runner looks for it. */
export const TODO_MARKER = "TODO(kata ";

/** Thrown by {@linkcode todo}: this part of the kata is still the skeleton. */
export class TodoError extends Error {
  override name = "TodoError";
  constructor(readonly kata: number, readonly fn: string) {
    const dir = kataDir(kataById(kata));
    super(
      `${TODO_MARKER}${pad(kata)} · ${fn}): not written yet. ` +
        `Fill in \`${fn}\` in ${dir}/mod.ts. Stuck? Read ${dir}/hints.md, one level at a time.`,
    );
  }
}

/** Marks a gap in a skeleton. Always throws a {@linkcode TodoError} naming the kata and function. */
export function todo(kata: number, fn: string): never {
  throw new TodoError(kata, fn);
}
