/**
 * Every page of the site, in both languages, as Markdown plus Starlight front matter, built from
 * the catalog and the kata folders at build time. The Astro loader (`../loader.ts`) renders them.
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { glossary } from "../glossary.ts";
import { graphSvg, pathColors } from "./graph.ts";
import { type Lang, langs, pageId, pageUrl, t } from "./i18n.ts";
import {
  codeBlock,
  esc,
  joinCjkLines,
  katexCompat,
  normalizeDisplayMath,
  parseHints,
  rewriteLinks,
  stripLanguageLine,
  stripTitle,
} from "./markdown.ts";
import { type KataFiles, num, type PathName, paths, readKatas, stages } from "./repo.ts";

/** One page: its Starlight id (its URL path), front matter and Markdown body. */
export interface Page {
  id: string;
  lang: Lang;
  data: Record<string, unknown>;
  body: string;
}

const kataPath = (k: KataFiles) => `katas/${k.name}`;
const kataLabel = (k: KataFiles, lang: Lang) => `${num(k.kata)} · ${k.kata.title[lang]}`;

/** An HTML link to a kata page, marked when the kata is still coming. */
function kataLink(k: KataFiles, lang: Lang): string {
  const badge = k.built ? "" : ` <span class="dojo-coming">${esc(t[lang].coming)}</span>`;
  return `<a href="${pageUrl(lang, kataPath(k))}">${esc(kataLabel(k, lang))}</a>${badge}`;
}

/**
 * A Starlight aside ("note" box) as HTML around Markdown. (Starlight turns `:::note` into one only
 * in files of its docs folder, and these pages come from a loader.)
 */
function aside(variant: "note" | "caution" | "tip", title: string, md: string): string {
  return `<aside aria-label="${esc(title)}" class="starlight-aside starlight-aside--${variant}">
<p class="starlight-aside__title">${esc(title)}</p>
<div class="starlight-aside__content">

${md}

</div>
</aside>`;
}

/** Paths as an ordered list of names, minimal first. */
const pathNames = Object.keys(paths) as PathName[];

/** Words about each path beyond the catalog's one-line description. */
const pathNotes: Record<PathName, Record<Lang, string>> = {
  minimal: {
    zh:
      "这是 `deno task learn` 默认走的路线。前三个练习打基础：张量、手写梯度的线性回归、从 logit 稳定地计算损失的分类；练习 04 是第一个真正的神经网络。之后直接进入序列：词嵌入、自注意力、Transformer 块，再把它们组装成微型 LLM，准备数据、训练、生成文字。它跳过了卷积网络（05）、RNN（06）和最后的优化（14）。",
    en:
      "The route `deno task learn` follows by default. The first three katas lay the ground: tensors, linear regression with a hand-written gradient, classification with a loss computed stably from the logits; kata 04 is the first real neural network. Then straight to sequences: embeddings, self-attention, the transformer block, assembled into a mini LLM whose data, training loop and text generation you write. It skips the convolutional network (05), the RNN (06) and the final improvements (14).",
  },
  image: {
    zh:
      "从练习 04 的多层感知机分出来：同样是 MNIST，把全连接层换成卷积和池化，看看利用图像的空间结构能带来什么。做 LLM 不需要它，但它是理解“结构先验”的最好例子。运行 `deno task learn --path image`。",
    en:
      "A branch off kata 04's MLP: the same MNIST digits, with convolutions and pooling instead of dense layers, to see what using the spatial structure of images buys. The LLM does not need it, but it is the clearest example of a structural prior. Run `deno task learn --path image`.",
  },
  sequence: {
    zh:
      "在词嵌入之前先写一个循环神经网络：它一次读一个字符，把记忆放在隐藏状态里。之后再学自注意力（08），就能对比两种处理序列的方式：RNN 按顺序一步步传递信息，注意力一次看到所有位置。运行 `deno task learn --path sequence`。",
    en:
      "Write a recurrent network before the embeddings: it reads one character at a time and keeps its memory in a hidden state. Self-attention (08) then makes the contrast: an RNN passes information along step by step, attention sees every position at once. Run `deno task learn --path sequence`.",
  },
  final: {
    zh:
      "走完必选路径、模型已经能生成文字之后：加深模型并加入正则化，让它学得更好、更不容易过拟合。运行 `deno task learn --path final`。",
    en:
      "Once the minimal path is done and the model writes: add depth and regularisation so that it learns better and overfits less. Run `deno task learn --path final`.",
  },
};

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function byId(all: KataFiles[], id: number): KataFiles {
  const k = all.find((x) => x.kata.id === id);
  if (!k) throw new Error(`The catalog has no kata ${id}`);
  return k;
}

