/**
 * The site's own words in both languages: the parts of a page the site adds around a kata's
 * explanation (meta box, skeleton, solution, hints) and the generated pages.
 * @module
 */

export type Lang = "zh" | "en";
export const langs: readonly Lang[] = ["zh", "en"];

/** Starlight's locale of each language: Chinese is the root locale, English lives under /en/. */
export const localePrefix: Record<Lang, string> = { zh: "", en: "en/" };

/** The page id (and URL path without slashes) of a page in a language: `pageId("en", "paths")`. */
export function pageId(lang: Lang, path: string): string {
  const p = localePrefix[lang] + path;
  return p === "" ? "index" : p.replace(/\/$/, "");
}

/** The site-absolute URL of a page: `pageUrl("zh", "katas/03_x")` is `/katas/03_x/`. */
export function pageUrl(lang: Lang, path: string): string {
  const p = localePrefix[lang] + path;
  return p === "" ? "/" : `/${p.replace(/\/$/, "")}/`;
}

export const t = {
  zh: {
    siteTagline: "通过让测试通过来学习深度学习：从第一个张量到自己训练的微型语言模型。",
    kata: "练习",
    minutes: (n: number) => `${n} 分钟`,
    stage: "阶段",
    workshop: "建议用时",
    prerequisites: "前置练习",
    none: "无（起点）",
    next: "后续练习",
    end: "无（终点）",
    onPaths: "所在路径",
    noPath: "不在任何学习路径上",
    prevNext: (path: string) => `${path}：`,
    prev: "上一个",
    nextInPath: "下一个",
    coming: "即将推出",
    comingLong:
      "这个练习还在编写中。下面是目录（`lib/catalog.ts`）里已经确定的内容：它在依赖图中的位置、前置练习和建议用时。写好之后，这一页会显示完整的讲解、骨架代码、提示和参考答案。",
    notYet: "还在编写",
    noZh: "这个练习的中文讲解（`README.zh.md`）还没写好，下面先显示英文原文。",
    noReadme: "这个练习的讲解（`README.md`）还在编写中。骨架代码和测试已经可以用了。",
    skeleton: "骨架代码",
    skeletonIntro: (file: string, id: string) =>
      `这是你要编辑的文件 \`${file}\`，原样取自仓库。填好每个 \`TODO\`，然后运行 \`deno test katas/${id}\`。`,
    solution: "参考答案",
    solutionIntro: (id: string) =>
      `先自己让测试通过，再来对照。用 \`deno task solution ${id}\` 可以让同样的测试跑参考答案。`,
    showSolution: "显示参考答案",
    hints: "提示",
    hintsIntro:
      "提示分级给出：第 1 级指出思路，第 2 级点明要用的 API，第 3 级几乎就是代码。一次只展开一级。",
    hintLevel: (n: number) => `第 ${n} 级提示`,
    hintKind: ["", "思路", "要用的 API", "接近代码"],
    noHints: "这个练习的提示还在编写中。",
    sourceNote: (dir: string) => `本页内容取自仓库中的 \`${dir}/\`。`,
    sourceCatalog: "本页内容取自仓库中的目录 `lib/catalog.ts`。",
    graph: "依赖图",
    graphAlt:
      "14 个练习的依赖图：箭头从前置练习指向后续练习，彩色的线是学习路径。点击节点打开练习。",
    legendPrereq: "前置关系",
    legendComing: "即将推出",
    totalMinutes: (n: number) => `共 ${n} 分钟（约 ${(n / 60).toFixed(1)} 小时）`,
    status: "状态",
    ready: "可以练习",
    title: "标题",
  },
  en: {
    siteTagline:
      "Learn deep learning by making tests pass: from your first tensor to a small language model you trained yourself.",
    kata: "Kata",
    minutes: (n: number) => `${n} min`,
    stage: "Stage",
    workshop: "Workshop time",
    prerequisites: "Prerequisites",
    none: "none (a starting point)",
    next: "Leads to",
    end: "none (the end)",
    onPaths: "Learning paths",
    noPath: "on no learning path",
    prevNext: (path: string) => `${path}: `,
    prev: "previous",
    nextInPath: "next",
    coming: "Coming",
    comingLong:
      "This kata is still being written. Below is what the catalog (`lib/catalog.ts`) already says about it: where it sits in the dependency graph, what it builds on, and its workshop time. Once it is written, this page shows its explanation, skeleton, hints and reference solution.",
    notYet: "Being written",
    noZh: "",
    noReadme:
      "This kata's explanation (`README.md`) is still being written. The skeleton and the tests are ready.",
    skeleton: "The skeleton",
    skeletonIntro: (file: string, id: string) =>
      `The file you edit, \`${file}\`, exactly as it is in the repository. Fill in each \`TODO\`, then run \`deno test katas/${id}\`.`,
    solution: "The reference solution",
    solutionIntro: (id: string) =>
      `Make the tests pass yourself first, then compare. \`deno task solution ${id}\` runs the same tests against it.`,
    showSolution: "Show the solution",
    hints: "Hints",
    hintsIntro:
      "Hints come in levels: level 1 points at the idea, level 2 at the API calls, level 3 is nearly the code. Open one level at a time.",
    hintLevel: (n: number) => `Hint level ${n}`,
    hintKind: ["", "the idea", "the API", "nearly the code"],
    noHints: "This kata's hints are still being written.",
    sourceNote: (dir: string) => `This page is built from \`${dir}/\` in the repository.`,
    sourceCatalog: "This page is built from the catalog, `lib/catalog.ts`, in the repository.",
    graph: "The dependency graph",
    graphAlt:
      "The dependency graph of the 14 katas: arrows go from a prerequisite to what builds on it; coloured lines are the learning paths. Click a node to open its kata.",
    legendPrereq: "prerequisite",
    legendComing: "coming",
    totalMinutes: (n: number) => `${n} min in all (about ${(n / 60).toFixed(1)} h)`,
    status: "Status",
    ready: "ready",
    title: "Title",
  },
} as const;
