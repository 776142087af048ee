/**
 * Reads the repository at build time: the kata catalog (imported, never copied) and each kata
 * folder's files. Nothing here is cached or written back.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Kata, kataDir, kataName, katas, pad, solutionDir } from "../../../lib/catalog.ts";

export { kataDir, kataName, katas, pad, paths, stages } from "../../../lib/catalog.ts";
export type { Kata, PathName } from "../../../lib/catalog.ts";

/** What the repository holds for one kata of the catalog. */
export interface KataFiles {
  kata: Kata;
  /** `03_logistic_regression` */
  name: string;
  /** `katas/03_logistic_regression` */
  dir: string;
  /** Built: its tests exist (`katas/NN_slug/mod_test.ts`). Otherwise the kata is "coming". */
  built: boolean;
  readme: { zh?: string; en?: string };
  hints?: string;
  skeleton?: string;
  solution?: string;
  solutionPath: string;
}

function read(root: string, path: string): string | undefined {
  const file = join(root, path);
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
}

/** Every kata of the catalog, in step order, with whatever files it has so far. */
export function readKatas(root: string): KataFiles[] {
  return katas.map((kata) => {
    const dir = kataDir(kata);
    const built = existsSync(join(root, dir, "mod_test.ts"));
    const solutionPath = `${solutionDir(kata)}/mod.ts`;
    return {
      kata,
      name: kataName(kata),
      dir,
      built,
      readme: built
        ? {
          zh: read(root, `${dir}/README.zh.md`),
          en: read(root, `${dir}/README.md`),
        }
        : {},
      hints: built ? read(root, `${dir}/hints.md`) : undefined,
      skeleton: built ? read(root, `${dir}/mod.ts`) : undefined,
      solution: built ? read(root, solutionPath) : undefined,
      solutionPath,
    };
  });
}

/** `03` */
export const num = (k: Kata): string => pad(k.id);
