/**
 * The kata catalog: the one source of truth for the 14 steps. The test runner, the CLI and the site
 * all read it; nothing else lists katas.
 *
 * @example
 * ```ts
 * import { findKata, kataDir, paths } from "./catalog.ts";
 * const k = findKata("02");
 * console.log(kataDir(k)); // "katas/02_linear_regression"
 * console.log(paths.minimal.katas); // [1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13]
 * ```
 * @module
 */

/** Text in both languages of the project. Chinese comes first: most learners read it first. */
export interface Bilingual {
  zh: string;
  en: string;
}

/** One step of the path. */
export interface Kata {
  /** 1..14, the step number of the seed document. */
  id: number;
  /** Folder name after the number: `katas/${pad(id)}_${slug}`. */
  slug: string;
  title: Bilingual;
  /** Katas that must be understood first (direct edges of the dependency graph). */
  prerequisites: number[];
  /** Stage of the seed's dependency diagram. */
  stage: keyof typeof stages;
  /** Suggested minutes in a timed workshop. */
  minutes: number;
}

/** The five stages of the seed's diagram, in order. */
export const stages = {
  basics: { zh: "基础模型能力", en: "Basic modelling" },
  networks: { zh: "神经网络扩展能力", en: "Neural networks" },
  sequences: { zh: "序列建模能力", en: "Sequence modelling" },
  transformer: { zh: "Transformer 架构能力", en: "The transformer" },
  llm: { zh: "LLM 整合", en: "Putting the LLM together" },
} as const satisfies Record<string, Bilingual>;

/** All 14 katas, built or not, in step order. */
export const katas: readonly Kata[] = [
  {
    id: 1,
    slug: "setup_tensors",
    title: { zh: "环境配置与张量", en: "Setup and tensors" },
    prerequisites: [],
    stage: "basics",
    minutes: 25,
  },
  {
    id: 2,
    slug: "linear_regression",
    title: { zh: "线性回归", en: "Linear regression" },
    prerequisites: [1],
    stage: "basics",
    minutes: 35,
  },
  {
    id: 3,
    slug: "logistic_regression",
    title: { zh: "逻辑回归（二分类）", en: "Logistic regression" },
    prerequisites: [2],
    stage: "networks",
    minutes: 35,
  },
  {
    id: 4,
    slug: "mlp_mnist",
    title: { zh: "多层感知机（MNIST 分类）", en: "MLP on MNIST" },
    prerequisites: [3],
    stage: "networks",
    minutes: 45,
  },
  {
    id: 5,
    slug: "cnn",
    title: { zh: "卷积神经网络", en: "Convolutional network" },
    prerequisites: [4],
    stage: "networks",
    minutes: 40,
  },
  {
    id: 6,
    slug: "rnn_text",
    title: { zh: "循环神经网络生成文本", en: "RNN text generation" },
    prerequisites: [4],
    stage: "sequences",
    minutes: 45,
  },
  {
    id: 7,
    slug: "embeddings",
    title: { zh: "词嵌入", en: "Embeddings" },
    prerequisites: [4],
    stage: "sequences",
    minutes: 25,
  },
  {
    id: 8,
    slug: "self_attention",
    title: { zh: "自注意力机制", en: "Self-attention" },
    prerequisites: [7],
    stage: "transformer",
    minutes: 50,
  },
  {
    id: 9,
    slug: "transformer_block",
    title: { zh: "Transformer 块", en: "Transformer block" },
    prerequisites: [8],
    stage: "transformer",
    minutes: 40,
  },
  {
    id: 10,
    slug: "mini_llm",
    title: { zh: "构建微型 LLM", en: "A mini LLM" },
    prerequisites: [7, 9],
    stage: "llm",
    minutes: 40,
  },
  {
    id: 11,
    slug: "training_data",
    title: { zh: "训练数据准备", en: "Training data" },
    prerequisites: [10],
    stage: "llm",
    minutes: 30,
  },
  {
    id: 12,
    slug: "training_loop",
    title: { zh: "训练循环", en: "The training loop" },
    prerequisites: [10, 11],
    stage: "llm",
    minutes: 40,
  },
  {
    id: 13,
    slug: "text_generation",
    title: { zh: "文本生成", en: "Text generation" },
    prerequisites: [12],
    stage: "llm",
    minutes: 35,
  },
  {
    id: 14,
    slug: "improvements",
    title: { zh: "效果优化", en: "Improvements" },
    prerequisites: [13],
    stage: "llm",
    minutes: 45,
  },
];

/** A learning path of the seed: an ordered list of kata ids. */
export interface LearningPath {
  title: Bilingual;
  description: Bilingual;
  katas: number[];
}

/** The seed's learning paths. `minimal` is the default path of `deno task learn`. */
export const paths = {
  minimal: {
    title: { zh: "必选路径（最小可行路径）", en: "Minimal path" },
    description: {
      zh: "从张量到会写字的微型 LLM 的最短路线。",
      en: "The shortest road from tensors to a mini LLM that writes.",
    },
    katas: [1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13],
  },
  image: {
    title: { zh: "图像路线", en: "Image route" },
    description: {
      zh: "理解卷积：从 MLP 到 CNN。",
      en: "Understand convolution: from MLP to CNN.",
    },
    katas: [4, 5],
  },
  sequence: {
    title: { zh: "传统序列路线", en: "Sequence route" },
    description: {
      zh: "对比 RNN 与 Transformer 处理序列的方式。",
      en: "Compare how an RNN and a transformer handle sequences.",
    },
    katas: [6, 7],
  },
  final: {
    title: { zh: "最终整合", en: "Final step" },
    description: { zh: "加深模型并加入正则化。", en: "Add depth and regularisation." },
    katas: [14],
  },
} as const satisfies Record<string, LearningPath>;

export type PathName = keyof typeof paths;

/** Two-digit kata number: `pad(2)` is `"02"`. */
export function pad(id: number): string {
  return String(id).padStart(2, "0");
}

/** The kata's folder name, e.g. `02_linear_regression`. */
export function kataName(kata: Kata): string {
  return `${pad(kata.id)}_${kata.slug}`;
}

/** The kata's folder relative to the repository root, e.g. `katas/02_linear_regression`. */
export function kataDir(kata: Kata): string {
  return `katas/${kataName(kata)}`;
}

/** The reference solution's folder, e.g. `solutions/02_linear_regression`. */
export function solutionDir(kata: Kata): string {
  return `solutions/${kataName(kata)}`;
}

/** The kata with this id; throws if there is none. */
export function kataById(id: number): Kata {
  const kata = katas.find((k) => k.id === id);
  if (!kata) {
    throw new RangeError(`There is no kata ${id}: katas are numbered 1 to ${katas.length}.`);
  }
  return kata;
}

/**
 * Finds a kata from what a person types: `2`, `02`, `02_linear_regression` or `linear_regression`.
 * Throws an error that lists the katas when nothing matches.
 */
export function findKata(arg: string): Kata {
  const s = arg.trim().replace(/^katas\//, "").replace(/\/$/, "");
  const kata = /^\d+$/.test(s)
    ? katas.find((k) => k.id === Number(s))
    : katas.find((k) => s === kataName(k) || s === k.slug);
  if (kata) return kata;
  const list = katas.map((k) => `  ${pad(k.id)} ${k.slug}`).join("\n");
  throw new RangeError(`Unknown kata "${arg}". Use a number or a name:\n${list}`);
}
