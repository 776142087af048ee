/**
 * The Astro content loader of the site: it builds every page from the catalog and the kata
 * folders at build time (no copies of them are stored) and renders their Markdown with the site's
 * Markdown pipeline (KaTeX, Expressive Code, Starlight's asides).
 * @module
 */
import type { Loader } from "astro/loaders";
import { fileURLToPath } from "node:url";
import { buildPages } from "./lib/pages.ts";

export function dojoLoader(): Loader {
  return {
    name: "llm-dojo",
    load: async (
      { store, renderMarkdown, parseData, config, logger, generateDigest },
    ) => {
      const siteRoot = fileURLToPath(config.root);
      const repoRoot = fileURLToPath(new URL("../", config.root));
      const t0 = performance.now();
      const pages = await buildPages(repoRoot, siteRoot);
      const t1 = performance.now();
      store.clear();
      let errors = 0;
      for (const page of pages) {
        const data = await parseData({ id: page.id, data: page.data });
        const rendered = await renderMarkdown(page.body);
        // Headings with a formula: the table of contents shows their plain text (heading_ids.ts).
        for (const [, attrs] of rendered.html.matchAll(/<h[1-6]([^>]*\sdata-toc="[^"]*"[^>]*)>/g)) {
          const id = attrs.match(/\sid="([^"]*)"/)?.[1];
          const toc = attrs.match(/\sdata-toc="([^"]*)"/)?.[1];
          const heading = rendered.metadata?.headings?.find((h) => h.slug === id);
          if (heading && toc) heading.text = unescapeHtml(toc);
        }
        const bad = rendered.html.match(/class="katex-error"[^>]*title="([^"]*)"/g) ?? [];
        for (const e of bad) logger.warn(`${page.id}: ${e}`);
        errors += bad.length;
        store.set({
          id: page.id,
          data,
          body: page.body,
          rendered,
          digest: generateDigest(JSON.stringify(page)),
        });
      }
      const t2 = performance.now();
      logger.info(
        `${pages.length} pages from the catalog and the kata folders (read, graphs: ${
          Math.round(t1 - t0)
        } ms; Markdown: ${Math.round(t2 - t1)} ms)`,
      );
      if (errors) {
        throw new Error(
          `${errors} formulas did not render: see the warnings above`,
        );
      }
    },
  };
}

function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, "<").replace(
    /&gt;/g,
    ">",
  ).replace(/&amp;/g, "&");
}
