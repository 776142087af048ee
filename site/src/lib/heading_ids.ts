/**
 * A rehype plugin for the headings of generated pages, run after KaTeX and before Astro's own
 * heading ids (which keep an id that is already there):
 *
 * - a heading that ends with `{#some-id}` gets that id (and loses the braces), so that generated
 *   sections have ids that do not depend on the language (`#skeleton`, `#hints`, `#solution`, the
 *   paths' `#minimal`, the glossary's terms);
 * - a heading with a formula gets an id and a table-of-contents text made from the formula's TeX
 *   in plain Unicode (`data-toc`, read back by the loader): Astro would otherwise run the text of
 *   KaTeX's MathML and HTML together ("dk\sqrt${d_k}dk").
 * @module
 */

interface Node {
  type: string;
  tagName?: string;
  value?: string;
  properties?: Record<string, unknown>;
  children?: Node[];
}

const suffix = /\s*\{#([A-Za-z0-9_-]+)\}\s*$/;

const symbols: Record<string, string> = {
  alpha: "α",
  beta: "β",
  gamma: "γ",
  delta: "δ",
  epsilon: "ε",
  eta: "η",
  theta: "θ",
  lambda: "λ",
  mu: "μ",
  pi: "π",
  sigma: "σ",
  tau: "τ",
  phi: "φ",
  omega: "ω",
  Delta: "Δ",
  Sigma: "Σ",
  nabla: "∇",
  partial: "∂",
  top: "⊤",
  cdot: "·",
  times: "×",
  le: "≤",
  leq: "≤",
  ge: "≥",
  geq: "≥",
  infty: "∞",
  to: "→",
  ell: "ℓ",
};

/** A formula's TeX as plain text for a table of contents: `\sqrt{d_k}` is `√d_k`. */
export function texToPlain(tex: string): string {
  return tex
    .replace(/\\sqrt\{([^{}]*)\}/g, "√$1")
    .replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "$1/$2")
    .replace(/\\(?:mathrm|text|mathbf|operatorname)\{([^{}]*)\}/g, "$1")
    .replace(/\\([A-Za-z]+)/g, (_, name: string) => symbols[name] ?? name)
    .replace(/[{}]/g, "")
    .replace(/\\[,;!: ]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

const hasClass = (n: Node, c: string) => {
  const cls = n.properties?.className;
  return Array.isArray(cls)
    ? cls.includes(c)
    : typeof cls === "string" && cls.split(" ").includes(c);
};

function textOf(n: Node, tex: boolean): string {
  if (n.type === "text") return n.value ?? "";
  if (tex && n.type === "element" && hasClass(n, "katex")) {
    let source = "";
    const find = (m: Node) => {
      if (m.tagName === "annotation") {
        source = (m.children ?? []).map((c) => c.value ?? "").join("");
      } else (m.children ?? []).forEach(find);
    };
    find(n);
    return texToPlain(source);
  }
  return (n.children ?? []).map((c) => textOf(c, tex)).join("");
}

const containsMath = (n: Node): boolean =>
  hasClass(n, "katex") || (n.children ?? []).some(containsMath);

/** GitHub-style slug: lower case, spaces to dashes, punctuation dropped, letters of any script kept. */
function slug(s: string): string {
  return s.toLowerCase().trim().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
}

function walk(node: Node): void {
  if (node.type === "element" && /^h[1-6]$/.test(node.tagName ?? "")) {
    const last = node.children?.[node.children.length - 1];
    const m = last?.type === "text" ? last.value?.match(suffix) : null;
    if (last && m) {
      last.value = last.value!.replace(suffix, "");
      node.properties = { ...node.properties, id: m[1] };
    }
    if (containsMath(node)) {
      const plain = textOf(node, true).trim();
      node.properties = {
        ...node.properties,
        id: node.properties?.id ?? slug(plain),
        dataToc: plain,
      };
    }
  }
  for (const child of node.children ?? []) walk(child);
}

export default function rehypeHeadingIdSuffix() {
  return (tree: Node) => walk(tree);
}