/** The graph, its legend and its caption, as one raw HTML block. */
async function graphBlock(all: KataFiles[], lang: Lang): Promise<string> {
  const svg = await graphSvg(all, lang);
  const legend = pathNames.map((p) =>
    `<a class="dojo-legend-item" href="${
      pageUrl(lang, "paths")
    }#${p}"><span class="dojo-swatch" style="background:${pathColors[p]}"></span>${
      esc(paths[p].title[lang])
    }</a>`
  ).join("");
  const extra = `<span class="dojo-legend-item"><span class="dojo-swatch dojo-swatch-grey"></span>${
    esc(t[lang].legendPrereq)
  }</span><span class="dojo-legend-item"><span class="dojo-box-dashed"></span>${
    esc(t[lang].legendComing)
  }</span>`;
  return `<figure class="dojo-graph not-content">${svg}<figcaption><div class="dojo-legend">${legend}${extra}</div>${
    esc(t[lang].graphAlt)
  }</figcaption></figure>`;
}

/** The table of all katas: number, title, stage, minutes, prerequisites, status. */
function kataTable(all: KataFiles[], lang: Lang): string {
  const head = lang === "zh"
    ? "| 练习 | 阶段 | 建议用时 | 前置练习 | 状态 |\n| --- | --- | --- | --- | --- |"
    : "| Kata | Stage | Time | Prerequisites | Status |\n| --- | --- | --- | --- | --- |";
  const rows = all.map((k) => {
    const pre = k.kata.prerequisites.map((id) => num(byId(all, id).kata)).join(", ") || "–";
    const status = k.built ? t[lang].ready : t[lang].coming;
    return `| [${kataLabel(k, lang)}](${pageUrl(lang, kataPath(k))}) | ${
      stages[k.kata.stage][lang]
    } | ${t[lang].minutes(k.kata.minutes)} | ${pre} | ${status} |`;
  });
  return `<div class="dojo-table">\n\n${[head, ...rows].join("\n")}\n\n</div>`;
}

/** One table row per path: its katas and total minutes. */
function pathTable(all: KataFiles[], lang: Lang): string {
  const head = lang === "zh"
    ? "| 路径 | 练习 | 建议用时 |\n| --- | --- | --- |"
    : "| Path | Katas | Time |\n| --- | --- | --- |";
  const rows = pathNames.map((p) => {
    const ks = paths[p].katas.map((id) => byId(all, id));
    const list = ks.map((k) => `[${num(k.kata)}](${pageUrl(lang, kataPath(k))})`).join(" → ");
    return `| [${paths[p].title[lang]}](${pageUrl(lang, "paths")}#${p}) | ${list} | ${
      t[lang].totalMinutes(sum(ks.map((k) => k.kata.minutes)))
    } |`;
  });
  return [head, ...rows].join("\n");
}

