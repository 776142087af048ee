/**
 * A kata's files on disk, and what the runner does with them: is it built, its hints, its skeleton
 * (from git), reset with a backup, the diff against the solution, and running its tests. The I/O
 * edge of the runner; the decisions are in the pure modules beside it.
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Kata, kataDir, kataName, katas, pad, solutionDir } from "../lib/catalog.ts";
import { denoFs, writeAtomic } from "./fs.ts";
import { type Hint, parseHints } from "./hints.ts";
import { comingSoon, type KataResult, kataResult } from "./results.ts";
import { denoCheck, denoTest, makeTempFile, root } from "./runner.ts";

/** The runner's own folder: state, backups, workshop logs (ignored by git). */
export const dojoDir = join(root, ".dojo");

/** True when `path` (relative to the repository root) exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(join(root, path));
    return true;
  } catch {
    return false;
  }
}

/** A kata is built once its folder has tests. */
export function isBuilt(kata: Kata): boolean {
  return exists(`${kataDir(kata)}/mod_test.ts`);
}

/** The file the learner edits, relative to the root. */
export function learnerFile(kata: Kata): string {
  return `${kataDir(kata)}/mod.ts`;
}

/** The kata's hint levels; none when it has no hints.md (yet). */
export async function readHints(kata: Kata): Promise<Hint[]> {
  try {
    return parseHints(await Deno.readTextFile(join(root, kataDir(kata), "hints.md")));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

async function git(args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { code, stdout, stderr } = await new Deno.Command("git", {
      args,
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const d = new TextDecoder();
    return { code, out: d.decode(stdout), err: d.decode(stderr) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("git is not installed: reset and compare need it. 需要安装 git。");
    }
    throw error;
  }
}

/** The skeleton as committed (git's HEAD); throws with a clear message when git cannot tell. */
export async function skeletonText(kata: Kata): Promise<string> {
  const { code, out, err } = await git(["show", `HEAD:${learnerFile(kata)}`]);
  if (code !== 0) {
    throw new Error(
      `git has no committed skeleton for ${learnerFile(kata)} (${err.trim().split("\n")[0]}).`,
    );
  }
  return out;
}

/** What a reset did. */
export interface ResetOutcome {
  /** False when the file already was the skeleton (nothing was written). */
  changed: boolean;
  /** Where the learner's file was kept, relative to the root. */
  backup?: string;
}

/** A file name from a date: `2026-01-02_03-04-05`. */
export function stamp(at: Date): string {
  return at.toISOString().slice(0, 19).replace("T", "_").replace(/:/g, "-");
}

/**
 * Restores the kata's skeleton from git, first keeping the learner's file in
 * `.dojo/backups/NN_slug/<date>_mod.ts`.
 */
export async function resetKata(kata: Kata, at = new Date()): Promise<ResetOutcome> {
  const skeleton = await skeletonText(kata);
  const path = join(root, learnerFile(kata));
  const current = await Deno.readTextFile(path).catch(() => undefined);
  if (current === skeleton) return { changed: false };
  let backup: string | undefined;
  if (current !== undefined) {
    backup = `.dojo/backups/${kataName(kata)}/${stamp(at)}_mod.ts`;
    await writeAtomic(denoFs, join(root, backup), current);
  }
  await writeAtomic(denoFs, path, skeleton);
  return { changed: true, backup };
}

/** The learner's file has changes against the committed skeleton. */
export async function skeletonEdited(kata: Kata): Promise<boolean> {
  try {
    const { code } = await git(["diff", "--quiet", "HEAD", "--", learnerFile(kata)]);
    return code === 1;
  } catch {
    return false; // no git: take the file as the skeleton
  }
}

/**
 * The diff from the reference solution to the learner's file (`git diff --no-index`): lines with
 * `-` are the solution's, lines with `+` the learner's. Empty when they are the same.
 */
export async function compareText(kata: Kata, color: boolean): Promise<string> {
  const solution = `${solutionDir(kata)}/mod.ts`;
  if (!exists(solution)) throw new Error(`There is no reference solution ${solution} yet.`);
  const { code, out, err } = await git([
    "diff",
    "--no-index",
    "--diff-algorithm=histogram",
    `--color=${color ? "always" : "never"}`,
    "--",
    solution,
    learnerFile(kata),
  ]);
  if (code > 1) throw new Error(`git diff failed: ${err.trim()}`);
  return out;
}

/** Writes an import map that sends each built kata's `mod.ts` to its solution; returns its path. */
export async function solutionImportMap(): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const imports: Record<string, string> = { ...config.imports };
  for (const kata of katas.filter(isBuilt)) {
    const solution = pathToFileURL(join(root, solutionDir(kata), "mod.ts")).href;
    for (const dir of [kataDir(kata), `katas/${pad(kata.id)}`]) {
      imports[pathToFileURL(join(root, dir, "mod.ts")).href] = solution;
    }
  }
  const path = await makeTempFile("dojo-solutions-", ".json");
  await Deno.writeTextFile(path, JSON.stringify({ imports }, null, 2));
  return path;
}

/** Runs `fn` with the solution import map, and removes the map after. */
export async function withSolutionMap<T>(fn: (map: string) => Promise<T>): Promise<T> {
  const map = await solutionImportMap();
  try {
    return await fn(map);
  } finally {
    await Deno.remove(map).catch(() => {});
  }
}

/** Options of {@linkcode runKata}. */
export interface RunKataOptions {
  /** `--backend=cpu`, given to the tests. */
  scriptArgs?: string[];
  /** Kills the run (a newer save makes it useless); the promise then rejects with an AbortError. */
  signal?: AbortSignal;
  /** Called with the tests' outcome as soon as they finish, while the type-check still runs. */
  onTests?: (partial: KataResult) => void;
  /** Run against the reference solution (an import map from {@linkcode solutionImportMap}). */
  solutionMap?: string;
}

/**
 * Runs a kata's tests, then type-checks it. The tests run without the type-check (`--no-check`,
 * well under a second warm) so that their outcome is on screen at once (`onTests`); `deno check`
 * (several seconds after an edit) follows. Run one after the other rather than side by side, so
 * that on a busy two-core laptop the type-check does not slow the results down. The kata passes
 * when both do.
 */
export async function runKata(kata: Kata, options: RunKataOptions = {}): Promise<KataResult> {
  const at = new Date();
  const target = options.solutionMap ? "solution" : "learner";
  if (!isBuilt(kata)) return comingSoon(kata, target, at);
  const map = options.solutionMap ? [`--import-map=${options.solutionMap}`] : [];
  const run = { signal: options.signal };
  const tests = await denoTest(["--no-check", ...map, kataDir(kata)], options.scriptArgs, run);
  options.signal?.throwIfAborted();
  options.onTests?.(kataResult(kata, target, tests, undefined, at));
  const check = await denoCheck([`${kataDir(kata)}/mod_test.ts`], map, run);
  options.signal?.throwIfAborted();
  return kataResult(kata, target, tests, check, at);
}
