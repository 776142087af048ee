/// <reference lib="dom" />
// (The functions passed to page.evaluate run in the browser.)
/**
 * The site's browser test: serves site/dist on 127.0.0.1 and drives Debian's Chromium through
 * playwright-core. It visits every page reachable from both home pages and checks:
 *
 * - every page loads (status 200) without console errors, page errors or failed requests, and
 *   requests nothing from another origin (the site must work offline);
 * - math is rendered: no KaTeX error, no raw `$$` or LaTeX command left in the text;
 * - every internal link (anchors included) resolves, and every page has a language switch whose
 *   other-language page exists;
 * - the dependency graph on both home pages has one node per catalog kata, each linking to that
 *   kata's page;
 * - the language switch, used like a reader would, reaches the other language's page and back;
 * - search returns hits for Chinese words and for code identifiers;
 * - a built kata's solution and hints are folded until opened.
 *
 * Run it with `deno task site:test` at the repository root (which builds first), or
 * `deno run -A test/browser.ts` in site/ against an existing build. `CHROMIUM=/path` overrides
 * the browser.
 * @module
 */
import { type Browser, chromium, type Page } from "playwright-core";
import { existsSync } from "node:fs";
import { kataName, katas } from "../../lib/catalog.ts";
import { serveSite } from "../serve.ts";

const dist = new URL("../dist", import.meta.url).pathname;
const repo = new URL("../../", import.meta.url).pathname;
const chromiumPath = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

let failures = 0;
let passes = 0;
function check(ok: boolean, what: string, detail = ""): boolean {
  if (ok) passes++;
  else {
    failures++;
    console.log(
      `  FAIL ${what}${detail ? `\n       ${detail.replace(/\n/g, "\n       ")}` : ""}`,
    );
  }
  return ok;
}
let sectionStart = performance.now();
function section(name: string) {
  const now = performance.now();
  console.log(`▸ ${name}`);
  sectionStart = now;
}
function sectionDone() {
  console.log(`  (${((performance.now() - sectionStart) / 1000).toFixed(1)} s)`);
}
if (!existsSync(`${dist}/index.html`)) {
  console.error(
    "site/dist has no index.html: build the site first (deno task site).",
  );
  Deno.exit(1);
}

const { server, url } = serveSite(dist, { port: 0, quiet: true });
const base = await url;
const origin = new URL(base).origin;
const browser: Browser = await chromium.launch({
  executablePath: chromiumPath,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});