function indexPage(all: KataFiles[], lang: Lang, graph: string): Page {
  const built = all.filter((k) => k.built).length;
  const first = all[0];
  const zh = lang === "zh";
  const pathList = pathNames.map((p) => {
    const ks = paths[p].katas.map((id) => byId(all, id));
    const chain = ks.map((k) => `[${num(k.kata)}](${pageUrl(lang, kataPath(k))})`).join(" → ");
    return `- <span class="dojo-swatch" style="background:${pathColors[p]}"></span> **[${
      paths[p].title[lang]
    }](${pageUrl(lang, "paths")}#${p})**：${chain}<br/>${paths[p].description[lang]} ${
      t[lang].totalMinutes(sum(ks.map((k) => k.kata.minutes)))
    }`.replace("**：", zh ? "**：" : "**: ");
  }).join("\n");
  const body = [
    zh
      ? `14 个练习，从第一个张量一直走到一个你亲手训练的微型语言模型，用 TypeScript 和 Deno 上的 TensorFlow.js 写成。每个练习用中英文讲清一个想法，给你一份带 \`TODO\` 的骨架代码，再用测试检查你的实现：形状、数值、梯度、损失、准确率、内存泄漏。目前已有 ${built} 个练习可以做，其余标为“即将推出”。`
      : `Fourteen katas that take you from your first tensor to a small language model you trained yourself, in TypeScript, with TensorFlow.js on Deno. Each kata explains one idea in Chinese and English, gives you a skeleton with \`TODO\`s, and checks your code with tests: shapes, values, gradients, losses, accuracy, memory leaks. ${built} katas are ready so far; the others are marked "coming".`,
    '<div class="dojo-overview">\n<div class="dojo-overview-main">',
    `## ${t[lang].graph}`,
    zh
      ? "箭头从前置练习指向建立在它之上的练习；每个方框写着建议的工作坊用时。彩色的线是学习路径，虚线框是还在编写的练习。点击方框打开练习。"
      : "Arrows go from a prerequisite to the kata that builds on it; each box gives the suggested workshop time. Coloured lines are the learning paths; dashed boxes are katas still being written. Click a box to open its kata.",
    graph,
    '</div>\n<div class="dojo-overview-side">',
    zh ? "## 学习路径" : "## Learning paths",
    pathList,
    zh
      ? `每条路径的用意见[学习路径](${pageUrl(lang, "paths")})；带工作坊的人请看[给主持人](${
        pageUrl(lang, "facilitators")
      })。`
      : `What each path is for: [learning paths](${
        pageUrl(lang, "paths")
      }). Running a workshop? See [for facilitators](${pageUrl(lang, "facilitators")}).`,
    zh ? "## 怎么开始" : "## How to start",
    zh
      ? "只需要 Node.js 和 npm（Deno 也从 npm 安装）："
      : "All you need is Node.js and npm (Deno comes from npm too):",
    "```sh\nnpx -y deno@2.9.6 task learn\n```",
    zh
      ? `它找到你的下一个练习并运行测试。读讲解（就是这个网站上的页面），填好 \`mod.ts\` 里的 \`TODO\`，用 \`deno test katas/01\` 运行测试直到通过，再进入下一个。从 ${
        kataLink(first, lang)
      } 开始。`
      : `It finds your next kata and runs its tests. Read the explanation (the pages of this site), fill in the \`TODO\`s of \`mod.ts\`, run \`deno test katas/01\` until the tests pass, then go on. Start with ${
        kataLink(first, lang)
      }.`,
    "</div>\n</div>",
    zh ? "## 全部练习" : "## All katas",
    kataTable(all, lang),
  ].join("\n\n");
  return {
    id: pageId(lang, ""),
    lang,
    data: {
      title: "LLM Dojo",
      description: t[lang].siteTagline,
      template: "splash",
      hero: {
        title: "LLM Dojo",
        tagline: (zh ? "大模型道场 · " : "") + t[lang].siteTagline,
        actions: [
          {
            text: zh ? "从练习 01 开始" : "Start with kata 01",
            link: pageUrl(lang, kataPath(first)),
            icon: "right-arrow",
          },
          {
            text: zh ? "学习路径" : "Learning paths",
            link: pageUrl(lang, "paths"),
            variant: "minimal",
          },
          {
            text: zh ? "术语表" : "Glossary",
            link: pageUrl(lang, "glossary"),
            variant: "minimal",
          },
          {
            text: zh ? "给主持人" : "For facilitators",
            link: pageUrl(lang, "facilitators"),
            variant: "minimal",
          },
        ],
      },
    },
    body,
  };
}

function pathsPage(all: KataFiles[], lang: Lang, graph: string): Page {
  const zh = lang === "zh";
  const parts: string[] = [
    zh
      ? "学习路径来自这个项目的种子文档（一份中文的 PyTorch 草稿）。它们和下面的依赖图一样，都在构建时从目录 `lib/catalog.ts` 生成：`deno task learn`、测试和这个网站读的是同一份数据。"
      : "The learning paths come from this project's seed document (a Chinese PyTorch draft). Like the dependency graph below, they are generated at build time from the catalog, `lib/catalog.ts`: `deno task learn`, the tests and this site read the same data.",
  ];
  for (const p of pathNames) {
    const ks = paths[p].katas.map((id) => byId(all, id));
    const total = sum(ks.map((k) => k.kata.minutes));
    parts.push(
      `## ${paths[p].title[lang]} {#${p}}`,
      `<span class="dojo-swatch" style="background:${pathColors[p]}"></span> **${
        paths[p].description[lang]
      }** ${pathNotes[p][lang]}`,
      ks.map((k, i) => `${i + 1}. ${kataLink(k, lang)} · ${t[lang].minutes(k.kata.minutes)}`).join(
        "\n",
      ),
      t[lang].totalMinutes(total),
    );
  }
  parts.push(
    `## ${t[lang].graph}`,
    graph,
    zh ? "## 五个阶段" : "## The five stages",
    zh
      ? "种子文档把 14 步分成五个阶段，每个阶段建立在前一个之上："
      : "The seed document groups the 14 steps into five stages, each building on the one before:",
    Object.entries(stages).map(([key, s]) => {
      const ks = all.filter((k) => k.kata.stage === key);
      return `- **${s[lang]}**：${ks.map((k) => kataLink(k, lang)).join(zh ? "、" : ", ")}`.replace(
        "**：",
        zh ? "**：" : "**: ",
      );
    }).join("\n"),
  );
  return {
    id: pageId(lang, "paths"),
    lang,
    data: {
      title: zh ? "学习路径" : "Learning paths",
      description: zh ? "依赖图和四条学习路径" : "The dependency graph and the four learning paths",
    },
    body: parts.join("\n\n"),
  };
}

