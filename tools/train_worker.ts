/**
 * A training thread of tools/parallel.ts: a replica of the main thread's model that computes the
 * gradient of its rows of each step's batch and applies the update the main thread sends back.
 * @module
 */
/// <reference lib="deno.worker" />
import { tf } from "../lib/tf.ts";
import { enableNativeMatMul } from "../lib/native_blas.ts";
import type { TrainingConfig } from "./checkpoint.ts";
import { applyGradients, loadTrainee, shardGradients, snapshot, type Trainee } from "./llm.ts";
import { type FromWorker, ownBuffer, type ToWorker } from "./parallel.ts";

let replica:
  | { t: Trainee; ids: Int32Array; c: TrainingConfig; shard: number; count: number }
  | undefined;

function reply(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

function handle(m: ToWorker): void {
  if (m.kind === "init") {
    const native = m.native && enableNativeMatMul({ quiet: true }).native;
    const tensors = new Map(m.tensors.map((a) => [a.name, a]));
    const t = loadTrainee(m.config, m.training, m.optimizerStep, tensors, "replica");
    replica = { t, ids: m.ids, c: m.training, shard: m.shard, count: m.count };
    return reply({ kind: "ready", native });
  }
  if (!replica) throw new Error(`${m.kind} before init`);
  const { t, ids, c, shard, count } = replica;
  if (m.kind === "step") {
    const { loss, rows, grads } = shardGradients(t, ids, m.step, c, { index: shard, count });
    const arrays = grads.map((g) => ownBuffer(g.dataSync() as Float32Array));
    tf.dispose(grads);
    return reply({ kind: "grads", loss, rows, grads: arrays }, arrays.map((a) => a.buffer));
  }
  if (m.kind === "apply") {
    const grads = m.grads.map((g, v) => tf.tensor(g, t.vars[v].shape));
    try {
      applyGradients(t, grads, m.loss, m.step, c, m.lr);
    } finally {
      tf.dispose(grads);
    }
    return;
  }
  if (m.kind === "snapshot") return reply({ kind: "snapshot", tensors: snapshot(t) });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  try {
    handle(e.data);
  } catch (error) {
    reply({ kind: "error", message: error instanceof Error ? error.message : String(error) });
  }
};
reply({ kind: "loaded" });