/** Fetched HTML of internal pages, to check that links and anchors resolve. */
const fetched = new Map<string, { status: number; ids: Set<string> }>();
async function fetchPage(path: string) {
  let entry = fetched.get(path);
  if (!entry) {
    const res = await fetch(origin + path);
    const text = await res.text();
    const ids = new Set([...text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    entry = { status: res.status, ids };
    fetched.set(path, entry);
  }
  return entry;
}

/** Checks that an internal href (path, optional #anchor) resolves to a page and an element. */
async function resolves(href: string): Promise<string | null> {
  const u = new URL(href, origin);
  const entry = await fetchPage(u.pathname);
  if (entry.status !== 200) return `status ${entry.status}`;
  if (u.hash && u.hash !== "#") {
    const id = decodeURIComponent(u.hash.slice(1));
    if (!entry.ids.has(id)) return `no element with id "${id}"`;
  }
  return null;
}

interface Visit {
  path: string;
  links: string[];
  lang: string;
  switchTargets: string[];
}

async function visit(page: Page, path: string): Promise<Visit> {
  const errors: string[] = [];
  const foreign: string[] = [];
  const onConsole = (m: { type(): string; text(): string }) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  };
  const onPageError = (e: Error) => errors.push(`page error: ${e.message}`);
  // A request the previous page left running is aborted by this navigation (ERR_ABORTED): not a
  // fault of this page. Missing files show up as HTTP errors below.
  const onFailed = (r: { url(): string; failure(): { errorText: string } | null }) => {
    const why = r.failure()?.errorText ?? "";
    if (!why.includes("ERR_ABORTED")) errors.push(`request failed: ${r.url()} ${why}`);
  };
  const onResponse = (r: { url(): string; status(): number }) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
  };
  const onRequest = (r: { url(): string }) => {
    const u = new URL(r.url());
    if (
      u.origin !== origin && u.protocol !== "data:" && u.protocol !== "blob:"
    ) foreign.push(r.url());
  };
  page.on("console", onConsole);
  page.on("pageerror", onPageError);
  page.on("requestfailed", onFailed);
  page.on("response", onResponse);
  page.on("request", onRequest);
  const res = await page.goto(origin + path, { waitUntil: "networkidle" });
  page.off("console", onConsole);
  page.off("pageerror", onPageError);
  page.off("requestfailed", onFailed);
  page.off("response", onResponse);
  page.off("request", onRequest);

  const status = res?.status();
  if (!check(status === 200, `${path} loads`, `status ${status}`)) {
    // A missing page (the 404 page): report it once, and do not follow its links.
    return { path, links: [], lang: "", switchTargets: [] };
  }
  check(
    errors.length === 0,
    `${path} has no console errors`,
    errors.join("\n"),
  );
  check(
    foreign.length === 0,
    `${path} requests nothing from another origin`,
    foreign.join("\n"),
  );

  const info = await page.evaluate(() => {
    const main = document.querySelector("main") ?? document.body;
    const clone = main.cloneNode(true) as HTMLElement;
    clone.querySelectorAll(
      "pre, code, .katex, script, style, .expressive-code, svg",
    ).forEach((e) => e.remove());
    const links = [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")!);
    const select = document.querySelector("starlight-lang-select select") as
      | HTMLSelectElement
      | null;
    return {
      text: clone.textContent ?? "",
      katexErrors: document.querySelectorAll(".katex-error").length,
      katex: document.querySelectorAll(".katex").length,
      links,
      lang: document.documentElement.lang,
      switchTargets: select ? [...select.options].map((o) => o.value) : [],
    };
  });
  check(
    info.katexErrors === 0,
    `${path}: every formula renders`,
    `${info.katexErrors} KaTeX errors`,
  );
  const raw = info.text.match(
    /.{0,30}(\$\$|\\(?:frac|sigma|mathrm|partial|qquad|hat|sum|log)\b).{0,30}/,
  );
  check(!raw, `${path}: no raw math left in the text`, raw?.[0] ?? "");
  check(info.switchTargets.length >= 2, `${path} has a language switch`);
  return {
    path,
    links: info.links,
    lang: info.lang,
    switchTargets: info.switchTargets,
  };
}

const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

// 1. Crawl every page reachable from the two home pages.
section("every page");
const queue = ["/", "/en/"];
const seen = new Set(queue);
const visits: Visit[] = [];
const allLinks = new Map<string, string>(); // href -> a page it appears on
// A few tabs work through the queue together; each follows the links of the pages it visits.
const tabs = await Promise.all(
  Array.from({ length: 3 }, () => browser.newPage({ viewport: { width: 1280, height: 900 } })),
);
let busy = 0;
await Promise.all(tabs.map(async (tab) => {
  for (;;) {
    const path = queue.shift();
    if (path === undefined) {
      if (busy === 0) return;
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    busy++;
    const v = await visit(tab, path);
    visits.push(v);
    for (const href of [...v.links, ...v.switchTargets]) {
      const u = new URL(href, origin + path);
      if (u.origin !== origin) continue;
      if (!allLinks.has(u.pathname + u.hash)) allLinks.set(u.pathname + u.hash, path);
      const isPage = !/\.[a-z0-9]+$/i.test(u.pathname) || u.pathname.endsWith(".html");
      if (isPage && !seen.has(u.pathname)) {
        seen.add(u.pathname);
        queue.push(u.pathname);
      }
    }
    busy--;
  }
}));
await Promise.all(tabs.map((t) => t.close()));
const htmlFiles = await countHtml(dist);
console.log(
  `  visited ${visits.length} pages (${htmlFiles} HTML files in dist, one of them 404.html)`,
);
check(
  visits.length >= htmlFiles - 1,
  "every built page is reachable by links",
  `${visits.length} of ${htmlFiles - 1}`,
);

async function countHtml(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) n += await countHtml(`${dir}/${e.name}`);
    else if (e.name.endsWith(".html")) n++;
  }
  return n;
}

