import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { kataById } from "../lib/catalog.ts";
import { MemoryFs, writeAtomic } from "./fs.ts";
import { comingSoon, type KataResult } from "./results.ts";
import {
  emptyState,
  firstUnfinished,
  markReset,
  markTimedOut,
  nextUnfinished,
  parseState,
  recordRun,
  revealHint,
  serializeState,
  StateStore,
} from "./state.ts";

const at = new Date("2026-03-04T05:06:07.000Z");
const dir = "/repo/.dojo";
const path = `${dir}/state.json`;

function result(kata: number, status: KataResult["status"], types: KataResult["types"] = "ok") {
  const total = 4;
  const passed = status === "passed" ? 4 : 1;
  return {
    ...comingSoon(kataById(kata), "learner", at),
    status,
    types,
    passed,
    failed: total - passed,
    total,
  } satisfies KataResult;
}

function store(fs: MemoryFs) {
  const warnings: string[] = [];
  return { store: new StateStore(dir, fs, (m) => warnings.push(m), () => at), warnings };
}

Deno.test("state: round trip through the file's text", () => {
  let s = emptyState();
  s = recordRun(s, result(2, "passed"));
  s = recordRun(s, result(1, "passed"));
  s = revealHint(s, 3, 2);
  s = markTimedOut(s, 4);
  const text = serializeState(s);
  deepStrictEqual(parseState(text), { state: s, problems: [] });
  deepStrictEqual(JSON.parse(text).done, [1, 2]);
  strictEqual(text.endsWith("}\n"), true);
});

Deno.test("state: a complete run decides done; a pending type-check only updates last", () => {
  let s = recordRun(emptyState(), result(1, "passed"));
  deepStrictEqual(s.done, [1]);
  s = recordRun(s, result(1, "failed", "pending"));
  deepStrictEqual(s.done, [1]); // types still pending: not decided yet
  strictEqual(s.last[1].status, "failed");
  s = recordRun(s, result(1, "failed"));
  deepStrictEqual(s.done, []);
  s = recordRun(s, comingSoon(kataById(5), "learner", at));
  deepStrictEqual(s.last[5], undefined);
  s = recordRun(s, { ...result(2, "passed"), target: "solution" });
  deepStrictEqual(s.done, []); // the solution passing says nothing about the learner
});

Deno.test("state: hints only go up; reset un-marks done and keeps hints", () => {
  let s = revealHint(emptyState(), 2, 2);
  s = revealHint(s, 2, 1);
  strictEqual(s.hints[2], 2);
  s = recordRun(s, result(2, "passed"));
  s = markReset(s, 2);
  deepStrictEqual([s.done, s.hints[2], s.last[2]], [[], 2, undefined]);
});

Deno.test("parseState keeps what is valid and names what is not", () => {
  deepStrictEqual(parseState("{").problems.length, 1);
  deepStrictEqual(parseState("[]").problems, ["not a JSON object"]);
  const { state, problems } = parseState(JSON.stringify({
    version: 1,
    done: [1, 99, "2", 3],
    hints: { "2": 1, "50": 1, "3": -1 },
    timedOut: "4",
    extra: true,
  }));
  deepStrictEqual(state.done, [1, 3]);
  deepStrictEqual(state.hints, { "2": 1 });
  deepStrictEqual(state.timedOut, []);
  deepStrictEqual(problems, [
    `"done" has unknown katas: [99,"2"]`,
    `"timedOut" is not a list of kata numbers`,
    `"hints" has a bad entry: "3": -1`, // integer keys come in numeric order
    `"hints" has a bad entry: "50": 1`,
    "unknown fields: extra",
  ]);
});

Deno.test("StateStore: a missing file is a fresh start, silently", async () => {
  const fs = new MemoryFs();
  const { store: s, warnings } = store(fs);
  deepStrictEqual(await s.load(), emptyState());
  deepStrictEqual(warnings, []);
  await s.update((st) => revealHint(st, 1, 1));
  deepStrictEqual(JSON.parse(fs.files.get(path)!).hints, { "1": 1 });
  deepStrictEqual([...fs.files.keys()], [path]); // no temporary file left behind
});

