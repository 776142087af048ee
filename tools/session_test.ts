import { deepStrictEqual, rejects, strictEqual, throws } from "node:assert/strict";
import { FakeClock } from "./clock.ts";
import { MemoryFs } from "./fs.ts";
import { builtinPlans, scalePlan } from "./plan.ts";
import {
  currentKata,
  hintToOffer,
  kataLeft,
  kataUsed,
  latestUnfinished,
  parseLog,
  replay,
  SessionError,
  sessionId,
  sessionLeft,
  SessionLog,
  sessionUsed,
  timeUp,
} from "./session.ts";

const dir = "/repo/.dojo/workshops";
const MIN = 60_000;
// 01 → 03 with 10, 14 and 14 minutes (the catalog's 25, 35, 35 scaled by 0.4).
const plan = scalePlan(builtinPlans()["first-morning"], 0.4);

async function started() {
  const clock = new FakeClock();
  const fs = new MemoryFs();
  const log = await SessionLog.start(fs, dir, clock, plan);
  return { clock, fs, log };
}

Deno.test("session: countdowns run with the fake clock", async () => {
  const { clock, log } = await started();
  strictEqual(log.path, `${dir}/2026-01-01_09-00-00_first-morning.jsonl`);
  deepStrictEqual(plan.katas.map((k) => k.minutes), [10, 14, 14]);
  clock.advanceMinutes(4);
  const s = log.state;
  strictEqual(kataUsed(s, clock.now()), 4 * MIN);
  strictEqual(kataLeft(s, clock.now()), 6 * MIN);
  strictEqual(sessionLeft(s, clock.now()), 34 * MIN);
  strictEqual(timeUp(s, clock.now()), false);
  clock.advanceMinutes(7);
  strictEqual(kataLeft(s, clock.now()), -1 * MIN); // overtime
  strictEqual(timeUp(s, clock.now()), true);
});

Deno.test("session: pause stops both countdowns; resume restarts them", async () => {
  const { clock, log } = await started();
  clock.advanceMinutes(2);
  await log.record({ type: "pause" });
  clock.advanceMinutes(30); // lunch
  strictEqual(kataUsed(log.state, clock.now()), 2 * MIN);
  strictEqual(sessionUsed(log.state, clock.now()), 2 * MIN);
  await log.record({ type: "resume" });
  clock.advanceMinutes(1);
  strictEqual(kataUsed(log.state, clock.now()), 3 * MIN);
});

Deno.test("session: runs, hints, passing and moving on", async () => {
  const { clock, log } = await started();
  clock.advanceMinutes(3);
  await log.record({ type: "run", kata: 1, status: "failed", passed: 4, total: 12, seconds: 0.5 });
  clock.advanceMinutes(3);
  await log.record({ type: "hint", kata: 1, level: 1 });
  clock.advanceMinutes(2);
  await log.record({ type: "run", kata: 1, status: "passed", passed: 12, total: 12, seconds: 0.5 });
  clock.advanceMinutes(1);
  await log.record({ type: "move-on", kata: 1, outcome: "passed" });
  const s = log.state;
  deepStrictEqual(s.katas[0], {
    kata: 1,
    minutes: 10,
    usedMs: 9 * MIN,
    runs: 2,
    hints: 1,
    maxHint: 1,
    passed: true,
    passedAtMs: 8 * MIN,
    lastRun: { status: "passed", passed: 12, total: 12 },
    outcome: "passed",
  });
  strictEqual(currentKata(s)?.kata, 2);
  clock.advanceMinutes(1);
  strictEqual(kataUsed(s, clock.now()), 1 * MIN);
  strictEqual(sessionUsed(s, clock.now()), 10 * MIN);
  // An event for another kata than the current one changes nothing.
  await log.record({ type: "hint", kata: 1, level: 2 });
  strictEqual(log.state.katas[0].hints, 1);
});

