/**
 * Assembles lib/gemm.wat (the matrix product of lib/wasm_gemm.ts) into lib/gemm.wasm with wabt.
 * The binary is committed, so that nobody needs wabt to train; a test checks that it is this
 * file's assembly.
 *
 * ```sh
 * deno task build:gemm
 * ```
 * @module
 */
import wabtInit from "wabt";

/** The bytes of `wat`, a module that uses SIMD and relaxed SIMD. */
export async function assemble(wat: string, name = "gemm.wat"): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat(name, wat, { simd: true, relaxed_simd: true });
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

if (import.meta.main) {
  const source = new URL("./gemm.wat", import.meta.url);
  const target = new URL("./gemm.wasm", import.meta.url);
  const bytes = await assemble(await Deno.readTextFile(source));
  await Deno.writeFile(target, bytes);
  console.log(`lib/gemm.wasm: ${bytes.length} bytes`);
}