sectionDone();

// 2. Every internal link resolves, anchors included.
section("internal links");
let linkCount = 0;
for (const [href, from] of allLinks) {
  linkCount++;
  const problem = await resolves(href);
  check(problem === null, `link ${href} (on ${from}) resolves`, problem ?? "");
}
console.log(`  ${linkCount} distinct internal links`);
for (const v of visits.filter((v) => v.lang)) {
  const expected = v.path.startsWith("/en/") ? "en" : "zh-CN";
  check(
    v.lang === expected,
    `${v.path} has lang="${expected}"`,
    `lang="${v.lang}"`,
  );
}

sectionDone();

// 3. The graph: one node per catalog kata on each home page, linking to its kata page.
section("dependency graph");
for (const [home, prefix] of [["/", "/"], ["/en/", "/en/"]]) {
  await page.goto(origin + home, { waitUntil: "networkidle" });
  const nodes = await page.$$eval(".dojo-graph svg a", (as) =>
    as.map((a) => ({
      href: a.getAttribute("href") ?? a.getAttribute("xlink:href") ?? "",
      text: a.textContent?.replace(/\s+/g, " ").trim() ?? "",
    })));
  check(
    nodes.length === katas.length,
    `${home}: the graph has ${katas.length} linked nodes`,
    `${nodes.length}`,
  );
  for (const k of katas) {
    const want = `${prefix}katas/${kataName(k)}/`;
    const node = nodes.find((n) => n.href === want);
    if (
      check(!!node, `${home}: graph node for kata ${k.id} links to ${want}`)
    ) {
      check(
        (await resolves(want)) === null,
        `${home}: graph node ${k.id}'s page exists`,
      );
      check(
        node!.text.includes(k.title[prefix === "/" ? "zh" : "en"]),
        `${home}: node ${k.id} shows its title`,
      );
      check(
        node!.text.includes(String(k.minutes)),
        `${home}: node ${k.id} shows its minutes`,
      );
    }
  }
  // Following a node is a real navigation.
  await page.click(
    `.dojo-graph svg a[href="${prefix}katas/${kataName(katas[0])}/"]`,
  );
  await page.waitForURL(`**${prefix}katas/${kataName(katas[0])}/`);
  check(
    (await page.locator("h1").first().textContent())?.includes(
      katas[0].title[prefix === "/" ? "zh" : "en"],
    ) ??
      false,
    `${home}: clicking graph node 01 opens kata 01's page`,
  );
}

sectionDone();

// 4. The language switch, used as a reader would.
section("language switch");
const built = katas.filter((k) => existsSync(`${repo}katas/${kataName(k)}/mod_test.ts`));
const probe = built.at(-1) ?? katas[0];
for (
  const [from, to, lang] of [
    [`/katas/${kataName(probe)}/`, `/en/katas/${kataName(probe)}/`, "en"],
    [`/en/katas/${kataName(probe)}/`, `/katas/${kataName(probe)}/`, "zh-CN"],
    ["/glossary/", "/en/glossary/", "en"],
    ["/en/", "/", "zh-CN"],
  ]
) {
  await page.goto(origin + from, { waitUntil: "networkidle" });
  const select = page.locator("starlight-lang-select select").first();
  const option = await select.locator("option").evaluateAll(
    (os, want) =>
      (os as HTMLOptionElement[]).find((o) => o.value.replace(/\/$/, "") + "/" === want)?.value,
    to,
  );
  if (!check(!!option, `${from}: the switch offers ${to}`)) continue;
  await Promise.all([
    page.waitForURL(origin + to),
    select.selectOption(option!),
  ]);
  check(
    new URL(page.url()).pathname === to,
    `${from} → ${to} by the language switch`,
    page.url(),
  );
  check(
    await page.evaluate(() => document.documentElement.lang) === lang,
    `${to} is in ${lang}`,
  );
}

