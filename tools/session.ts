/**
 * A workshop session as an append-only log of events (JSON lines in
 * `.dojo/workshops/<id>.jsonl`), and the session's state computed by replaying that log. Each event
 * is appended as it happens, so Ctrl-C, a crash or a closed laptop loses nothing, and
 * `deno task workshop --resume` continues by replaying the same events.
 *
 * Time: a kata's time runs between events while the session is neither paused, stopped nor ended.
 * The gap before a `continue` event (the session was not running: Ctrl-C, crash) never counts. A
 * `tick` is logged every few seconds so that a crash costs at most that much time.
 *
 * Everything but {@linkcode SessionLog} is pure; time comes from a {@linkcode Clock}.
 * @module
 */
import type { Clock } from "./clock.ts";
import type { Fs } from "./fs.ts";
import { type Plan, planMinutes, planProblems } from "./plan.ts";
import type { KataStatus } from "./results.ts";

export const SESSION_VERSION = 1;

/** How a kata of the plan ended. */
export type Outcome = "passed" | "timed-out" | "skipped" | "coming-soon";

/** One line of the log. `t` is the clock's milliseconds. */
export type SessionEvent =
  | { t: number; type: "start"; version: typeof SESSION_VERSION; id: string; plan: Plan }
  | {
    t: number;
    type: "run";
    kata: number;
    status: KataStatus;
    passed: number;
    total: number;
    seconds: number;
  }
  | { t: number; type: "hint"; kata: number; level: number }
  | { t: number; type: "pause" }
  | { t: number; type: "resume" }
  | { t: number; type: "move-on"; kata: number; outcome: Outcome }
  | { t: number; type: "tick" }
  | { t: number; type: "stop"; reason: "quit" | "interrupted" }
  | { t: number; type: "continue" }
  | { t: number; type: "end"; reason: "finished" | "ended-early" };

/** An event before the clock stamps it. */
export type NewEvent = SessionEvent extends infer E ? E extends unknown ? Omit<E, "t"> : never
  : never;

/** What happened to one kata of the plan. */
export interface KataLog {
  kata: number;
  /** Minutes the plan gives it. */
  minutes: number;
  /** Time spent on it (not paused), in milliseconds. */
  usedMs: number;
  /** Test runs. */
  runs: number;
  /** Hints revealed during the session, and the highest level seen. */
  hints: number;
  maxHint: number;
  /** Its tests passed at least once. */
  passed: boolean;
  /** Time used when it first passed. */
  passedAtMs?: number;
  lastRun?: { status: KataStatus; passed: number; total: number };
  /** Set once the session moved on from it. */
  outcome?: Outcome;
}

export interface SessionState {
  id: string;
  plan: Plan;
  startedAt: number;
  /** The plan position being worked on; `plan.katas.length` once every kata is behind. */
  index: number;
  paused: boolean;
  /** Stopped by Ctrl-C or quit, and not continued yet. */
  stopped: boolean;
  ended?: "finished" | "ended-early";
  /** The time of the last event. */
  lastT: number;
  /** Session time used (not paused), in milliseconds. */
  usedMs: number;
  katas: KataLog[];
}

/** A log that cannot be replayed. */
export class SessionError extends Error {
  override name = "SessionError";
}

const running = (s: SessionState) => !s.paused && !s.stopped && !s.ended;

/** The state right after the `start` event. */
export function startState(start: Extract<SessionEvent, { type: "start" }>): SessionState {
  return {
    id: start.id,
    plan: start.plan,
    startedAt: start.t,
    index: 0,
    paused: false,
    stopped: false,
    lastT: start.t,
    usedMs: 0,
    katas: start.plan.katas.map((k) => ({
      kata: k.kata,
      minutes: k.minutes,
      usedMs: 0,
      runs: 0,
      hints: 0,
      maxHint: 0,
      passed: false,
    })),
  };
}

