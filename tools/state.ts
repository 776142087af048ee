/**
 * The learner's progress: which katas are done, how many hint levels each has revealed, which ones
 * a workshop moved on from when time was up, and each kata's last run. It lives in
 * `.dojo/state.json` at the repository root (ignored by git), is written atomically, and a missing
 * or damaged file never stops the runner: a damaged one is kept aside (`state.json.bad-…`) with a
 * message saying so, and whatever could be read from it is kept.
 *
 * ```json
 * {
 *   "version": 1,
 *   "done": [1, 2],
 *   "hints": { "3": 2 },
 *   "timedOut": [4],
 *   "last": { "3": { "status": "failed", "passed": 5, "total": 14, "at": "2026-…Z" } }
 * }
 * ```
 * @module
 */
import { katas } from "../lib/catalog.ts";
import { type Fs, writeAtomic } from "./fs.ts";
import type { KataResult, KataStatus } from "./results.ts";

export const STATE_VERSION = 1;

/** The last run of a kata, in short. */
export interface RunSummary {
  status: KataStatus;
  passed: number;
  total: number;
  /** ISO 8601. */
  at: string;
}

export interface State {
  version: typeof STATE_VERSION;
  /** Katas whose tests passed on the learner's file at their last complete run, ascending. */
  done: number[];
  /** Kata id → the highest hint level revealed. */
  hints: Record<string, number>;
  /** Katas a timed workshop moved on from when their time was up, ascending. */
  timedOut: number[];
  /** Kata id → its last run. */
  last: Record<string, RunSummary>;
}

export function emptyState(): State {
  return { version: STATE_VERSION, done: [], hints: {}, timedOut: [], last: {} };
}

const isKataId = (x: unknown): x is number =>
  typeof x === "number" && katas.some((k) => k.id === x);
const sorted = (ids: Iterable<number>) => [...new Set(ids)].sort((a, b) => a - b);

/**
 * Reads a state file's text. Whatever is valid is kept; each thing that is not is named in
 * `problems` (empty for a good file).
 */
export function parseState(text: string): { state: State; problems: string[] } {
  const state = emptyState();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { state, problems: [`not valid JSON (${(error as Error).message})`] };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { state, problems: ["not a JSON object"] };
  }
  const d = data as Record<string, unknown>;
  const problems: string[] = [];
  if (d.version !== STATE_VERSION) {
    problems.push(`version is ${JSON.stringify(d.version)}, expected ${STATE_VERSION}`);
  }
  for (const key of ["done", "timedOut"] as const) {
    if (d[key] === undefined) continue;
    if (!Array.isArray(d[key])) {
      problems.push(`"${key}" is not a list of kata numbers`);
      continue;
    }
    const list = d[key] as unknown[];
    const good = list.filter(isKataId);
    if (good.length < list.length) {
      problems.push(
        `"${key}" has unknown katas: ${JSON.stringify(list.filter((x) => !isKataId(x)))}`,
      );
    }
    state[key] = sorted(good);
  }
  if (d.hints !== undefined) {
    if (typeof d.hints !== "object" || d.hints === null || Array.isArray(d.hints)) {
      problems.push(`"hints" is not an object`);
    } else {
      for (const [id, level] of Object.entries(d.hints)) {
        if (isKataId(Number(id)) && Number.isInteger(level) && (level as number) >= 0) {
          state.hints[String(Number(id))] = level as number;
        } else {
          problems.push(`"hints" has a bad entry: "${id}": ${JSON.stringify(level)}`);
        }
      }
    }
  }
  if (d.last !== undefined) {
    if (typeof d.last !== "object" || d.last === null || Array.isArray(d.last)) {
      problems.push(`"last" is not an object`);
    } else {
      for (const [id, run] of Object.entries(d.last)) {
        const r = run as Partial<RunSummary> | null;
        const ok = isKataId(Number(id)) && typeof r === "object" && r !== null &&
          ["passed", "failed", "error", "coming-soon"].includes(r.status as string) &&
          Number.isInteger(r.passed) && Number.isInteger(r.total) && typeof r.at === "string";
        if (ok) {
          state.last[String(Number(id))] = {
            status: r.status!,
            passed: r.passed!,
            total: r.total!,
            at: r.at!,
          };
        } else problems.push(`"last" has a bad entry for "${id}"`);
      }
    }
  }
  const known = ["version", "done", "hints", "timedOut", "last"];
  const unknown = Object.keys(d).filter((k) => !known.includes(k));
  if (unknown.length) problems.push(`unknown fields: ${unknown.join(", ")}`);
  return { state, problems };
}

