/**
 * Data-parallel training on several threads, for `deno task train` and the benchmarks. TensorFlow.js
 * on wasm runs on one thread; a 2-core laptop trains almost twice as fast when each step's batch is
 * split between the main thread and a Worker (tools/train_worker.ts) with a replica of the model:
 *
 * 1. every thread computes the mean loss and gradient of its rows of the step's batch
 *    (`shardGradients`: the same getBatch, split by `shardRows`);
 * 2. the main thread adds them up, each weighted by its share of the rows: the gradient of the
 *    whole batch's mean loss, in one set of Float32Arrays;
 * 3. every thread applies that same gradient (`applyGradients`: kata 12's clipping and AdamW).
 *
 * Every replica starts from the main thread's weights and moments and applies bit-identical
 * updates (the same wasm code on the same inputs), so they stay equal without sending weights;
 * the main thread's model is the one that is evaluated and saved. With one thread nothing is
 * sent at all. Only the dropout masks depend on the number of threads (each shard has its own).
 *
 * Workers need read permission for the repository's modules; without it the run stays on one
 * thread and says why.
 * @module
 */
import { tf } from "../lib/tf.ts";
import type { ModelConfig, NamedArray, TrainingConfig } from "./checkpoint.ts";
import { applyGradients, learningRate, shardGradients, snapshot, type Trainee } from "./llm.ts";

/** What a step reports: the loss of the whole batch before the update, the norm, γ. */
export interface StepInfo {
  loss: number;
  gradNorm: number;
  lr: number;
}

/** Messages to a worker. */
export type ToWorker =
  | {
    kind: "init";
    config: ModelConfig;
    training: TrainingConfig;
    ids: Int32Array;
    optimizerStep: number;
    tensors: NamedArray[];
    shard: number;
    count: number;
    native: boolean;
  }
  | { kind: "step"; step: number }
  | { kind: "apply"; step: number; lr: number; loss: number; grads: Float32Array<ArrayBuffer>[] }
  | { kind: "snapshot" };

/**
 * Messages from a worker: "loaded" once its modules are (messages sent before would be lost
 * while its top-level await runs), then one reply to each init, step and snapshot, or an error.
 */
export type FromWorker =
  | { kind: "loaded" }
  | { kind: "ready"; native: boolean }
  | { kind: "grads"; loss: number; rows: number; grads: Float32Array<ArrayBuffer>[] }
  | { kind: "snapshot"; tensors: NamedArray[] }
  | { kind: "error"; message: string };

/**
 * `a` if it is the whole of its own ArrayBuffer (safe to transfer), else a copy: never transfer
 * a view of the wasm heap.
 */
export function ownBuffer(a: Float32Array): Float32Array<ArrayBuffer> {
  const whole = a.buffer instanceof ArrayBuffer && a.byteOffset === 0 &&
    a.buffer.byteLength === a.byteLength;
  return whole ? a as Float32Array<ArrayBuffer> : a.slice();
}

/** A worker and the replies it owes, in order. */
class Replica {
  readonly #worker: Worker;
  readonly #waiting: { resolve: (m: FromWorker) => void; reject: (e: Error) => void }[] = [];
  #failed: Error | undefined;
  /** Resolves when the worker can take messages. */
  readonly loaded: Promise<FromWorker>;

