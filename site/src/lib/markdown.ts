/**
 * Text transforms that turn a kata folder's Markdown (written for reading on GitHub or in an
 * editor) into Markdown for the site: no copies, only rewrites done at build time.
 * @module
 */

/** Matches the opening or closing line of a fenced code block. */
const fenceRe = /^\s*(`{3,}|~{3,})/;

/**
 * Splits Markdown into runs of lines inside and outside fenced code blocks, so that a transform
 * never touches code.
 */
function mapOutsideCode(md: string, f: (text: string) => string): string {
  const lines = md.split("\n");
  const out: string[] = [];
  let prose: string[] = [];
  let fence: string | null = null;
  for (const line of lines) {
    const m = line.match(fenceRe);
    if (fence === null) {
      if (m) {
        if (prose.length) out.push(f(prose.join("\n")));
        prose = [];
        fence = m[1];
        out.push(line);
      } else {
        prose.push(line);
      }
    } else {
      out.push(line);
      if (
        m && m[1][0] === fence[0] && m[1].length >= fence.length &&
        line.trim() === m[1]
      ) {
        fence = null;
      }
    }
  }
  if (prose.length) out.push(f(prose.join("\n")));
  return out.join("\n");
}

/**
 * Display math written GitHub's way, `$$a = b,\n c = d.$$` with the dollars on the same lines as
 * the formula, is not display math for remark-math (it needs `$$` alone on its lines). This puts
 * the fences on their own lines, keeping list indentation, and leaves well-formed blocks and
 * `$$...$$` inside a line of text alone.
 */
export function normalizeDisplayMath(md: string): string {
  return mapOutsideCode(md, (text) => {
    const lines = text.split("\n");
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      const m = line.match(/^(\s*(?:>\s*)*)\$\$(.*)$/);
      if (!m || m[2].trim() === "") {
        out.push(line);
        if (m) {
          // A proper fence: copy through to its closing `$$` line.
          while (++i < lines.length) {
            out.push(lines[i]);
            if (lines[i].trim().replace(/^>\s*/, "") === "$$") break;
          }
        }
        continue;
      }
      const prefix = m[1];
      const start = i;
      // Collect the formula up to the closing `$$`.
      const body: string[] = [];
      let rest = m[2];
      let after = "";
      let closed = false;
      for (;;) {
        const end = rest.indexOf("$$");
        if (end >= 0) {
          body.push(rest.slice(0, end));
          after = rest.slice(end + 2).trim();
          closed = true;
          break;
        }
        body.push(rest);
        if (i + 1 >= lines.length) break;
        rest = lines[++i].slice(prefix.length);
      }
      if (!closed) {
        // Not math after all: leave the text as it was.
        out.push(...lines.slice(start, i + 1));
        continue;
      }
      const blankPrefix = prefix.trimEnd();
      if (out.length && out[out.length - 1].trim() !== "") {
        out.push(blankPrefix);
      }
      out.push(
        `${prefix}$$`,
        ...body.map((b) => prefix + b.trim()),
        `${prefix}$$`,
      );
      if (after) out.push(blankPrefix, prefix + after);
      if (i + 1 < lines.length && lines[i + 1].trim() !== "") {
        out.push(blankPrefix);
      }
    }
    return out.join("\n");
  });
}

/**
 * KaTeX is stricter than the MathJax GitHub renders with: it refuses a function name as a bare
 * subscript or superscript (`\lambda_\max`). Braces make it valid for both (`\lambda_{\max}`).
 */
export function katexCompat(md: string): string {
  return mapOutsideCode(
    md,
    (text) =>
      text.replace(
        /([_^])\\(max|min|sup|inf|lim|liminf|limsup|log|ln|exp|det|arg|argmax|argmin)(?![A-Za-z])/g,
        "$1{\\$2}",
      ),
  );
}

const cjkChar = "[\\u2e80-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef\\u3000-\\u303f]";
const cjkEnd = new RegExp(`${cjkChar}$`);
const cjkStart = new RegExp(`^[ \\t]*${cjkChar}`);

/**
 * Joins the lines of a Chinese paragraph where a line break falls between two Chinese characters:
 * a browser shows such a break as a space, which Chinese text does not have. Headings, table rows
 * and hard breaks are left alone.
 */
export function joinCjkLines(md: string): string {
  return mapOutsideCode(md, (text) => {
    const lines = text.split("\n");
    const out: string[] = [];
    for (const line of lines) {
      const prev = out[out.length - 1];
      if (
        prev !== undefined && cjkEnd.test(prev) && cjkStart.test(line) &&
        !/^\s*(#|\|)/.test(prev) && !/^\s*\|/.test(line)
      ) {
        out[out.length - 1] = prev + line.trimStart();
      } else {
        out.push(line);
      }
    }
    return out.join("\n");
  });
}

/** Removes the first `# ` heading: the site shows the catalog's title instead. */
export function stripTitle(md: string): string {
  return md.replace(/^\s*# [^\n]*\n/, "");
}

/**
 * Removes the leading language-switch paragraph of a README (`中文 · [English](README.md)`): every
 * page of the site has its own language switch.
 */
export function stripLanguageLine(md: string): string {
  const m = md.match(/^\s*([^\n]+(?:\n[^\n]+)*)\n(\n|$)/);
  if (!m) return md;
  const para = m[1];
  const withoutLinks = para.replace(
    /\[[^\]]*\]\((?:\.\/)?README(?:\.zh)?\.md\)/g,
    "",
  );
  if (
    withoutLinks !== para && /^[\s·|/中文Englishen-zh]*$/.test(withoutLinks)
  ) {
    return md.slice(m[0].length);
  }
  return md;
}

/** Where a relative link of a kata's Markdown points on the site. */
export interface LinkContext {
  /** The kata's folder name, e.g. `03_logistic_regression`. */
  name: string;
  /** The page URL of the kata named `name` in this language, or null if it has no page. */
  kataUrl: (name: string) => string | null;
}

/**
 * Rewrites the relative links of a kata's Markdown: its own README and the other language's go to
 * its page, `hints.md` and `mod.ts` to the page's sections, another kata's folder or README to that
 * kata's page. A link to a repository file that has no page becomes its text in code style, so that
 * the site never has a broken link. Absolute links and in-page anchors stay.
 */
export function rewriteLinks(md: string, ctx: LinkContext): string {
  return mapOutsideCode(
    md,
    (text) =>
      text.replace(
        /(!?)\[([^\]]*)\]\(([^)\s]+)(\s+"[^"]*")?\)/g,
        (all, bang, label, href) => {
          if (
            bang || /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#")
          ) return all;
          const [path, hash] = href.split("#");
          const clean = path.replace(/^\.\//, "");
          const own = ctx.kataUrl(ctx.name);
          const local: Record<string, string> = {
            "README.md": "",
            "README.zh.md": "",
            "hints.md": "#hints",
            "mod.ts": "#skeleton",
            "mod_test.ts": "",
          };
          if (clean in local && own) {
            const anchor = hash ? `#${hash}` : local[clean];
            return `[${label}](${own}${anchor})`;
          }
          const other = clean.match(
            /^(?:\.\.\/)+(?:katas\/)?(\d\d_[a-z0-9_]+)\/?(?:README(?:\.zh)?\.md)?$/,
          );
          if (other) {
            const url = ctx.kataUrl(other[1]);
            if (url) return `[${label}](${url}${hash ? `#${hash}` : ""})`;
          }
          const solution = clean.match(
            /^(?:\.\.\/)+solutions\/(\d\d_[a-z0-9_]+)\/mod\.ts$/,
          );
          if (solution) {
            const url = ctx.kataUrl(solution[1]);
            if (url) return `[${label}](${url}#solution)`;
          }
          return /`/.test(label) ? label : `\`${label}\``;
        },
      ),
  );
}

/** A code fence long enough that nothing inside `code` can close it. */
export function fenceFor(code: string): string {
  const longest = Math.max(
    2,
    ...[...code.matchAll(/`+/g)].map((m) => m[0].length),
  );
  return "`".repeat(longest + 1);
}

/** A fenced code block with an Expressive Code title. */
export function codeBlock(code: string, lang: string, title: string): string {
  const fence = fenceFor(code);
  return `${fence}${lang} title="${title}"\n${code.replace(/\n$/, "")}\n${fence}`;
}

/** One level of a hints file, split into its Chinese and English parts. */
export interface HintLevel {
  level: number;
  zh: string;
  en: string;
}

const cjk = /[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]/;

/**
 * Reads a kata's `hints.md`: `## 1`, `## 2`, ... levels, each with Chinese paragraphs and English
 * paragraphs. A block (text between blank lines, or a whole fenced code block) with Chinese
 * characters in it is Chinese; a code block belongs to both languages; any other block is English.
 * A level where one language has no prose keeps everything for that language.
 */
export function parseHints(md: string): HintLevel[] {
  const parts = md.split(/^## +(\d+)[^\n]*$/m);
  const levels: HintLevel[] = [];
  for (let i = 1; i < parts.length; i += 2) {
    const blocks = splitBlocks(parts[i + 1]);
    const zh: string[] = [];
    const en: string[] = [];
    for (const b of blocks) {
      if (fenceRe.test(b)) {
        zh.push(b);
        en.push(b);
      } else if (cjk.test(b)) zh.push(b);
      else en.push(b);
    }
    const all = blocks.join("\n\n");
    const prose = (xs: string[]) => xs.some((b) => !fenceRe.test(b));
    levels.push({
      level: Number(parts[i]),
      zh: prose(zh) ? zh.join("\n\n") : all,
      en: prose(en) ? en.join("\n\n") : all,
    });
  }
  return levels;
}

/** Blocks of Markdown separated by blank lines; a fenced code block is one block. */
function splitBlocks(md: string): string[] {
  const blocks: string[] = [];
  let cur: string[] = [];
  let fence: string | null = null;
  const flush = () => {
    if (cur.join("").trim()) blocks.push(cur.join("\n").trim());
    cur = [];
  };
  for (const line of md.split("\n")) {
    const m = line.match(fenceRe);
    if (fence === null && m) {
      flush();
      fence = m[1];
      cur.push(line);
    } else if (fence !== null) {
      cur.push(line);
      if (
        m && line.trim() === m[1] && m[1][0] === fence[0] &&
        m[1].length >= fence.length
      ) {
        fence = null;
        flush();
      }
    } else if (line.trim() === "") {
      flush();
    } else {
      cur.push(line);
    }
  }
  flush();
  return blocks;
}

/** Escapes text for HTML. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(
      /"/g,
      "&quot;",
    );
}
