/**
 * A kata's hints.md: levels under `## 1`, `## 2`, ... headings (see CONTRIBUTING.md), revealed
 * one at a time. Pure.
 * @module
 */

/** One level of hints. */
export interface Hint {
  level: number;
  /** The level's Markdown, trimmed. */
  text: string;
}

/**
 * The levels of a hints.md, in order. Text before the first `## N` (the title) is not a level;
 * other `##` headings stay inside the level they are in. Throws when levels are not 1, 2, 3, ...
 */
export function parseHints(markdown: string): Hint[] {
  const hints: Hint[] = [];
  let current: { level: number; lines: string[] } | undefined;
  let inFence = false;
  for (const line of markdown.replace(/\r\n/g, "\n").split("\n")) {
    if (/^(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^##\s+(\d+)\s*$/.exec(line);
    if (heading) {
      if (current) hints.push({ level: current.level, text: current.lines.join("\n").trim() });
      current = { level: Number(heading[1]), lines: [] };
    } else current?.lines.push(line);
  }
  if (current) hints.push({ level: current.level, text: current.lines.join("\n").trim() });
  hints.forEach((h, i) => {
    if (h.level !== i + 1) {
      throw new Error(
        `hint levels must be ## 1, ## 2, ... in order; found ## ${h.level} in place ${i + 1}`,
      );
    }
  });
  return hints;
}

/** The level to reveal next after `revealed` levels, or undefined when all are revealed. */
export function nextLevel(hints: Hint[], revealed: number): number | undefined {
  return revealed < hints.length ? revealed + 1 : undefined;
}
