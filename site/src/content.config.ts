import { defineCollection } from "astro:content";
import { docsSchema, i18nSchema } from "@astrojs/starlight/schema";
import { i18nLoader } from "@astrojs/starlight/loaders";
import { dojoLoader } from "./loader.ts";

export const collections = {
  // Every page: built from lib/catalog.ts and the kata folders by src/loader.ts.
  docs: defineCollection({ loader: dojoLoader(), schema: docsSchema() }),
  // Chinese words for the search box (Starlight's zh-CN strings do not cover Pagefind's).
  i18n: defineCollection({ loader: i18nLoader(), schema: i18nSchema() }),
};