/** The file's text: stable, formatted JSON. */
export function serializeState(state: State): string {
  const ids = (o: Record<string, unknown>) => Object.keys(o).sort((a, b) => Number(a) - Number(b));
  const ordered = {
    version: state.version,
    done: state.done,
    hints: Object.fromEntries(ids(state.hints).map((id) => [id, state.hints[id]])),
    timedOut: state.timedOut,
    last: Object.fromEntries(ids(state.last).map((id) => [id, state.last[id]])),
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

/**
 * Records a run of the learner's file. A complete run decides whether the kata is done: it is done
 * when it passes and stops being done when it fails. A run whose type-check is still pending only
 * updates `last`.
 */
export function recordRun(state: State, result: KataResult): State {
  if (result.target !== "learner" || result.status === "coming-soon") return state;
  const last = {
    ...state.last,
    [result.kata]: {
      status: result.status,
      passed: result.passed,
      total: result.total,
      at: result.startedAt,
    },
  };
  if (result.types === "pending") return { ...state, last };
  const done = result.status === "passed"
    ? sorted([...state.done, result.kata])
    : state.done.filter((id) => id !== result.kata);
  return { ...state, done, last };
}

/** Records that hint `level` of a kata was shown (levels only go up). */
export function revealHint(state: State, kata: number, level: number): State {
  const now = Math.max(state.hints[kata] ?? 0, level);
  return { ...state, hints: { ...state.hints, [kata]: now } };
}

export function markTimedOut(state: State, kata: number): State {
  return { ...state, timedOut: sorted([...state.timedOut, kata]) };
}

/** After a reset to the skeleton the kata is not done any more (its hints stay revealed). */
export function markReset(state: State, kata: number): State {
  const last = { ...state.last };
  delete last[kata];
  return { ...state, done: state.done.filter((id) => id !== kata), last };
}

/** The state file in `dir` (the repository's `.dojo/`), read and written through `fs`. */
export class StateStore {
  readonly path: string;
  /** False after a read failure: writing could then destroy progress we could not read. */
  writable = true;
  #warned = new Set<string>();

  constructor(
    readonly dir: string,
    private readonly fs: Fs,
    private readonly report: (message: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.path = `${dir}/state.json`;
  }

  /** Reports each message once, however often the file is read. */
  private warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.report(message);
  }

  /** The state; never throws. Problems are reported through `warn`, once each. */
  async load(): Promise<State> {
    let text: string;
    try {
      text = await this.fs.readTextFile(this.path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return emptyState();
      this.writable = false;
      this.warn(
        `无法读取进度文件 Could not read ${this.path}: ${(error as Error).message}. ` +
          `Your progress will not be saved this time (the file is left as it is).`,
      );
      return emptyState();
    }
    const { state, problems } = parseState(text);
    if (problems.length === 0) return state;
    const stamp = this.now().toISOString().replace(/[:.]/g, "-");
    const backup = `${this.path}.bad-${stamp}`;
    try {
      await this.fs.rename(this.path, backup);
    } catch (error) {
      this.writable = false;
      this.warn(
        `进度文件已损坏 ${this.path} is damaged (${problems.join("; ")}) and could not be set ` +
          `aside (${(error as Error).message}): progress will not be saved until it is fixed.`,
      );
      return state;
    }
    this.warn(
      `进度文件已损坏，已备份 ${this.path} was damaged (${problems.join("; ")}). ` +
        `It is kept as ${backup}; the runner goes on with what could be read from it.`,
    );
    await this.save(state);
    return state;
  }

  /** Writes the state atomically; returns false (after a warning) when it could not. */
  async save(state: State): Promise<boolean> {
    if (!this.writable) return false;
    try {
      await writeAtomic(this.fs, this.path, serializeState(state));
      return true;
    } catch (error) {
      this.warn(`无法保存进度 Could not save ${this.path}: ${(error as Error).message}`);
      return false;
    }
  }

  /**
   * Reads the file afresh, applies `change` and writes the result: another `dojo` command that ran
   * in the meantime (a hint in a second terminal) is not overwritten.
   */
  async update(change: (state: State) => State): Promise<State> {
    const next = change(await this.load());
    await this.save(next);
    return next;
  }
}

/** The first kata of the path that is not done (undefined when all are). */
export function firstUnfinished(path: readonly number[], state: State): number | undefined {
  return path.find((id) => !state.done.includes(id));
}

/**
 * The kata to go to after `current`: the next one on the path that is not done, else the first
 * one not done before it, else undefined (the path is complete).
 */
export function nextUnfinished(
  path: readonly number[],
  state: State,
  current: number,
): number | undefined {
  const after = path.filter((id) => id > current && !state.done.includes(id));
  return after[0] ?? firstUnfinished(path.filter((id) => id !== current), state);
}