Deno.test("session: the next hint is offered at plan.hintAt of the kata's time", async () => {
  const { clock, log } = await started();
  clock.advanceMinutes(4.9);
  strictEqual(hintToOffer(log.state, clock.now(), 3, 0), undefined);
  clock.advanceMinutes(0.1); // halfway through 10 minutes
  strictEqual(hintToOffer(log.state, clock.now(), 3, 0), 1);
  strictEqual(hintToOffer(log.state, clock.now(), 3, 2), 3, "levels revealed before count");
  await log.record({ type: "hint", kata: 1, level: 1 });
  strictEqual(hintToOffer(log.state, clock.now(), 3, 1), 2);
  strictEqual(hintToOffer(log.state, clock.now(), 1, 1), undefined, "no level left");
  await log.record({ type: "run", kata: 1, status: "passed", passed: 1, total: 1, seconds: 1 });
  strictEqual(hintToOffer(log.state, clock.now(), 3, 1), undefined, "passed: no hint");
});

Deno.test("session: Ctrl-C then --resume continues, and the time away does not count", async () => {
  const { clock, fs, log } = await started();
  clock.advanceMinutes(5);
  await log.record({ type: "hint", kata: 1, level: 1 });
  clock.advanceMinutes(1);
  await log.record({ type: "stop", reason: "interrupted" });
  clock.advanceMinutes(60);
  strictEqual(kataUsed(log.state, clock.now()), 6 * MIN, "stopped: the clock does not run");

  const again = await SessionLog.open(fs, log.path, clock);
  deepStrictEqual(again.state, log.state, "replaying the file gives the same state");
  await again.record({ type: "continue" });
  clock.advanceMinutes(2);
  strictEqual(kataUsed(again.state, clock.now()), 8 * MIN);
  strictEqual(again.state.katas[0].hints, 1);
});

Deno.test("session: after a crash, only the time since the last event is lost", async () => {
  const { clock, fs, log } = await started();
  for (let i = 0; i < 8; i++) {
    clock.advance(15_000);
    await log.record({ type: "tick" });
  }
  clock.advance(10_000); // 10 s after the last tick the process dies: no stop event
  const text = fs.files.get(log.path)!;
  fs.files.set(log.path, text + '{"t": 17, "type": "ru'); // and it died mid-write
  clock.advanceMinutes(20);
  const again = await SessionLog.open(fs, log.path, clock);
  deepStrictEqual(again.problems, [
    "line 10 was cut short (the session stopped while writing it); skipped",
  ]);
  await again.record({ type: "continue" });
  strictEqual(kataUsed(again.state, clock.now()), 2 * MIN);
  // The cut line got its newline: the events after it read back whole.
  const third = await SessionLog.open(fs, log.path, clock);
  deepStrictEqual(third.state, again.state);
  deepStrictEqual(third.problems, ["line 10 is damaged; skipped"]);
});

Deno.test("session: latestUnfinished finds the session to resume", async () => {
  const { clock, fs, log } = await started();
  strictEqual(await latestUnfinished(fs, dir), log.path);
  await log.record({ type: "end", reason: "ended-early" });
  strictEqual(await latestUnfinished(fs, dir), undefined);
  clock.advanceMinutes(1);
  const second = await SessionLog.start(fs, dir, clock, plan);
  fs.files.set(`${dir}/2026-01-01_09-05-00_broken.jsonl`, "garbage\n");
  strictEqual(await latestUnfinished(fs, dir), second.path);
  await rejects(() => SessionLog.open(fs, `${dir}/2026-01-01_09-05-00_broken.jsonl`, clock), {
    name: "SessionError",
  });
});

Deno.test("replay refuses a log without a start or with a damaged plan", () => {
  throws(() => replay([]), SessionError);
  throws(() => replay([{ t: 1, type: "tick" }]), /does not begin with a start event/);
  throws(
    () => replay([{ t: 1, type: "start", version: 1, id: "x", plan: { ...plan, katas: [] } }]),
    /the log's plan is damaged: plan.katas/,
  );
});

Deno.test("parseLog skips damaged lines and says which", () => {
  const { events, problems } = parseLog('{"t":1,"type":"tick"}\nnope\n{"t":2,"type":"odd"}\n\n');
  deepStrictEqual(events, [{ t: 1, type: "tick" }]);
  deepStrictEqual(problems, ["line 2 is damaged; skipped", "line 3 is damaged; skipped"]);
});

Deno.test("sessionId is sortable and file-safe", () => {
  strictEqual(
    sessionId(Date.UTC(2026, 4, 6, 14, 3, 9), "plans/room b.json"),
    "2026-05-06_14-03-09_room-b",
  );
});
