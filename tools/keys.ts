/**
 * Keys from a terminal in raw mode: the bytes of one read become key names (`"h"`, `"enter"`,
 * `"up"`, `"ctrl-c"`, ...). Pure, so that it can be tested without a terminal.
 * @module
 */

const sequences: Record<string, string> = {
  "\x1b[A": "up",
  "\x1b[B": "down",
  "\x1b[C": "right",
  "\x1b[D": "left",
  "\x1bOA": "up",
  "\x1bOB": "down",
  "\x1bOC": "right",
  "\x1bOD": "left",
  "\x1b[H": "home",
  "\x1b[F": "end",
  "\x1b[5~": "pageup",
  "\x1b[6~": "pagedown",
};

const controls: Record<string, string> = {
  "\r": "enter",
  "\n": "enter",
  "\t": "tab",
  "\x7f": "backspace",
  "\b": "backspace",
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x1a": "ctrl-z",
};

/** The key names in one chunk read from a raw-mode terminal. Unknown escapes are dropped. */
export function parseKeys(chunk: Uint8Array | string): string[] {
  const text = typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
  const keys: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === "\x1b") {
      const seq = Object.keys(sequences).find((s) => text.startsWith(s, i));
      if (seq) {
        keys.push(sequences[seq]);
        i += seq.length;
        continue;
      }
      // Any other CSI sequence: skip it whole. A lone ESC is the Escape key.
      // deno-lint-ignore no-control-regex
      const csi = /^\x1b[[O][0-9;]*[~A-Za-z]/.exec(text.slice(i));
      if (csi) {
        i += csi[0].length;
        continue;
      }
      keys.push("escape");
      i++;
      continue;
    }
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    keys.push(controls[ch] ?? ch);
    i += ch.length;
  }
  return keys;
}
