/**
 * The benchmark suite (`deno task bench`): training tokens/s of our default path (wasm, no
 * permission) and our native path (`--allow-ffi`, OpenBLAS/Accelerate), on one thread and on
 * every core, and of the PyTorch peer (bench/peer_torch.py, when python3 has torch), each as the
 * median of several runs with their spread, in wall time and in CPU time, with the load average;
 * generation tokens/s with and without kata 14's KV cache (bench/generate_speed.ts);
 * with `--quality`, the validation loss each reaches in 180 s and 600 s of training on a text
 * (bench/time_to_loss.ts; about 45 minutes); then the time of each kata's tests against its
 * reference solution (warm runs). Prints a Markdown report for BENCHMARKS.md.
 *
 * ```sh
 * deno task bench                 # speed and kata tests, 3 runs each
 * deno task bench --runs=5 --no-katas   # or --katas-only
 * deno task bench --quality --no-katas  # + time to quality (--data=FILE, default
 *                                       #   ../shared/data/tinyshakespeare.txt)
 * ```
 * Each measurement runs in its own process, one at a time.
 * @module
 */
const arg = (name: string, fallback: number) => {
  const a = Deno.args.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const runs = arg("runs", 3), steps = arg("steps", 20);
const root = new URL("..", import.meta.url).pathname;

interface Result {
  tokens_per_s: number;
  tokens_per_cpu_s: number;
  step_ms_median: number;
  cpu_ms_per_step: number;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: root,
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (xs: number[]) =>
  `${Math.round(median(xs)).toLocaleString("en")} (${Math.round(Math.min(...xs))}–${
    Math.round(Math.max(...xs))
  })`;
const load = () => Deno.loadavg().map((x) => x.toFixed(1)).join(" ");

async function series(
  name: string,
  cmd: string,
  args: string[],
  env = {},
): Promise<Result[] | null> {
  const results: Result[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await run(cmd, args, env);
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.code !== 0 || !line.startsWith("{")) {
      console.error(
        `${name}: not measured (${(r.stderr.trim().split("\n").pop() ?? "").slice(0, 200)})`,
      );
      return null;
    }
    results.push(JSON.parse(line));
  }
  return results;
}

const python = ["/usr/bin/python3", "python3"];
async function torchPython(): Promise<string | null> {
  for (const p of python) {
    try {
      if ((await run(p, ["-c", "import torch"])).code === 0) return p;
    } catch { /* not installed */ }
  }
  return null;
}

console.log(`# Benchmark run ${new Date().toISOString()}`);
console.log(
  `\n${Deno.build.target}, ${navigator.hardwareConcurrency} CPUs, Deno ${Deno.version.deno}; load average at start ${load()}\n`,
);
const rows: [string, Result[] | null][] = [];
const katasOnly = Deno.args.includes("--katas-only");
const threads = navigator.hardwareConcurrency;
const speed = ["run", "--allow-read=.", "bench/train_speed.ts", `--steps=${steps}`];
const native = [
  "run",
  "--allow-read=.",
  "--allow-ffi",
  "--allow-env",
  ...speed.slice(2),
  "--native",
];
const passive = { OMP_WAIT_POLICY: "PASSIVE" };
if (!katasOnly) await training();
if (!katasOnly) await generation();
if (Deno.args.includes("--quality")) await quality();

async function training(): Promise<void> {
  const deno = Deno.execPath();
  rows.push([
    "ours, wasm (no permission), 1 thread",
    await series("wasm1", deno, [...speed, "--threads=1"]),
  ]);
  rows.push([`ours, wasm (no permission), ${threads} threads`, await series("wasm", deno, speed)]);
  rows.push([
    "ours, native BLAS (--allow-ffi), 1 thread",
    await series("native1", deno, [...native, "--threads=1"]),
  ]);
  rows.push([
    `ours, native BLAS (--allow-ffi), ${threads} threads`,
    await series("native", deno, native),
  ]);
  const py = await torchPython();
  if (py) {
    const peer = ["bench/peer_torch.py", `--steps=${steps}`];
    rows.push([
      "PyTorch 1.13, torch threads 1",
      await series("torch1", py, [...peer, "--threads", "1"], passive),
    ]);
    rows.push([
      "PyTorch 1.13, torch threads 2, OMP_WAIT_POLICY=PASSIVE",
      await series("torch2", py, [...peer, "--threads", "2"], passive),
    ]);
  } else {
    console.log(
      "PyTorch peer: not measured (no python3 with torch; apt-get install python3-torch)\n",
    );
  }
  const torch = rows.filter(([n, r]) => n.startsWith("PyTorch") && r)
    .map(([, r]) => median(r!.map((x) => x.tokens_per_s)));
  const best = torch.length ? Math.max(...torch) : NaN;
  console.log(
    `## Training, V65 T64 C128 L4 H4 B12 (768 tokens a step), ${runs} runs of ${steps} steps\n`,
  );
  console.log(
    "| setup | tokens/s, wall: median (min–max) | vs PyTorch's best (wall) | tokens per CPU-second | ms CPU/step |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const [name, r] of rows) {
    if (!r) {
      console.log(`| ${name} | not measured | | | |`);
      continue;
    }
    const wall = median(r.map((x) => x.tokens_per_s));
    console.log(
      `| ${name} | ${fmt(r.map((x) => x.tokens_per_s))} | ${
        Number.isNaN(best) ? "–" : (wall / best).toFixed(2)
      } | ${fmt(r.map((x) => x.tokens_per_cpu_s))} | ${
        median(r.map((x) => x.cpu_ms_per_step)).toFixed(0)
      } |`,
    );
  }
  console.log(`\nLoad average after training runs: ${load()}\n`);
}

/** Generation tokens/s with and without kata 14's KV cache (bench/generate_speed.ts). */
async function generation(): Promise<void> {
  const r = await run(Deno.execPath(), ["run", "bench/generate_speed.ts", `--runs=${runs}`]);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  console.log(`## Generation, V65 T64 C128 L4 H4, greedy from one token, ${runs} runs\n`);
  if (r.code !== 0 || !line.startsWith("{")) {
    console.log(`not measured: ${(r.stderr.trim().split("\n").pop() ?? "").slice(0, 200)}\n`);
    return;
  }
  const { lengths } = JSON.parse(line) as {
    lengths: Record<string, { cached: number[]; uncached: number[] }>;
  };
  console.log("| new tokens | KV cache: tokens/s, median (min–max) | uncached (kata 13) |");
  console.log("| --- | ---: | ---: |");
  for (const [n, { cached, uncached }] of Object.entries(lengths)) {
    const past = Number(n) - 64; // new tokens made once the text is longer than the block
    const what = past > 0 ? `${n} (${past} past the block)` : `${n} (the text fits the block)`;
    console.log(`| ${what} | ${fmt(cached)} | ${fmt(uncached)} |`);
  }
  console.log("");
}

/** Validation loss in 180 s and 600 s of training on a text (one run each, in this order). */
async function quality(): Promise<void> {
  const data = Deno.args.find((s) => s.startsWith("--data="))?.slice(7) ??
    "../shared/data/tinyshakespeare.txt";
  const budgets = "180,600";
  const deno = Deno.execPath();
  const setups: [string, string, string[], Record<string, string>][] = [
    ["ours, native BLAS, every core", deno, [
      "run",
      "--allow-read",
      "--allow-ffi",
      "--allow-env",
      "--allow-sys=loadavg",
      "bench/time_to_loss.ts",
      `--data=${data}`,
      `--budget=${budgets}`,
      "--native",
    ], {}],
    ["ours, wasm (no permission), every core", deno, [
      "run",
      "--allow-read",
      "--allow-sys=loadavg",
      "bench/time_to_loss.ts",
      `--data=${data}`,
      `--budget=${budgets}`,
    ], {}],
  ];
  const py = await torchPython();
  if (py) {
    setups.push(["PyTorch 1.13 (torch threads 1)", py, [
      "bench/peer_torch.py",
      "--threads",
      "1",
      "--data",
      data,
      "--budget",
      "180",
      "600",
    ], passive]);
  }
  console.log(
    `## Time to quality: ${data}, the trainer's defaults, a schedule fitted to each budget\n`,
  );
  console.log(
    "| setup | 180 s: steps | 180 s: val loss | 600 s: steps | 600 s: val loss | tokens/s (600 s run) |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  let start = NaN;
  for (const [name, cmd, args, env] of setups) {
    const r = await run(cmd, args, env);
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.code !== 0 || !line.startsWith("{")) {
      console.log(
        `| ${name} | not measured: ${
          (r.stderr.trim().split("\n").pop() ?? "").slice(0, 120)
        } | | | | |`,
      );
      continue;
    }
    const out = JSON.parse(line);
    start = out.val_loss_start;
    const b = (s: string) =>
      out.budgets[s] as { steps: number; val_loss: number; tokens_per_s: number };
    console.log(
      `| ${name} | ${b("180").steps} | ${b("180").val_loss.toFixed(3)} | ${b("600").steps} | ` +
        `${b("600").val_loss.toFixed(3)} | ${
          Math.round(b("600").tokens_per_s).toLocaleString("en")
        } |`,
    );
  }
  console.log(`\nValidation loss before training: ${start.toFixed(3)}. Load average: ${load()}\n`);
}

if (!Deno.args.includes("--no-katas")) {
  console.log(
    `## Kata tests against the reference solutions (deno task solution NN; 1 warm-up + ${runs} runs)\n`,
  );
  console.log("| kata | wall s: median (min–max) |");
  console.log("| --- | ---: |");
  const katas = [...Deno.readDirSync(`${root}katas`)]
    .filter((e) => e.isDirectory && /^\d\d_/.test(e.name)).map((e) => e.name).sort();
  for (const kata of katas) {
    const id = kata.slice(0, 2);
    try {
      Deno.statSync(`${root}solutions/${kata}/mod.ts`);
    } catch {
      continue;
    }
    const times: number[] = [];
    let failed = false;
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const r = await run(Deno.execPath(), ["task", "solution", id]);
      if (r.code !== 0) failed = true;
      if (i > 0) times.push((performance.now() - t0) / 1000);
    }
    const m = median(times);
    console.log(
      `| ${kata} | ${m.toFixed(2)} (${Math.min(...times).toFixed(2)}–${
        Math.max(...times).toFixed(2)
      })${failed ? " FAILED" : ""} |`,
    );
  }
  console.log(`\nLoad average at the end: ${load()}`);
}
