/**
 * Text for the terminal: colours (off with NO_COLOR), display width of mixed Chinese and Latin text,
 * padding, progress bars and durations. Pure functions; nothing here touches the terminal.
 * @module
 */

/** Styles text with ANSI escapes, or leaves it plain. */
export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  inverse(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

/** A {@linkcode Paint} that colours, or one that returns text unchanged. */
export function paint(color: boolean): Paint {
  if (!color) {
    const id = (s: string) => s;
    return { bold: id, dim: id, red: id, green: id, yellow: id, cyan: id, inverse: id };
  }
  return {
    bold: sgr(1, 22),
    dim: sgr(2, 22),
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    inverse: sgr(7, 27),
  };
}

// deno-lint-ignore no-control-regex
const ansi = /\x1b\[[0-9;?]*[A-Za-z]/g;
// deno-lint-ignore no-control-regex
const ansiOrChar = /\x1b\[[0-9;?]*[A-Za-z]|[\s\S]/gu;

/** The line as ANSI escapes and single characters. */
const tokens = (line: string): string[] => line.match(ansiOrChar) ?? [];

/** The text without ANSI escapes. */
export function stripAnsi(s: string): string {
  return s.replace(ansi, "");
}

/** True for code points a terminal draws two columns wide (CJK, full-width forms, Hangul). */
function isWide(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
}

/** Columns the text takes on a terminal: Chinese characters count two, escapes none. */
export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of stripAnsi(s)) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x20 || (cp >= 0x300 && cp <= 0x36f)) continue; // controls, combining marks
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

/** Pads with spaces on the right to `width` columns (no cut when longer). */
export function padEnd(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - displayWidth(s)));
}

/** Cuts plain text to at most `width` columns, ending with "…" when cut. */
export function truncate(s: string, width: number): string {
  if (displayWidth(s) <= width) return s;
  let out = "";
  let used = 0;
  for (const ch of stripAnsi(s)) {
    const w = displayWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return out + "…";
}

/** `[████░░░░░░] 4/10` */
export function progressBar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((width * Math.min(done, total)) / total) : 0;
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${done}/${total}`;
}

/**
 * A duration as a clock: `4:05`, `1:02:03`; negative durations (overtime) as `+4:05`.
 * Seconds are rounded down for time left and up for overtime, so a countdown shows 0:00 only once
 * the time is really up.
 */
export function clock(ms: number): string {
  const over = ms < 0;
  const total = over ? Math.ceil(-ms / 1000) : Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  const text = `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
  return over ? `+${text}` : text;
}

/** Minutes for people: `25 min`, `1 h 40 min`, `0.5 min`. */
export function minutesText(minutes: number): string {
  if (minutes < 1) return `${Number(minutes.toFixed(2))} min`;
  const m = Math.round(minutes);
  if (m < 60) return `${m} min`;
  return m % 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m / 60} h`;
}

/** Clears the screen and puts the cursor top left. */
export const CLEAR = "\x1b[2J\x1b[3J\x1b[H";

/**
 * Breaks a line into pieces of at most `width` columns, keeping ANSI escapes (they take no room)
 * and breaking Latin text at a space when one is near the end. Chinese text breaks anywhere.
 */
export function wrap(line: string, width: number): string[] {
  if (width < 2 || displayWidth(line) <= width) return [line];
  const out: string[] = [];
  let piece = "";
  let used = 0;
  let lastSpace = -1; // index in `piece` just after a space
  let usedAtSpace = 0;
  for (const token of tokens(line)) {
    const w = token.startsWith("\x1b") ? 0 : displayWidth(token);
    if (used + w > width) {
      // Inside a Latin word: go back to the last space. Chinese text breaks anywhere. A space
      // where the line breaks is dropped.
      const inWord = w === 1 && token !== " ";
      if (token === " ") {
        out.push(piece);
        piece = "";
        used = 0;
        lastSpace = -1;
        continue;
      }
      if (inWord && lastSpace > 0 && usedAtSpace > width * 0.6) {
        out.push(piece.slice(0, lastSpace).trimEnd());
        piece = piece.slice(lastSpace);
        used -= usedAtSpace;
      } else {
        out.push(piece);
        piece = "";
        used = 0;
      }
      lastSpace = -1;
    }
    piece += token;
    used += w;
    if (token === " ") {
      lastSpace = piece.length;
      usedAtSpace = used;
    }
  }
  if (piece) out.push(piece);
  return out;
}

/** Cuts a line to `width` columns keeping its ANSI escapes (and closing them when cut). */
export function clip(line: string, width: number): string {
  if (displayWidth(line) <= width) return line;
  let out = "";
  let used = 0;
  for (const token of tokens(line)) {
    if (token.startsWith("\x1b")) {
      out += token;
      continue;
    }
    const w = displayWidth(token);
    if (used + w > width) break;
    out += token;
    used += w;
  }
  return out + "\x1b[0m";
}
