// The site's Astro + Starlight configuration. The sidebar comes from the kata catalog; the pages
// come from src/loader.ts. Build: `deno task site` at the repository root (see README.md).
import { defineConfig } from "astro/config";
import starlight from "@astrojs/starlight";
import remarkMath from "remark-math";
import rehypeKatex from "rehype-katex";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import rehypeHeadingIdSuffix from "./src/lib/heading_ids.ts";
import { kataDir, kataName, katas, stages } from "../lib/catalog.ts";

const repoRoot = fileURLToPath(new URL("../", import.meta.url));
const built = (k: (typeof katas)[number]) => existsSync(`${repoRoot}${kataDir(k)}/mod_test.ts`);

export default defineConfig({
  // Set SITE_URL to the address the site will be published at to get a sitemap.
  site: process.env.SITE_URL || undefined,
  outDir: "./dist",
  trailingSlash: "always",
  markdown: {
    remarkPlugins: [remarkMath],
    rehypePlugins: [[rehypeKatex, { strict: "ignore" }], rehypeHeadingIdSuffix],
  },
  integrations: [
    starlight({
      title: "LLM Dojo",
      description: "14 katas: deep learning with TensorFlow.js, from tensors to a mini LLM",
      defaultLocale: "root",
      locales: {
        root: { label: "简体中文", lang: "zh-CN" },
        en: { label: "English", lang: "en" },
      },
      customCss: ["katex/dist/katex.min.css", "./src/styles/dojo.css"],
      lastUpdated: false,
      pagination: true,
      tableOfContents: { minHeadingLevel: 2, maxHeadingLevel: 3 },
      sidebar: [
        {
          label: "开始",
          translations: { en: "Start" },
          items: [
            { slug: "paths" },
            { slug: "glossary" },
            { slug: "facilitators" },
          ],
        },
        ...Object.entries(stages).map(([key, stage]) => ({
          label: stage.zh,
          translations: { en: stage.en },
          items: katas.filter((k) => k.stage === key).map((k) => ({
            slug: `katas/${kataName(k)}`,
            ...(built(k) ? {} : {
              badge: {
                text: { "zh-CN": "即将推出", en: "coming" },
                variant: "default" as const,
                class: "dojo-badge-coming",
              },
            }),
          })),
        })),
      ],
    }),
  ],
  // The katas and the catalog live outside site/: let Vite read them.
  vite: { server: { fs: { allow: [repoRoot] } } },
});
