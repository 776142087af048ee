/// <reference lib="dom" />
// (The functions passed to page.evaluate run in the browser.)
/**
 * Screenshots of the built site in headless Chromium, for the README and for looking at changes:
 * the Chinese home page with the graph, a kata page, the same kata in English, the graph alone.
 *
 * ```sh
 * deno task screenshots                      # in site/, after a build; PNGs into site/screenshots/
 * deno run -A test/screenshot.ts /tmp/shots  # elsewhere
 * ```
 * @module
 */
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";
import { kataName, katas } from "../../lib/catalog.ts";
import { serveSite } from "../serve.ts";

const dist = new URL("../dist", import.meta.url).pathname;
const repo = new URL("../../", import.meta.url).pathname;
const out = Deno.args[0] ?? new URL("../screenshots", import.meta.url).pathname;
Deno.mkdirSync(out, { recursive: true });

// Kata 08 (self-attention) once it is written; until then the last written kata.
const built = katas.filter((k) => existsSync(`${repo}katas/${kataName(k)}/mod_test.ts`));
const kata = built.find((k) => k.id === 8) ?? built.at(-1) ?? katas[0];

const { server, url } = serveSite(dist, { port: 0, quiet: true });
const base = await url;
const browser = await chromium.launch({
  executablePath: Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const shots: [
  string,
  string,
  { full?: boolean; selector?: string; dark?: boolean; clip?: number },
][] = [
  ["", "index-zh.png", { full: true }],
  ["", "index-zh-top.png", {}],
  ["", "index-zh-graph.png", { clip: 1480 }],
  ["", "graph-zh.png", { selector: ".dojo-graph" }],
  [`katas/${kataName(kata)}/`, `kata-${kata.id}-zh.png`, {}],
  [`katas/${kataName(kata)}/`, `kata-${kata.id}-zh-full.png`, { full: true }],
  [`en/katas/${kataName(kata)}/`, `kata-${kata.id}-en.png`, {}],
  [`katas/${kataName(kata)}/#hints`, `kata-${kata.id}-hints-zh.png`, {}],
  ["", "index-zh-dark.png", { dark: true }],
];
for (const [path, name, opt] of shots) {
  await page.emulateMedia({ colorScheme: opt.dark ? "dark" : "light" });
  await page.goto(base + path, { waitUntil: "networkidle" });
  if (opt.dark) {
    await page.evaluate(() => document.documentElement.setAttribute("data-theme", "dark"));
  }
  const file = `${out}/${name}`;
  if (opt.selector) await page.locator(opt.selector).first().screenshot({ path: file });
  else if (opt.clip) {
    await page.screenshot({
      path: file,
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: opt.clip },
    });
  } else await page.screenshot({ path: file, fullPage: !!opt.full });
  console.log(file);
}
await browser.close();
await server.shutdown();
