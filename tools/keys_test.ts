import { deepStrictEqual } from "node:assert/strict";
import { parseKeys } from "./keys.ts";

Deno.test("parseKeys reads letters, controls and arrows", () => {
  deepStrictEqual(parseKeys("h"), ["h"]);
  deepStrictEqual(parseKeys("hq"), ["h", "q"]);
  deepStrictEqual(parseKeys("\r"), ["enter"]);
  deepStrictEqual(parseKeys("\x03"), ["ctrl-c"]);
  deepStrictEqual(parseKeys("\x1b[A\x1b[B"), ["up", "down"]);
  deepStrictEqual(parseKeys("\x1bOA"), ["up"]);
  deepStrictEqual(parseKeys("\x1b"), ["escape"]);
  deepStrictEqual(parseKeys("\x1b[1;5C"), []); // ctrl-right: ignored, not "escape" + junk
  deepStrictEqual(parseKeys("0\x7f8"), ["0", "backspace", "8"]);
});

Deno.test("parseKeys decodes UTF-8 bytes (a Chinese input method sends characters)", () => {
  deepStrictEqual(parseKeys(new TextEncoder().encode("是y")), ["是", "y"]);
  deepStrictEqual(parseKeys(new Uint8Array([0x1b, 0x5b, 0x42])), ["down"]);
});
