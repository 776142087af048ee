import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { escapeXml, lossCurveSvg, movingAverage, niceTicks } from "./loss_svg.ts";

Deno.test("niceTicks: round values 1, 2 or 5 × 10ⁿ apart that cover the range", () => {
  deepStrictEqual(niceTicks(0, 600, 6), [0, 100, 200, 300, 400, 500, 600]);
  deepStrictEqual(niceTicks(2.83, 7.9, 6), [3, 4, 5, 6, 7]);
  deepStrictEqual(niceTicks(0.12, 0.31, 4), [0.15, 0.2, 0.25, 0.3]);
  deepStrictEqual(niceTicks(5, 5), [5]);
});

Deno.test("movingAverage averages the last `window` values (fewer at the start)", () => {
  deepStrictEqual(movingAverage([4, 2, 6, 8], 2), [4, 3, 4, 7]);
  deepStrictEqual(movingAverage([1, 2, 3], 1), [1, 2, 3]);
});

Deno.test("escapeXml escapes markup in titles", () => {
  strictEqual(escapeXml(`<a & "b">`), "&#60;a &#38; &#34;b&#34;&#62;");
});

/** The opening tags of the SVG, to check what it draws. */
const tags = (svg: string, name: string) => svg.match(new RegExp(`<${name}[ >]`, "g")) ?? [];

Deno.test("the loss curve draws the training loss, its average, validation points and resumes", () => {
  const train: [number, number][] = Array.from({ length: 120 }, (_, i) => [i + 1, 8 - i / 30]);
  const svg = lossCurveSvg(
    { train, val: [[50, 6.5], [100, 5.5], [120, 5.4]], resumes: [60] },
    { title: "tang300 <step 120>" },
  );
  ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  ok(svg.trimEnd().endsWith("</svg>"));
  ok(svg.includes("损失曲线 Loss curve · tang300 &#60;step 120&#62;"), "the title, escaped");
  strictEqual(tags(svg, "path").length, 3, "train, its moving average, validation");
  strictEqual(tags(svg, "circle").length, 3, "one point per validation loss");
  ok(svg.includes("续训 resumed 60"), "the resume is marked");
  ok(svg.includes("<title>step 100: 5.500</title>"));
  ok(svg.includes("最低 lowest 5.400 @120"), "the lowest validation loss is labelled");
  // Every path stays inside the 720 × 400 picture.
  for (const [, d] of svg.matchAll(/ d="([^"]+)"/g)) {
    for (const [, x, y] of d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)) {
      ok(+x >= 0 && +x <= 720 && +y >= 0 && +y <= 400, `point ${x},${y} outside`);
    }
  }
  // Opening and closing tags balance (a cheap well-formedness check).
  const opened = svg.match(/<[a-z]+[^>]*[^/]>/g)!.length;
  const closed = svg.match(/<\/[a-z]+>/g)!.length;
  strictEqual(opened, closed);
});

Deno.test("the loss curve of a run with no steps yet, or with a NaN, is still a picture", () => {
  const empty = lossCurveSvg({ train: [], val: [], resumes: [] });
  ok(empty.includes("</svg>"));
  strictEqual(tags(empty, "path").length, 0);
  const nan = lossCurveSvg({ train: [[1, 7], [2, NaN], [3, 6]], val: [], resumes: [] });
  ok(!nan.includes("NaN"), "non-finite losses are left out");
});

Deno.test("a long run is thinned to at most 1500 points per line", () => {
  const train: [number, number][] = Array.from(
    { length: 9000 },
    (_, i) => [i + 1, 5 + Math.sin(i)],
  );
  const svg = lossCurveSvg({ train, val: [], resumes: [] });
  for (const [, d] of svg.matchAll(/ d="([^"]+)"/g)) ok(d.split("L").length <= 1500);
  ok(svg.length < 120_000, `${svg.length} characters`);
});
