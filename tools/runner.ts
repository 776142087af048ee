/**
 * Runs `deno test` in a child process and reads its outcome: each test's name, result and failure
 * message (from the JUnit report), plus what the JUnit report leaves out (errors thrown while a test
 * module loads, type errors).
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root = fileURLToPath(new URL("..", import.meta.url));

/** One test case of a run. */
export interface TestCase {
  name: string;
  file: string;
  ok: boolean;
  /** The failure message, when the test failed. */
  message?: string;
  /** True for a test that was ignored (`ignore: true`): it neither passed nor failed. */
  skipped?: true;
}

/** What one `deno test` run did. */
export interface TestRun {
  /** The process exit code. */
  code: number;
  cases: TestCase[];
  /** Errors outside any test case: a module that throws while loading, a type error. */
  outsideErrors: boolean;
  /** The console output (stdout and stderr), without colour. */
  output: string;
  seconds: number;
}

function unescapeXml(s: string): string {
  return s.replace(
    /&(lt|gt|quot|apos|amp|#(\d+));/g,
    (_, name: string, code?: string) =>
      code
        ? String.fromCodePoint(Number(code))
        : { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" }[name]!,
  );
}

/** Reads the test cases of a JUnit report written by `deno test --junit-path`. */
export function parseJunit(xml: string): TestCase[] {
  const cases: TestCase[] = [];
  const re = /<testcase name="([^"]*)" classname="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g;
  for (const m of xml.matchAll(re)) {
    const failure = /<failure message="([^"]*)"/.exec(m[3]);
    cases.push({
      name: unescapeXml(m[1]),
      file: unescapeXml(m[2]),
      ok: !failure,
      ...(failure ? { message: unescapeXml(failure[1]) } : {}),
      ...(/<skipped\s*\/>/.test(m[3]) ? { skipped: true as const } : {}),
    });
  }
  return cases;
}

/**
 * Parses the pretty reporter's summary, `ok | 3 passed (1 step) | 0 failed`, into the number of
 * results it counts: tests and steps, passed and failed (an error while loading a module counts as
 * a failed test there, but has no JUnit test case).
 */
export function parseSummary(output: string): number | undefined {
  const m =
    /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/m
      .exec(output);
  return m ? m.slice(1).reduce((sum, n) => sum + Number(n ?? 0), 0) : undefined;
}

/**
 * The Deno to run children with: this one, when the permissions allow running it by its path;
 * otherwise `deno` from PATH (the tasks allow `--allow-run=deno,git`, and a task's PATH puts the
 * Deno that runs it first, also under `npx deno`).
 */
export function denoBin(): string {
  const exe = Deno.execPath();
  return Deno.permissions.querySync({ name: "run", command: exe }).state === "granted"
    ? exe
    : "deno";
}

/** Where runs keep their temporary files: `.dojo/tmp`, inside what the tasks may write. */
export const tmpDir = join(root, ".dojo", "tmp");

/** A temporary file in {@linkcode tmpDir}. */
export async function makeTempFile(prefix: string, suffix: string): Promise<string> {
  await Deno.mkdir(tmpDir, { recursive: true });
  return await Deno.makeTempFile({ dir: tmpDir, prefix, suffix });
}

/** Options of a child run. */
export interface RunOptions {
  /** Kills the child when aborted (a newer save makes this run useless). */
  signal?: AbortSignal;
}

/** Runs the Deno binary from the repository root, without colour; returns its code and output. */
async function runDeno(
  args: string[],
  options: RunOptions,
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command(denoBin(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: options.signal,
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

/**
 * Runs `deno test` with `args` (paths and flags) from the repository root, without permissions.
 * `scriptArgs` go after `--` (e.g. `--backend=cpu`).
 */
export async function denoTest(
  args: string[],
  scriptArgs: string[] = [],
  options: RunOptions = {},
): Promise<TestRun> {
  const junit = await makeTempFile("dojo-junit-", ".xml");
  const started = performance.now();
  try {
    const { code, output } = await runDeno(
      ["test", `--junit-path=${junit}`, ...args, "--", ...scriptArgs],
      options,
    );
    const cases = parseJunit(await Deno.readTextFile(junit).catch(() => ""));
    const outsideErrors = /\(uncaught error\)/.test(output) ||
      parseSummary(output) !== cases.filter((c) => !c.skipped).length;
    return { code, cases, outsideErrors, output, seconds: (performance.now() - started) / 1000 };
  } finally {
    await Deno.remove(junit).catch(() => {});
  }
}

/** What `deno check` said. */
export interface CheckOutput {
  code: number;
  output: string;
  seconds: number;
}

/** Type-checks `files` (`deno check`), as `deno test` would before running them. */
export async function denoCheck(
  files: string[],
  args: string[] = [],
  options: RunOptions = {},
): Promise<CheckOutput> {
  const started = performance.now();
  const { code, output } = await runDeno(["check", "--quiet", ...args, ...files], options);
  return { code, output, seconds: (performance.now() - started) / 1000 };
}