function glossaryPage(all: KataFiles[], lang: Lang): Page {
  const zh = lang === "zh";
  const parts: string[] = [
    zh
      ? "道场里用到的术语，中英对照。每个词条注明它最先出现的练习；详细的讲解在练习页面里。"
      : "The terms of the dojo in Chinese and English. Each entry names the kata where it first matters; the kata pages explain it at length.",
  ];
  for (const [key, s] of Object.entries(stages)) {
    const terms = glossary.filter((g) => byId(all, g.katas[0]).kata.stage === key);
    if (!terms.length) continue;
    parts.push(`## ${s[lang]}`);
    for (const g of terms) {
      const where = g.katas.map((id) => kataLink(byId(all, id), lang)).join(
        zh ? "、" : ", ",
      );
      parts.push(
        `### ${zh ? `${g.zh} · ${g.en}` : `${g.en} · ${g.zh}`} {#${g.id}}`,
        `${g.def[lang]}<br/><span class="dojo-see">${zh ? "见" : "See"} ${where}</span>`,
      );
    }
  }
  return {
    id: pageId(lang, "glossary"),
    lang,
    data: {
      title: zh ? "术语表" : "Glossary",
      description: zh ? "中英对照的深度学习术语" : "Deep-learning terms in Chinese and English",
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 2 },
    },
    body: parts.join("\n\n"),
  };
}

function facilitatorsPage(
  all: KataFiles[],
  lang: Lang,
  siteRoot: string,
): Page {
  const zh = lang === "zh";
  const minutes =
    (zh
      ? "| 练习 | 阶段 | 建议用时 | 状态 |\n| --- | --- | --- | --- |"
      : "| Kata | Stage | Time | Status |\n| --- | --- | --- | --- |") +
    "\n" +
    all.map((k) =>
      `| [${kataLabel(k, lang)}](${pageUrl(lang, kataPath(k))}) | ${stages[k.kata.stage][lang]} | ${
        t[lang].minutes(k.kata.minutes)
      } | ${k.built ? t[lang].ready : t[lang].coming} |`
    ).join("\n") +
    `\n| ${zh ? "全部 14 个" : "All 14"} | | ${
      t[lang].totalMinutes(sum(all.map((k) => k.kata.minutes)))
    } | |`;
  const text = joinCjkLines(
    readFileSync(join(siteRoot, "content", `facilitators.${lang}.md`), "utf8"),
  )
    .replace("<!-- dojo:minutes -->", `<div class="dojo-table">\n\n${minutes}\n\n</div>`)
    .replace("<!-- dojo:paths -->", pathTable(all, lang));
  return {
    id: pageId(lang, "facilitators"),
    lang,
    data: {
      title: zh ? "给主持人" : "For facilitators",
      description: zh ? "怎样用这个仓库带一次工作坊" : "How to run a workshop with the repository",
    },
    body: text,
  };
}

