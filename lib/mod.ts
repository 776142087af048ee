/**
 * The LLM Dojo test library: everything a kata's tests use, in one import.
 *
 * @example
 * ```ts
 * import { assertGradients, assertShape, tf } from "../../lib/mod.ts";
 * ```
 * @module
 */
export { backend, tf } from "./tf.ts";
export * from "./assert.ts";
export * from "./gradcheck.ts";
export * from "./leak.ts";
export * from "./train.ts";
export * from "./random.ts";
export * from "./data.ts";
export * from "./todo.ts";
