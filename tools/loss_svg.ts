/**
 * The loss curve of a training run as a small, self-contained SVG (no script, no external font or
 * style): the training loss of every step (faint) and its moving average, the validation loss at
 * each evaluation, and a dashed line where a run was resumed. Pure: returns the text.
 * @module
 */
import type { LossHistory } from "./checkpoint.ts";

/** Options of {@linkcode lossCurveSvg}. */
export interface CurveOptions {
  /** The title's text after "损失曲线 Loss curve". */
  title?: string;
  width?: number;
  height?: number;
  /** Steps in the moving average of the training loss (default: about 2% of the steps, ≥ 1). */
  window?: number;
}

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round tick values (1, 2 or 5 × 10ⁿ apart) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** The moving average of the last `window` values at every index. */
export function movingAverage(values: readonly number[], window: number): number[] {
  let sum = 0;
  return values.map((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window];
    return sum / Math.min(i + 1, window);
  });
}

/** At most `max` points: the mean of each run of consecutive points. */
function thin(points: [number, number][], max: number): [number, number][] {
  if (points.length <= max) return points;
  const per = Math.ceil(points.length / max);
  const out: [number, number][] = [];
  for (let i = 0; i < points.length; i += per) {
    const run = points.slice(i, i + per);
    out.push([
      run.reduce((s, p) => s + p[0], 0) / run.length,
      run.reduce((s, p) => s + p[1], 0) / run.length,
    ]);
  }
  return out;
}

const fmt = (x: number) => Number(x.toFixed(1)).toString();

/** The loss curve of `history` as an SVG document. */
export function lossCurveSvg(history: LossHistory, options: CurveOptions = {}): string {
  const { width = 720, height = 400, title = "" } = options;
  const train = history.train.filter(([, l]) => Number.isFinite(l));
  const val = history.val.filter(([, l]) => Number.isFinite(l));
  const window = options.window ?? Math.max(1, Math.round(train.length / 50));
  const smooth = movingAverage(train.map(([, l]) => l), window)
    .map((l, i) => [train[i][0], l] as [number, number]);
  const left = 56, right = 16, top = 40, bottom = 44;
  const plotW = width - left - right, plotH = height - top - bottom;
  const all = [...train, ...val];
  const maxStep = Math.max(1, ...all.map(([s]) => s), ...history.resumes);
  let lo = Math.min(...all.map(([, l]) => l)), hi = Math.max(...all.map(([, l]) => l));
  if (!all.length) [lo, hi] = [0, 1];
  if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  lo = Math.max(0, lo - pad);
  hi += pad;
  const x = (s: number) => left + (s / maxStep) * plotW;
  const y = (l: number) => top + (1 - (l - lo) / (hi - lo)) * plotH;
  const path = (pts: [number, number][]) =>
    pts.map(([s, l], i) => `${i ? "L" : "M"}${fmt(x(s))},${fmt(y(l))}`).join("");
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
      `viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">损失曲线 Loss curve${
      title ? ` · ${escapeXml(title)}` : ""
    }</text>`,
  );
  for (const t of niceTicks(lo, hi, 6)) {
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${fmt(y(t))}" y2="${
        fmt(y(t))
      }" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${fmt(y(t) + 4)}" text-anchor="end" fill="#555">${t}</text>`,
    );
  }
  for (const t of niceTicks(0, maxStep, 8)) {
    out.push(
      `<line x1="${fmt(x(t))}" x2="${fmt(x(t))}" y1="${top + plotH}" y2="${
        top + plotH + 4
      }" stroke="#555"/>`,
      `<text x="${fmt(x(t))}" y="${top + plotH + 18}" text-anchor="middle" fill="#555">${t}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#555"/>`,
    `<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle">步数 step</text>`,
    `<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">` +
      `损失 loss (nats)</text>`,
  );
  for (const s of history.resumes) {
    out.push(
      `<line x1="${fmt(x(s))}" x2="${fmt(x(s))}" y1="${top}" y2="${top + plotH}" ` +
        `stroke="#888" stroke-dasharray="4 3"><title>续训 resumed at step ${s}</title></line>`,
      `<text x="${fmt(x(s) + 3)}" y="${
        top + 12
      }" fill="#888" font-size="10">续训 resumed ${s}</text>`,
    );
  }
  if (train.length) {
    out.push(
      `<path d="${path(thin(train, 1500))}" fill="none" stroke="#9ecae1" stroke-width="1"/>`,
      `<path d="${path(thin(smooth, 1500))}" fill="none" stroke="#1f77b4" stroke-width="2"/>`,
    );
  }
  if (val.length) {
    out.push(`<path d="${path(val)}" fill="none" stroke="#d62728" stroke-width="2"/>`);
    for (const [s, l] of val.length <= 200 ? val : []) {
      out.push(
        `<circle cx="${fmt(x(s))}" cy="${fmt(y(l))}" r="2.5" fill="#d62728">` +
          `<title>step ${s}: ${l.toFixed(3)}</title></circle>`,
      );
    }
  }
  if (val.length > 1) {
    const [bs, bl] = val.reduce((best, p) => (p[1] < best[1] ? p : best));
    out.push(
      `<text x="${fmt(x(bs))}" y="${fmt(y(bl) + 16)}" text-anchor="middle" fill="#d62728" ` +
        `font-size="10">最低 lowest ${bl.toFixed(3)} @${bs}</text>`,
    );
  }
  const legend: [string, string][] = [
    ["#9ecae1", "训练 train (each step)"],
    ["#1f77b4", `训练 train (mean of ${window})`],
    ["#d62728", "验证 validation"],
  ];
  legend.forEach(([color, label], i) => {
    const lx = width - right - 200, ly = top + 16 + i * 16;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" ` +
        `stroke-width="2"/>`,
      `<text x="${lx + 24}" y="${ly}">${escapeXml(label)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