// 5. Search: Chinese words and code identifiers.
sectionDone();
section("search");
/** Opens the search box on `home`, then looks each term up there; returns the hits per term. */
async function searchAll(home: string, terms: string[]): Promise<Map<string, string[]>> {
  const hits = new Map<string, string[]>();
  await page.goto(origin + home, { waitUntil: "networkidle" });
  await page.click("site-search button[data-open-modal]");
  const input = page.locator("#starlight__search input");
  for (const term of terms) {
    await input.fill(term);
    try {
      // The message names the term once its results are in ("“梯度”：9 个结果", "9 results for
      // x"); the result links follow as each result's data arrives.
      await page.waitForFunction(
        (term) => {
          const m = document.querySelector("#starlight__search .pagefind-ui__message")?.textContent;
          if (!m || !m.includes(term) || /正在搜索|Searching/.test(m)) return false;
          const links = document.querySelectorAll("#starlight__search .pagefind-ui__result-link");
          return links.length > 0 || /没有找到|No results/.test(m);
        },
        term,
        { timeout: 20000 },
      );
    } catch {
      hits.set(term, []);
      continue;
    }
    hits.set(
      term,
      await page.$$eval(
        "#starlight__search .pagefind-ui__result-link",
        (as) => as.map((a) => a.getAttribute("href") ?? ""),
      ),
    );
  }
  return hits;
}
const searches: [string, [string, string][]][] = [
  ["/", [
    ["梯度", "/katas/"],
    ["自注意力", "/glossary/"],
    ["逻辑回归", "/katas/03_logistic_regression/"],
    ["bceWithLogits", "/katas/03_logistic_regression/"],
    ["assertAllClose", "/katas/"],
  ]],
  ["/en/", [
    ["gradient", "/en/"],
    ["bceWithLogits", "/en/katas/03_logistic_regression/"],
  ]],
];
for (const [home, terms] of searches) {
  const found = await searchAll(home, terms.map(([term]) => term));
  for (const [term, expect] of terms) {
    const hits = found.get(term) ?? [];
    check(
      hits.some((h) => h.includes(expect)),
      `search "${term}" from ${home} finds ${expect}`,
      `hits: ${hits.slice(0, 5).join(", ") || "none"}`,
    );
    for (const h of hits.slice(0, 3)) {
      check((await resolves(h)) === null, `search hit ${h} resolves`);
    }
  }
}

sectionDone();

// 6. A built kata: solution and hints folded until opened.
section("folded solution and hints");
for (const k of built) {
  const path = `/katas/${kataName(k)}/`;
  await page.goto(origin + path, { waitUntil: "networkidle" });
  const solution = page.locator("details.dojo-solution");
  if ((await solution.count()) === 0) continue;
  const code = solution.locator("pre").first();
  check(!(await code.isVisible()), `${path}: the solution is folded`);
  await solution.locator("summary").click();
  check(await code.isVisible(), `${path}: "show the solution" shows it`);
  const hints = page.locator("details.dojo-hint");
  const n = await hints.count();
  const open = await page.locator("details.dojo-hint[open]").count();
  check(n === 0 || open === 0, `${path}: ${n} hint levels, all folded`);
  const skeleton = page.locator(".expressive-code .title", {
    hasText: `katas/${kataName(k)}/mod.ts`,
  });
  check(
    (await skeleton.count()) > 0,
    `${path}: the skeleton is shown, from katas/${kataName(k)}/mod.ts`,
  );
}

sectionDone();

// 7. A phone: no page is wider than the screen (the graph and wide tables scroll inside).
section("small screen");
const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
for (const path of ["/", "/en/", "/paths/", "/facilitators/", `/katas/${kataName(probe)}/`]) {
  await phone.goto(origin + path, { waitUntil: "networkidle" });
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `${path} fits a 390 px screen`, `${width} px wide`);
}
await phone.close();
sectionDone();

await browser.close();
await server.shutdown();
console.log(`\nsite browser test: ${passes} passed, ${failures} failed`);
Deno.exit(failures ? 1 : 0);
