"""The PyTorch peer of the training benchmark: the same character-level GPT as katas 08-12, the same
optimizer and the same configuration, on the same CPU, so that BENCHMARKS.md states a ratio.

Model (kata 10): token + position embeddings, pre-LayerNorm blocks (fused QKV projection with bias,
causal softmax attention, W_O; FFN C -> 4C -> C with tanh-GELU), final LayerNorm, head with bias;
GPT-2 initialisation (std 0.02, output projections 0.02/sqrt(2 L)). Optimizer (kata 12): AdamW,
betas (0.9, 0.999), eps 1e-8, weight decay 0.1 on the weight matrices only, global-norm clip 1.0.

    python3 bench/peer_torch.py                      # tokens/s on random tokens, JSON on stdout
    python3 bench/peer_torch.py --threads 2
    python3 bench/peer_torch.py --data ../shared/data/tinyshakespeare.txt --seconds 180 600

Set OMP_WAIT_POLICY=PASSIVE (or use one thread): two busy-waiting OpenMP threads halve torch's speed
on a 2-core machine shared with other work. Debian: apt-get install python3-torch libopenblas0-pthread.
"""
import argparse
import json
import math
import os
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(c)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)
        self.ln2 = nn.LayerNorm(c)
        self.fc = nn.Linear(c, 4 * c)
        self.fc_proj = nn.Linear(4 * c, c)

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, self.h, c // self.h).transpose(1, 2)
        k = k.view(b, t, self.h, c // self.h).transpose(1, 2)
        v = v.view(b, t, self.h, c // self.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = F.softmax(att + mask[:t, :t], dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.proj(y)
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab, block, c, h, layers):
        super().__init__()
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Embedding(block, c)
        self.blocks = nn.ModuleList([Block(c, h) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(c)
        self.head = nn.Linear(c, vocab)
        m = torch.full((block, block), float("-inf")).triu(1)
        self.register_buffer("mask", m)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight",)) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx):
        t = idx.size(1)
        x = self.wte(idx) + self.wpe.weight[:t]
        for blk in self.blocks:
            x = blk(x, self.mask)
        return self.head(self.ln_f(x))


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30, help="timed steps for tokens/s")
    ap.add_argument("--data", help="a text file: train on it and report validation losses")
    ap.add_argument("--seconds", type=float, nargs="*", default=[180, 600])
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    V, T, C, L, H, B = 65, 64, 128, 4, 4, 12
    text = None
    if args.data:
        with open(args.data, encoding="utf-8") as f:
            text = f.read()
        chars = sorted(set(text))
        V = len(chars)
        stoi = {ch: i for i, ch in enumerate(chars)}
        ids = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
        n = int(0.9 * len(ids))
        train, val = ids[:n], ids[n:]
    else:
        train = torch.randint(0, V, (100_000,))
        val = None
    model = GPT(V, T, C, H, L)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and "wte" not in n and "wpe" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and "wte" not in n and "wpe" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
    )

    def batch():
        ix = torch.randint(len(train) - T - 1, (B,))
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        return x, y

    def step():
        x, y = batch()
        loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    @torch.no_grad()
    def val_loss():
        model.eval()
        w = (len(val) - 1) // T
        xs = val[: w * T].view(w, T)
        ys = val[1: w * T + 1].view(w, T)
        total = 0.0
        for s in range(0, w, 32):
            lg = model(xs[s:s + 32])
            total += F.cross_entropy(lg.reshape(-1, V), ys[s:s + 32].reshape(-1), reduction="sum").item()
        model.train()
        return total / (w * T)

    out = {
        "peer": "pytorch", "torch": torch.__version__, "threads": args.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "params": sum(p.numel() for p in model.parameters()),
    }
    if text is None:
        for _ in range(5):
            step()
        walls = []
        c0 = cpu_seconds()
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            walls.append(time.perf_counter() - t0)
        cpu = (cpu_seconds() - c0) / args.steps
        walls.sort()
        med = walls[len(walls) // 2]
        out.update({
            "step_ms_median": med * 1000, "tokens_per_s": B * T / med,
            "cpu_ms_per_step": cpu * 1000, "tokens_per_cpu_s": B * T / cpu,
            "loadavg": os.getloadavg(),
        })
    else:
        out["val_loss_start"] = val_loss()
        marks, results, steps = sorted(args.seconds), {}, 0
        t0, c0, trained = time.perf_counter(), cpu_seconds(), 0.0
        for mark in marks:
            while trained < mark:  # training time only: evaluation is not counted
                s0 = time.perf_counter()
                step()
                steps += 1
                trained += time.perf_counter() - s0
            results[str(int(mark))] = {"steps": steps, "val_loss": val_loss(),
                                       "cpu_s": cpu_seconds() - c0}
        out.update({"vocab": V, "val_loss_at_seconds": results, "loadavg": os.getloadavg()})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
