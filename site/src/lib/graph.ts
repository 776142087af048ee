/**
 * The dependency graph of the katas, generated from the catalog at build time: Graphviz `dot`
 * source rendered to SVG by `@viz-js/viz` (Graphviz compiled to WebAssembly, no system binary).
 * Nodes link to the kata pages; edges are prerequisites; coloured edges are the learning paths.
 * @module
 */
import { instance } from "@viz-js/viz";
import { type Lang, pageUrl, t } from "./i18n.ts";
import { type KataFiles, num, type PathName, paths, stages } from "./repo.ts";

/** The colour of each learning path, used by the graph, its legend and the paths page. */
export const pathColors: Record<PathName, string> = {
  minimal: "#2563eb",
  image: "#ea580c",
  sequence: "#16a34a",
  final: "#9333ea",
};

const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
const dotText = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The first learning path a kata belongs to (the minimal path first), if any. */
export function pathOf(id: number): PathName | undefined {
  return (Object.keys(paths) as PathName[]).find((p) =>
    (paths[p].katas as readonly number[]).includes(id)
  );
}

/**
 * The width of a label in points. Graphviz-in-wasm has no font metrics for Chinese and
 * underestimates it, so nodes get an explicit minimum width from this estimate.
 */
export function textWidth(s: string, size: number): number {
  let em = 0;
  for (const ch of s) {
    if (/[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]/.test(ch)) {
      em += 1;
    } else if (ch === " ") em += 0.3;
    else if (/[A-Z0-9]/.test(ch)) em += 0.66;
    else em += 0.55;
  }
  return em * size;
}

/** The Graphviz source of the graph in one language. */
export function graphDot(all: KataFiles[], lang: Lang): string {
  // Each node as wide as its own label (Graphviz's estimate is too small for Chinese), at least
  // 1.6 inches so that the short ones still look like boxes.
  const nodeWidth = (k: KataFiles) =>
    Math.max(1.6, (textWidth(`${num(k.kata)}  ${k.kata.title[lang]}`, 13) + 26) / 72);
  const font = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif";
  const lines: string[] = [
    "digraph dojo {",
    `graph [rankdir=TB, newrank=true, bgcolor="transparent", nodesep=0.3, ranksep=0.32, pad=0.15, fontname=${
      q(font)
    }, fontsize=12, fontcolor="#475569"];`,
    `node [shape=box, style="rounded,filled", fillcolor="#ffffff", color="#64748b", penwidth=1.6, fontname=${
      q(font)
    }, fontsize=13, fontcolor="#0f172a", margin="0.14,0.05"];`,
    `edge [color="#94a3b8", arrowsize=0.7, penwidth=1.2];`,
  ];
  for (const [key, stage] of Object.entries(stages)) {
    const members = all.filter((k) => k.kata.stage === key);
    if (!members.length) continue;
    lines.push(
      `subgraph cluster_${key} { label=${
        q(stage[lang])
      }; labeljust="l"; style="rounded,filled"; fillcolor="#f1f5f9"; color="#e2e8f0"; margin=10;`,
    );
    for (const k of members) {
      const id = num(k.kata);
      const minutes = t[lang].minutes(k.kata.minutes);
      const path = pathOf(k.kata.id);
      const color = path ? pathColors[path] : "#64748b";
      const coming = k.built ? "" : ` · ${t[lang].coming}`;
      // A plain two-line label: Graphviz centres each line, whatever the real width of the font.
      // (An HTML-like label places its pieces by its own estimate of their widths, which is too
      // small for Chinese.) `graphSvg` styles the second line.
      const label = `"${dotText(`${id}  ${k.kata.title[lang]}`)}\\n${
        dotText(`${minutes}${coming}`)
      }"`;
      const style = k.built
        ? `style="rounded,filled", color="${color}"`
        : `style="rounded,dashed,filled", color="${color}", fillcolor="#f8fafc", fontcolor="#64748b"`;
      const tip = `${id} · ${k.kata.title[lang]}${k.built ? "" : ` (${t[lang].coming})`}`;
      lines.push(
        `k${k.kata.id} [id="kata-${id}", label=${label}, width=${
          nodeWidth(k).toFixed(2)
        }, ${style}, URL=${q(pageUrl(lang, `katas/${k.name}`))}, target="_top", tooltip=${
          q(tip)
        }, class=${q(k.built ? "built" : "coming")}];`,
      );
    }
    lines.push("}");
  }
  // Prerequisite edges, coloured when a learning path walks along them.
  const pathEdges = new Map<string, PathName>();
  for (
    const [name, p] of Object.entries(paths) as [
      PathName,
      (typeof paths)[PathName],
    ][]
  ) {
    for (let i = 1; i < p.katas.length; i++) {
      const key = `${p.katas[i - 1]}-${p.katas[i]}`;
      if (!pathEdges.has(key)) pathEdges.set(key, name);
    }
  }
  // A side route starts from the kata it branches off: colour the edges into its first kata.
  for (
    const [name, p] of Object.entries(paths) as [
      PathName,
      (typeof paths)[PathName],
    ][]
  ) {
    if (name === "minimal") continue;
    const first = all.find((k) => k.kata.id === p.katas[0]);
    for (const pre of first?.kata.prerequisites ?? []) {
      const key = `${pre}-${p.katas[0]}`;
      if (!pathEdges.has(key)) pathEdges.set(key, name);
    }
  }
  const drawn = new Set<string>();
  for (const k of all) {
    for (const pre of k.kata.prerequisites) {
      const key = `${pre}-${k.kata.id}`;
      drawn.add(key);
      const path = pathEdges.get(key);
      lines.push(
        path
          ? `k${pre} -> k${k.kata.id} [color="${pathColors[path]}", penwidth=2.4];`
          : `k${pre} -> k${k.kata.id};`,
      );
    }
  }
  // Steps of a path that are not prerequisites (the sequence route's 06 → 07): dashed.
  for (const [key, path] of pathEdges) {
    if (drawn.has(key)) continue;
    const [a, b] = key.split("-");
    lines.push(
      `k${a} -> k${b} [color="${pathColors[path]}", penwidth=2.4, style=dashed, constraint=false];`,
    );
  }
  lines.push("}");
  return lines.join("\n");
}