Deno.test("StateStore: a corrupt file is backed up, reported, and never crashes", async () => {
  const fs = new MemoryFs({ [path]: '{"version": 1, "done": [1, 2], "hints": {"3": 1' });
  const { store: s, warnings } = store(fs);
  deepStrictEqual(await s.load(), emptyState());
  strictEqual(warnings.length, 1);
  const backup = `${path}.bad-2026-03-04T05-06-07-000Z`;
  strictEqual(warnings[0].includes(backup), true, warnings[0]);
  strictEqual(fs.files.get(backup), '{"version": 1, "done": [1, 2], "hints": {"3": 1');
  deepStrictEqual(parseState(fs.files.get(path)!).problems, []); // a good file again
});

Deno.test("StateStore: a partly bad file keeps what is valid, and a copy of the original", async () => {
  const original = JSON.stringify({ version: 1, done: [1, 42], hints: {} });
  const fs = new MemoryFs({ [path]: original });
  const { store: s, warnings } = store(fs);
  deepStrictEqual((await s.load()).done, [1]);
  strictEqual(warnings.length, 1);
  strictEqual(fs.files.get(`${path}.bad-2026-03-04T05-06-07-000Z`), original);
});

Deno.test("StateStore: an unreadable file is left alone and not overwritten", async () => {
  const fs = new MemoryFs({ [path]: serializeState(revealHint(emptyState(), 1, 3)) });
  fs.failOn.readTextFile = () => true;
  const { store: s, warnings } = store(fs);
  await s.update((st) => revealHint(st, 2, 1));
  await s.update((st) => revealHint(st, 2, 2));
  strictEqual(warnings.length, 1, "reported once");
  deepStrictEqual(JSON.parse(fs.files.get(path)!).hints, { "1": 3 }, "the file is untouched");
});

Deno.test("StateStore: a failed write keeps the old file whole and says so", async () => {
  const good = serializeState(revealHint(emptyState(), 1, 1));
  const fs = new MemoryFs({ [path]: good });
  fs.failOn.rename = () => true;
  const { store: s, warnings } = store(fs);
  strictEqual(await s.save(emptyState()), false);
  strictEqual(fs.files.get(path), good);
  deepStrictEqual([...fs.files.keys()], [path], "the temporary file is removed");
  strictEqual(warnings[0].startsWith("无法保存进度 Could not save"), true);
});

Deno.test("update re-reads the file, so a change made elsewhere is kept", async () => {
  const fs = new MemoryFs();
  const a = store(fs).store;
  const b = store(fs).store;
  await a.update((s) => revealHint(s, 1, 1));
  await b.update((s) => markTimedOut(s, 2));
  const final = parseState(fs.files.get(path)!).state;
  deepStrictEqual([final.hints, final.timedOut], [{ "1": 1 }, [2]]);
});

Deno.test("writeAtomic creates the folder", async () => {
  const fs = new MemoryFs();
  await writeAtomic(fs, "/a/b/c.json", "x");
  strictEqual(fs.files.get("/a/b/c.json"), "x");
});

Deno.test("firstUnfinished and nextUnfinished walk the path", () => {
  const path = [1, 2, 3, 4, 7];
  const s = { ...emptyState(), done: [1, 3] };
  strictEqual(firstUnfinished(path, s), 2);
  strictEqual(nextUnfinished(path, s, 2), 4);
  strictEqual(nextUnfinished(path, s, 7), 2, "wraps to an earlier kata not done");
  strictEqual(nextUnfinished(path, s, 5), 7, "from a kata off the path");
  const all = { ...emptyState(), done: path };
  strictEqual(firstUnfinished(path, all), undefined);
  strictEqual(nextUnfinished(path, all, 7), undefined);
});