/** The state after one more event (the reducer that replay and the live session share). */
export function apply(state: SessionState, e: SessionEvent): SessionState {
  const s: SessionState = { ...state, katas: state.katas.map((k) => ({ ...k })) };
  const current = s.katas[s.index] as KataLog | undefined;
  const delta = Math.max(0, e.t - s.lastT);
  if (running(s) && e.type !== "continue") {
    s.usedMs += delta;
    if (current) current.usedMs += delta;
  }
  s.lastT = Math.max(s.lastT, e.t);
  const forCurrent = (kata: number) => current !== undefined && current.kata === kata;
  switch (e.type) {
    case "start":
      throw new SessionError("a second start event");
    case "run":
      if (forCurrent(e.kata)) {
        current!.runs++;
        current!.lastRun = { status: e.status, passed: e.passed, total: e.total };
        if (e.status === "passed" && !current!.passed) {
          current!.passed = true;
          current!.passedAtMs = current!.usedMs;
        }
      }
      break;
    case "hint":
      if (forCurrent(e.kata)) {
        current!.hints++;
        current!.maxHint = Math.max(current!.maxHint, e.level);
      }
      break;
    case "pause":
      s.paused = true;
      break;
    case "resume":
      s.paused = false;
      break;
    case "move-on":
      if (forCurrent(e.kata)) {
        current!.outcome = e.outcome;
        s.index++;
      }
      break;
    case "stop":
      s.stopped = true;
      break;
    case "continue":
      s.stopped = false;
      break;
    case "end":
      s.ended = e.reason;
      break;
    case "tick":
      break;
  }
  return s;
}

/** The state after all the events of a log; the first must be `start`. */
export function replay(events: SessionEvent[]): SessionState {
  const [first, ...rest] = events;
  if (first?.type !== "start") throw new SessionError("the log does not begin with a start event");
  if (first.version !== SESSION_VERSION) {
    throw new SessionError(
      `the log is version ${first.version}; this runner reads ${SESSION_VERSION}`,
    );
  }
  const problems = planProblems(first.plan);
  if (problems.length) throw new SessionError(`the log's plan is damaged: ${problems.join(", ")}`);
  return rest.reduce(apply, startState(first));
}

// --- Time, read at `now` ---------------------------------------------------------------------

/** Session time used at `now`. */
export function sessionUsed(s: SessionState, now: number): number {
  return s.usedMs + (running(s) ? Math.max(0, now - s.lastT) : 0);
}

/** The current kata's log, if any kata is left. */
export function currentKata(s: SessionState): KataLog | undefined {
  return s.katas[s.index];
}

/** Time used on the current kata at `now`. */
export function kataUsed(s: SessionState, now: number): number {
  const k = currentKata(s);
  if (!k) return 0;
  return k.usedMs + (running(s) ? Math.max(0, now - s.lastT) : 0);
}

/** Time left for the current kata (negative: overtime). */
export function kataLeft(s: SessionState, now: number): number {
  const k = currentKata(s);
  return k ? k.minutes * 60_000 - kataUsed(s, now) : 0;
}

/** Time left in the whole plan (negative: overtime). */
export function sessionLeft(s: SessionState, now: number): number {
  return planMinutes(s.plan) * 60_000 - sessionUsed(s, now);
}

/** The current kata's time is up and it has not passed: time to offer to move on. */
export function timeUp(s: SessionState, now: number): boolean {
  const k = currentKata(s);
  return k !== undefined && !k.passed && kataLeft(s, now) <= 0;
}

/**
 * The hint level to offer now, if any: once `plan.hintAt` of the kata's time is used, while it has
 * not passed, the next level after those already revealed (`revealed`: from the learner's state,
 * which may know levels revealed before the session).
 */
export function hintToOffer(
  s: SessionState,
  now: number,
  levels: number,
  revealed: number,
): number | undefined {
  const k = currentKata(s);
  if (!k || k.passed) return undefined;
  if (kataUsed(s, now) < s.plan.hintAt * k.minutes * 60_000) return undefined;
  const next = Math.max(revealed, k.maxHint) + 1;
  return next <= levels ? next : undefined;
}

