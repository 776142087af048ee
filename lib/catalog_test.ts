import assert from "node:assert/strict";
import {
  findKata,
  kataById,
  kataDir,
  kataName,
  katas,
  pad,
  type PathName,
  paths,
  solutionDir,
  stages,
} from "./catalog.ts";

const ids = (ks: readonly { id: number }[]) => ks.map((k) => k.id);

Deno.test("catalog: 14 katas with ids 1..14 in order", () => {
  assert.equal(katas.length, 14);
  assert.deepEqual(ids(katas), Array.from({ length: 14 }, (_, i) => i + 1));
});

Deno.test("catalog: unique folder-safe slugs and titles in both languages", () => {
  for (const k of katas) {
    assert.match(k.slug, /^[a-z0-9_]+$/, `kata ${k.id}`);
    assert.ok(k.title.zh.trim().length > 0, `kata ${k.id} has no Chinese title`);
    assert.ok(k.title.en.trim().length > 0, `kata ${k.id} has no English title`);
  }
  assert.equal(new Set(katas.map((k) => k.slug)).size, katas.length);
  assert.equal(new Set(katas.map((k) => k.title.en)).size, katas.length);
  assert.equal(new Set(katas.map((k) => k.title.zh)).size, katas.length);
});

Deno.test("catalog: prerequisites point only to earlier katas (a DAG)", () => {
  for (const k of katas) {
    for (const p of k.prerequisites) {
      assert.ok(Number.isInteger(p) && p >= 1 && p < k.id, `kata ${k.id} needs kata ${p}`);
    }
    assert.equal(new Set(k.prerequisites).size, k.prerequisites.length, `kata ${k.id}`);
  }
  // Every kata but the first builds on something.
  assert.deepEqual(katas.filter((k) => k.prerequisites.length === 0).map((k) => k.id), [1]);
});

Deno.test("catalog: minutes are positive, stages known and in the diagram's order", () => {
  const order = Object.keys(stages);
  assert.deepEqual(order, ["basics", "networks", "sequences", "transformer", "llm"]);
  let last = 0;
  for (const k of katas) {
    assert.ok(Number.isInteger(k.minutes) && k.minutes > 0, `kata ${k.id}: ${k.minutes} minutes`);
    const at = order.indexOf(k.stage);
    assert.ok(at >= last, `kata ${k.id} goes back to stage ${k.stage}`);
    last = at;
  }
  for (const s of Object.values(stages)) assert.ok(s.zh.length > 0 && s.en.length > 0);
});

Deno.test("catalog: every path lists existing katas, once each, in order", () => {
  for (const [name, path] of Object.entries(paths)) {
    assert.ok(path.katas.length > 0, name);
    for (const id of path.katas) assert.ok(katas.some((k) => k.id === id), `${name}: kata ${id}`);
    assert.deepEqual([...path.katas].sort((a, b) => a - b), [...path.katas], name);
    assert.equal(new Set(path.katas).size, path.katas.length, name);
    for (const text of [path.title, path.description]) {
      assert.ok(text.zh.length > 0 && text.en.length > 0, name);
    }
  }
  const names: PathName[] = ["minimal", "image", "sequence", "final"];
  assert.deepEqual(Object.keys(paths), names);
});

Deno.test("catalog: the minimal path is closed under prerequisites", () => {
  const minimal: readonly number[] = paths.minimal.katas;
  assert.deepEqual(minimal, [1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13]);
  minimal.forEach((id, i) => {
    for (const p of kataById(id).prerequisites) {
      assert.ok(minimal.slice(0, i).includes(p), `kata ${id} needs kata ${p} before it`);
    }
  });
  assert.equal(minimal[minimal.length - 1], 13); // it ends with a model that writes
});

Deno.test("catalog: names and folders", () => {
  assert.equal(pad(2), "02");
  assert.equal(pad(14), "14");
  const k = kataById(2);
  assert.equal(kataName(k), "02_linear_regression");
  assert.equal(kataDir(k), "katas/02_linear_regression");
  assert.equal(solutionDir(k), "solutions/02_linear_regression");
  assert.equal(kataDir(kataById(14)), "katas/14_improvements");
  assert.throws(() => kataById(0), RangeError);
  assert.throws(() => kataById(15), /There is no kata 15: katas are numbered 1 to 14\./);
});

Deno.test("findKata accepts what people type", () => {
  for (
    const arg of [
      "2",
      "02",
      "02_linear_regression",
      "linear_regression",
      "katas/02_linear_regression/",
      "katas/02_linear_regression",
      " 02 ",
    ]
  ) {
    assert.equal(findKata(arg).id, 2, JSON.stringify(arg));
  }
  assert.equal(findKata("14").slug, "improvements");
  assert.equal(findKata("self_attention").id, 8);
  for (const k of katas) {
    assert.equal(findKata(kataName(k)), k);
    assert.equal(findKata(`${kataDir(k)}/`), k);
  }
});

Deno.test("findKata rejects unknown katas with a RangeError listing them all", () => {
  for (const arg of ["99", "nope", "0", "", "03_linear_regression", "katas/"]) {
    assert.throws(
      () => findKata(arg),
      (e: unknown) => {
        assert.ok(e instanceof RangeError, `${JSON.stringify(arg)}: ${e}`);
        assert.ok(e.message.startsWith(`Unknown kata "${arg}". Use a number or a name:\n`));
        const lines = e.message.split("\n").slice(1);
        assert.deepEqual(lines, katas.map((k) => `  ${pad(k.id)} ${k.slug}`));
        return true;
      },
    );
  }
  assert.throws(() => findKata("nope"), /\n {2}02 linear_regression\n/);
});