let viz: Awaited<ReturnType<typeof instance>> | undefined;

/**
 * The graph as an inline SVG string on one line (so that it can sit in Markdown as raw HTML),
 * scaled by its container, with plain `href` links and an accessible name.
 */
export async function graphSvg(all: KataFiles[], lang: Lang): Promise<string> {
  viz ??= await instance();
  const raw = viz.renderString(graphDot(all, lang), { format: "svg" });
  const m = raw.match(/<svg[\s\S]*<\/svg>/);
  if (!m) throw new Error("Graphviz produced no SVG");
  const width = Number(m[0].match(/<svg[^>]*width="([\d.]+)pt"/)?.[1] ?? 600);
  const stageLabels: string[] = [];
  return m[0]
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/<title>[^<]*<\/title>/g, "")
    .replace(/xlink:href=/g, "href=")
    .replace(/&#45;/g, "-")
    // Stage labels last, with a halo, so that no edge is drawn across them.
    .replace(
      /(<g id="clust\d+" class="cluster">[\s\S]*?)(<text[^>]*>[^<]*<\/text>)/g,
      (_, g, text) => {
        stageLabels.push(
          text.replace("<text", '<text stroke="#f1f5f9" stroke-width="5" paint-order="stroke"'),
        );
        return g;
      },
    )
    .replace(/<\/g>\s*<\/svg>/, () => `${stageLabels.join("")}</g></svg>`)
    // In each node, the first line (number and title) is semi-bold, the second (minutes) small.
    .replace(/(<g id="kata-[^"]*"[\s\S]*?<\/g>)/g, (node) => {
      let n = 0;
      return node.replace(
        /<text([^>]*)>/g,
        (_, attrs: string) =>
          ++n === 1
            ? `<text${attrs} font-weight="600">`
            : `<text${
              attrs.replace(/font-size="[^"]*"/, 'font-size="10.5"').replace(
                /fill="[^"]*"/,
                'fill="#64748b"',
              )
            }>`,
      );
    })
    .replace(/ xlink:title=/g, " aria-label=")
    .replace(
      /<svg([^>]*?) width="[^"]*" height="[^"]*"/,
      (_, rest) =>
        `<svg${rest} role="img" aria-label="${html(t[lang].graphAlt)}" style="max-width:${
          Math.round(width * 1.333)
        }px"`,
    )
    .replace(/\n\s*/g, " ");
}