  constructor(url: URL) {
    this.loaded = new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
    this.#worker = new Worker(url.href, { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.kind === "error") this.#fail(new Error(`training thread: ${m.message}`));
      else this.#waiting.shift()?.resolve(m);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault(); // ours to report, not a crash of the whole process
      this.#fail(new Error(`training thread: ${e.message}`));
    };
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const w of this.#waiting.splice(0)) w.reject(error);
  }

  /** Sends a message that has no reply. */
  send(m: ToWorker, transfer: Transferable[] = []): void {
    if (this.#failed) throw this.#failed;
    this.#worker.postMessage(m, transfer);
  }

  /** Sends a message and resolves with the worker's reply to it, which must be of `kind`. */
  ask<K extends FromWorker["kind"]>(
    m: ToWorker,
    kind: K,
    transfer: Transferable[] = [],
  ): Promise<Extract<FromWorker, { kind: K }>> {
    if (this.#failed) return Promise.reject(this.#failed);
    const reply = new Promise<FromWorker>((resolve, reject) =>
      this.#waiting.push({ resolve, reject })
    );
    this.#worker.postMessage(m, transfer);
    return reply.then((r) => {
      if (r.kind !== kind) throw new Error(`training thread: expected ${kind}, got ${r.kind}`);
      return r as Extract<FromWorker, { kind: K }>;
    });
  }

  close(): void {
    this.#worker.terminate();
    this.#fail(new Error("training thread: closed"));
  }
}

/** The main thread's trainee and the workers that share its steps. */
export class DataParallel {
  readonly #t: Trainee;
  readonly #ids: Int32Array;
  readonly #c: TrainingConfig;
  readonly #replicas: Replica[];

  private constructor(t: Trainee, ids: Int32Array, c: TrainingConfig, replicas: Replica[]) {
    this.#t = t;
    this.#ids = ids;
    this.#c = c;
    this.#replicas = replicas;
  }

  /** How many threads share each step (1: the main thread alone). */
  get threads(): number {
    return this.#replicas.length + 1;
  }

  /**
   * Starts `threads − 1` workers (at most one per row of the batch), each with a replica of `t`
   * (its weights, moments and step count) and the training ids. `native`: the workers put their
   * matrix products on the native BLAS too. If a worker cannot start (no read permission for the
   * modules, say), every worker is stopped and the result runs on the main thread alone, with
   * `notice` saying why.
   */
  static async start(
    t: Trainee,
    ids: Int32Array,
    c: TrainingConfig,
    { threads, native = false, config }: {
      threads: number;
      native?: boolean;
      config: ModelConfig;
    },
  ): Promise<{ trainer: DataParallel; notice?: string }> {
    const count = Math.max(1, Math.min(threads, c.batch));
    const replicas: Replica[] = [];
    const root = new URL("..", import.meta.url);
    if (count > 1 && Deno.permissions.querySync({ name: "read", path: root }).state !== "granted") {
      return {
        trainer: new DataParallel(t, ids, c, []),
        notice: `training on 1 thread: the other ${count - 1} need --allow-read for the ` +
          `repository's modules`,
      };
    }
    try {
      const tensors = snapshot(t);
      for (let shard = 1; shard < count; shard++) replicas.push(new Replica(workerUrl));
      await Promise.all(replicas.map(async (r, i) => {
        await r.loaded;
        const ready = await r.ask({
          kind: "init",
          config,
          training: c,
          ids,
          optimizerStep: t.optimizer.t,
          tensors,
          shard: i + 1,
          count,
          native,
        }, "ready");
        // Replicas stay equal only if they compute as the main thread does, bit for bit.
        if (ready.native !== native) {
          throw new Error(
            `its matrix products would not run on the ${native ? "native BLAS" : "wasm"}`,
          );
        }
      }));
      return { trainer: new DataParallel(t, ids, c, replicas) };
    } catch (error) {
      for (const r of replicas) r.close();
      const why = error instanceof Error ? error.message : String(error);
      return {
        trainer: new DataParallel(t, ids, c, []),
        notice: `training on 1 thread: the other ${count - 1} could not start (${why})`,
      };
    }
  }

  /**
   * Step `step` of the run: every thread's rows, one gradient, the same update everywhere, with
   * the learning rate of the run's schedule (or `lr`).
   */
  async step(step: number, lr = learningRate(step, this.#c)): Promise<StepInfo> {
    const t = this.#t, c = this.#c, count = this.threads;
    const replies = this.#replicas.map((r) => r.ask({ kind: "step", step }, "grads"));
    // Awaited below; should this thread throw first, a closed worker's rejection is not unhandled.
    for (const reply of replies) reply.catch(() => {});
    const own = shardGradients(t, this.#ids, step, c, { index: 0, count });
    if (count === 1) {
      try {
        return { loss: own.loss, ...applyGradients(t, own.grads, own.loss, step, c, lr) };
      } finally {
        tf.dispose(own.grads);
      }
    }
    const ownArrays = own.grads.map((g) => g.dataSync() as Float32Array);
    tf.dispose(own.grads);
    let others: Awaited<(typeof replies)[number]>[];
    try {
      others = await Promise.all(replies);
    } catch (error) {
      this.close();
      throw error;
    }
    // The whole batch's mean loss is the row-weighted mean of the shards' means; so its gradient.
    const shards = [{ ...own, grads: ownArrays }, ...others];
    const loss = shards.reduce((sum, s) => sum + (s.loss * s.rows) / c.batch, 0);
    const grads = ownArrays.map((first, v) => {
      const out = new Float32Array(first.length);
      for (const s of shards) {
        const g = s.grads[v], w = s.rows / c.batch;
        for (let j = 0; j < out.length; j++) out[j] += w * g[j];
      }
      return out;
    });
    const tensors = grads.map((g, v) => tf.tensor(g, t.vars[v].shape));
    // A non-finite loss ends the run without an update (applyGradients throws below): the
    // replicas are not asked to apply it either.
    if (Number.isFinite(loss)) {
      this.#replicas.forEach((r, i) => {
        const last = i === this.#replicas.length - 1;
        const mine = last ? grads : grads.map((g) => g.slice());
        r.send({ kind: "apply", step, lr, loss, grads: mine }, mine.map((g) => g.buffer));
      });
    }
    try {
      return { loss, ...applyGradients(t, tensors, loss, step, c, lr) };
    } finally {
      tf.dispose(tensors);
    }
  }

  /** Each worker's weights and moments (checkpoint names), for tests: they equal the main's. */
  snapshots(): Promise<NamedArray[][]> {
    return Promise.all(
      this.#replicas.map((r) => r.ask({ kind: "snapshot" }, "snapshot").then((m) => m.tensors)),
    );
  }

  /** Stops the workers. The main thread's trainee is left alone. */
  close(): void {
    for (const r of this.#replicas.splice(0)) r.close();
  }
}

const workerUrl = new URL("./train_worker.ts", import.meta.url);