function kataPage(all: KataFiles[], k: KataFiles, lang: Lang): Page {
  const tr = t[lang];
  const zh = lang === "zh";
  const id = num(k.kata);
  const dependents = all.filter((x) => x.kata.prerequisites.includes(k.kata.id));
  const onPaths = pathNames.filter((p) =>
    (paths[p].katas as readonly number[]).includes(k.kata.id)
  );
  const pathNav = onPaths.map((p) => {
    const list = paths[p].katas as readonly number[];
    const i = list.indexOf(k.kata.id);
    const prev = i > 0 ? byId(all, list[i - 1]) : undefined;
    const next = i < list.length - 1 ? byId(all, list[i + 1]) : undefined;
    const name = `<a href="${
      pageUrl(lang, "paths")
    }#${p}"><span class="dojo-swatch" style="background:${pathColors[p]}"></span>${
      esc(paths[p].title[lang])
    }</a>`;
    const step = list.length > 1
      ? (zh ? ` 第 ${i + 1}/${list.length} 步` : ` step ${i + 1} of ${list.length}`)
      : "";
    const around = [
      prev ? `${zh ? "上一步" : "after"} ${kataLink(prev, lang)}` : "",
      next ? `${zh ? "下一步" : "before"} ${kataLink(next, lang)}` : "",
    ].filter(Boolean).join(zh ? "，" : ", ");
    return `${name}${esc(step)}${around ? `<span class="dojo-around">${around}</span>` : ""}`;
  });
  const row = (label: string, value: string) =>
    `<div><dt>${esc(label)}</dt><dd>${value}</dd></div>`;
  const meta = `<dl class="dojo-meta not-content">${
    [
      row(tr.stage, esc(stages[k.kata.stage][lang])),
      row(tr.workshop, esc(tr.minutes(k.kata.minutes))),
      row(
        tr.prerequisites,
        k.kata.prerequisites.map((p) => kataLink(byId(all, p), lang)).join(
          zh ? "、" : ", ",
        ) ||
          esc(tr.none),
      ),
      row(
        tr.next,
        dependents.map((d) => kataLink(d, lang)).join(zh ? "、" : ", ") ||
          esc(tr.end),
      ),
      row(
        tr.onPaths,
        pathNav.map((x) => `<div class="dojo-path-row">${x}</div>`).join("") || esc(tr.noPath),
      ),
    ].join("")
  }</dl>`;

  const kataUrl = (name: string) => {
    const other = all.find((x) => x.name === name);
    return other ? pageUrl(lang, kataPath(other)) : null;
  };
  const parts: string[] = [meta];
  if (!k.built) {
    parts.push(aside("note", tr.coming, tr.comingLong));
  } else {
    let readme = k.readme[lang];
    if (!readme && zh && k.readme.en) {
      parts.push(aside("caution", tr.notYet, tr.noZh));
      readme = k.readme.en;
    }
    if (readme) {
      const md = rewriteLinks(stripLanguageLine(stripTitle(readme)), {
        name: k.name,
        kataUrl,
      });
      parts.push(normalizeDisplayMath(katexCompat(joinCjkLines(md))));
    } else {
      parts.push(aside("note", tr.notYet, tr.noReadme));
    }
    if (k.skeleton) {
      parts.push(
        `## ${tr.skeleton} {#skeleton}`,
        tr.skeletonIntro(`${k.dir}/mod.ts`, id),
        codeBlock(k.skeleton, "ts", `${k.dir}/mod.ts`),
      );
    }
    parts.push(`## ${tr.hints} {#hints}`);
    const levels = k.hints ? parseHints(k.hints) : [];
    if (levels.length) {
      parts.push(tr.hintsIntro);
      for (const h of levels) {
        const kind = tr.hintKind[h.level] ? `：${tr.hintKind[h.level]}` : "";
        const summary = zh
          ? `${tr.hintLevel(h.level)}${kind}`
          : `${tr.hintLevel(h.level)}${kind.replace("：", ": ")}`;
        const hint = rewriteLinks(h[lang], { name: k.name, kataUrl });
        parts.push(
          `<details class="dojo-hint" data-level="${h.level}">\n<summary>${esc(summary)}</summary>`,
          normalizeDisplayMath(katexCompat(joinCjkLines(hint))),
          "</details>",
        );
      }
    } else {
      parts.push(tr.noHints);
    }
    if (k.solution) {
      parts.push(
        `## ${tr.solution} {#solution}`,
        tr.solutionIntro(id),
        `<details class="dojo-solution">\n<summary>${esc(tr.showSolution)}</summary>`,
        codeBlock(k.solution, "ts", k.solutionPath),
        "</details>",
      );
    }
  }
  const source = k.built ? tr.sourceNote(k.dir) : tr.sourceCatalog;
  parts.push(
    `<p class="dojo-source">${esc(source).replace(/`([^`]+)`/g, "<code>$1</code>")}</p>`,
  );
  return {
    id: pageId(lang, kataPath(k)),
    lang,
    data: {
      title: kataLabel(k, lang),
      description: `${tr.kata} ${id} · ${k.kata.title[lang]} · ${stages[k.kata.stage][lang]} · ${
        tr.minutes(k.kata.minutes)
      }`,
    },
    body: parts.join("\n\n"),
  };
}

/**
 * All pages of the site. `repoRoot` is the repository (where `lib/catalog.ts` and `katas/` are),
 * `siteRoot` the `site/` folder.
 */
export async function buildPages(
  repoRoot: string,
  siteRoot: string,
): Promise<Page[]> {
  const all = readKatas(repoRoot);
  const pages: Page[] = [];
  for (const lang of langs) {
    const graph = await graphBlock(all, lang);
    pages.push(indexPage(all, lang, graph), pathsPage(all, lang, graph));
    pages.push(glossaryPage(all, lang), facilitatorsPage(all, lang, siteRoot));
    for (const k of all) pages.push(kataPage(all, k, lang));
  }
  return pages;
}