// --- The log on disk ---------------------------------------------------------------------------

const types = [
  "start",
  "run",
  "hint",
  "pause",
  "resume",
  "move-on",
  "tick",
  "stop",
  "continue",
  "end",
];

/**
 * Reads a log's text. Damaged lines are skipped and named in `problems`; a last line cut short (a
 * crash in the middle of a write) is expected and also reported.
 */
export function parseLog(text: string): { events: SessionEvent[]; problems: string[] } {
  const events: SessionEvent[] = [];
  const problems: string[] = [];
  const lines = text.split("\n");
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const last = i === lines.length - 1; // no newline after it: the write did not finish
    try {
      const e = JSON.parse(line);
      if (typeof e?.t !== "number" || !types.includes(e?.type)) throw new Error("not an event");
      events.push(e);
    } catch {
      problems.push(
        last
          ? `line ${i + 1} was cut short (the session stopped while writing it); skipped`
          : `line ${i + 1} is damaged; skipped`,
      );
    }
  });
  return { events, problems };
}

/** A session's id from its start time and plan: `2026-01-01_09-00-00_first-morning`. */
export function sessionId(now: number, planName: string): string {
  const stamp = new Date(now).toISOString().slice(0, 19).replace("T", "_").replace(/:/g, "-");
  const name = planName.replace(/^.*\//, "").replace(/\.json$/, "").replace(/[^\w-]+/g, "-");
  return `${stamp}_${name}`;
}

/**
 * A session and its log file: every event is stamped by the clock, appended to the file, then
 * applied to the state.
 */
export class SessionLog {
  private constructor(
    private readonly fs: Fs,
    readonly path: string,
    private readonly clock: Clock,
    public state: SessionState,
    /** Problems met while reading the log back (damaged lines). */
    readonly problems: string[] = [],
  ) {}

  /** Starts a new session in `dir`. */
  static async start(fs: Fs, dir: string, clock: Clock, plan: Plan): Promise<SessionLog> {
    const t = clock.now();
    const id = sessionId(t, plan.name);
    const start = { t, type: "start", version: SESSION_VERSION, id, plan } as const;
    await fs.mkdir(dir);
    const path = `${dir}/${id}.jsonl`;
    await fs.appendTextFile(path, JSON.stringify(start) + "\n");
    return new SessionLog(fs, path, clock, startState(start));
  }

  /** Reads a session back from its log; `continue` appends the event that resumes it. */
  static async open(fs: Fs, path: string, clock: Clock): Promise<SessionLog> {
    const text = await fs.readTextFile(path);
    const { events, problems } = parseLog(text);
    const log = new SessionLog(fs, path, clock, replay(events), problems);
    // A line cut short by a crash gets its newline, so that the next event starts a line of its own.
    if (text.length > 0 && !text.endsWith("\n")) await fs.appendTextFile(path, "\n");
    return log;
  }

  /** Stamps, appends and applies an event. */
  async record(event: NewEvent): Promise<SessionState> {
    const e = { t: this.clock.now(), ...event } as SessionEvent;
    // A finished line per event, in one write: the file is whole up to the last event.
    await this.fs.appendTextFile(this.path, JSON.stringify(e) + "\n");
    this.state = apply(this.state, e);
    return this.state;
  }

  now(): number {
    return this.clock.now();
  }
}

/** The logs in `dir`, newest first (their names start with the date). */
export async function listLogs(fs: Fs, dir: string): Promise<string[]> {
  return (await fs.list(dir)).filter((n) => n.endsWith(".jsonl")).sort().reverse()
    .map((n) => `${dir}/${n}`);
}

/** The newest session that has not ended, if any. */
export async function latestUnfinished(fs: Fs, dir: string): Promise<string | undefined> {
  for (const path of await listLogs(fs, dir)) {
    try {
      const { events } = parseLog(await fs.readTextFile(path));
      if (!replay(events).ended) return path;
    } catch {
      // a damaged log is not a candidate; `--resume PATH` reports its problem
    }
  }
  return undefined;
}
