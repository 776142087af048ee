"""The PyTorch peer of the training benchmark: the same character-level GPT as katas 08-14, the same
optimizer and the same configuration, on the same CPU, so that BENCHMARKS.md states a ratio.

Model (kata 10): token + position embeddings, pre-LayerNorm blocks (LayerNorm eps 1e-5; fused QKV
projection with bias, causal softmax attention scaled by 1/sqrt(d_head), output projection with
bias; FFN C -> 4C -> C with tanh-GELU and biases), final LayerNorm, then the head. GPT-2
initialisation: every 2-D weight ~ N(0, 0.02^2) except the two output projections of each block
(attention W_O, FFN second Linear) ~ N(0, (0.02/sqrt(2 L))^2); biases 0, LayerNorm gain 1 bias 0.
Optimizer (kata 12): AdamW, betas (0.9, 0.999), eps 1e-8, weight decay 0.1 on the weight matrices
other than the embeddings, global-norm gradient clip 1.0 every step.

Two modes:

1. Speed (no --data): tokens/s on random tokens for nanoGPT's CPU configuration, vocab 65, block
   64, C 128, 4 layers, 4 heads, batch 12, UNTIED head (Linear C -> vocab with bias, decayed), no
   dropout, constant lr. 5 warm-up steps, then --steps timed steps; the median step gives tokens/s.

2. Training (--data FILE --budget S [S ...]; --seconds is an alias): mirrors `deno task train`'s
   defaults (tools/train_args.ts). For EACH budget S, one after the other in this process, a
   separate fresh run (model from the same seed, new optimizer) whose schedule is fitted to S
   seconds of TRAINING time (only the time spent in training steps counts, evaluation does not);
   the validation loss is reported at its end, and once for the untrained model (val_loss_start).
   - Data: the characters of the whole file; vocabulary = the sorted set of its characters (code
     points, as the trainer's tokenizer). The validation part is the last round(0.1 * len) tokens
     (JS Math.round, i.e. half up), the train part everything before them.
   - Model as above with block 64, C 128, 4 layers, 4 heads, and a TIED head:
     logits = LN_f(x) . wte^T + b, b a separate bias of size vocab (init 0); no head matrix.
   - Dropout p 0.1 while training only (inverted, nn.Dropout) after the sum of the token and
     position embeddings, on the attention sub-layer's output (after W_O) and on the FFN
     sub-layer's output (after its second Linear), both before the residual add; NOT on the
     attention weights. The validation loss runs under model.eval() (no dropout).
   - Weight decay 0.1 on the 2-D matrices of the blocks only (qkv, W_O, fc, fc_proj weights); no
     decay on biases, LayerNorm parameters, wte (tied, an embedding) and wpe.
   - Batch 16 random windows of 64 tokens of the train part (targets shifted by one), seeded.
   - Learning rate: linear warm-up lr = 1e-3 (step+1)/51 for step < 50; then a cosine from 1e-3 to
     1e-4 over the training time left: with tau = training seconds so far, tau_w = training
     seconds at the end of step 49, r = min(1, (tau - tau_w)/(S - tau_w)),
     lr = 1e-4 + 0.5 (1 + cos(pi r)) (1e-3 - 1e-4). The run stops at the first step boundary
     where tau >= S.
   - Validation loss: mean cross-entropy over every position of the non-overlapping windows of 64
     tokens of the val part (inputs val[i*64:(i+1)*64], targets shifted by one; every whole window
     that has its targets), 32 windows at a time, no grad.
   Per budget: steps, training seconds, training tokens/s, val loss, CPU and wall seconds of the run.

    python3 bench/peer_torch.py                      # mode 1: tokens/s, JSON on stdout
    python3 bench/peer_torch.py --threads 2
    python3 bench/peer_torch.py --data ../shared/data/tinyshakespeare.txt --budget 180 600

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


def dropout(p):
    # p = 0 (mode 1) is no module at all, so that the speed mode does exactly what it always did.
    return nn.Dropout(p) if p > 0 else nn.Identity()


class Block(nn.Module):
    def __init__(self, c, h, p=0.0):
        super().__init__()
        self.h = h
        self.ln1 = nn.LayerNorm(c, eps=1e-5)
        self.qkv = nn.Linear(c, 3 * c)
        self.proj = nn.Linear(c, c)
        self.ln2 = nn.LayerNorm(c, eps=1e-5)
        self.fc = nn.Linear(c, 4 * c)
        self.fc_proj = nn.Linear(4 * c, c)
        self.drop_att = dropout(p)
        self.drop_ffn = dropout(p)

    def forward(self, x, mask):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q = q.view(b, t, self.h, c // self.h).transpose(1, 2)
        k = k.view(b, t, self.h, c // self.h).transpose(1, 2)
        v = v.view(b, t, self.h, c // self.h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = F.softmax(att + mask[:t, :t], dim=-1)  # no dropout on the attention weights
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        x = x + self.drop_att(self.proj(y))
        return x + self.drop_ffn(self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh")))


class GPT(nn.Module):
    def __init__(self, vocab, block, c, h, layers, tied=False, p=0.0):
        super().__init__()
        self.tied = tied
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Embedding(block, c)
        self.drop = dropout(p)
        self.blocks = nn.ModuleList([Block(c, h, p) for _ in range(layers)])
        self.ln_f = nn.LayerNorm(c, eps=1e-5)
        if tied:
            self.head_bias = nn.Parameter(torch.zeros(vocab))  # logits = LN_f(x) . wte^T + b
        else:
            self.head = nn.Linear(c, vocab)
        m = torch.full((block, block), float("-inf")).triu(1)
        self.register_buffer("mask", m)
        for name, q in self.named_parameters():
            if q.dim() == 2:  # wte, wpe, Linear weights; "proj.weight" also matches fc_proj.weight
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("proj.weight",)) else 0.02
                nn.init.normal_(q, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(q)

    def forward(self, idx):
        t = idx.size(1)
        x = self.drop(self.wte(idx) + self.wpe.weight[:t])
        for blk in self.blocks:
            x = blk(x, self.mask)
        x = self.ln_f(x)
        return x @ self.wte.weight.t() + self.head_bias if self.tied else self.head(x)


def adamw(model, lr, weight_decay=0.1):
    # Decayed: the 2-D matrices except the embeddings (wte, wpe). For the tied model that is the
    # blocks' qkv, proj, fc, fc_proj weights; the untied model of mode 1 also decays head.weight.
    def decayed(n, p):
        return p.dim() == 2 and "wte" not in n and "wpe" not in n

    decay = [p for n, p in model.named_parameters() if decayed(n, p)]
    rest = [p for n, p in model.named_parameters() if not decayed(n, p)]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}],
        lr=lr, betas=(0.9, 0.999), eps=1e-8,
    )


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def speed(args, out):
    """Mode 1: tokens/s on random tokens, nanoGPT's CPU configuration (untied, no dropout)."""
    V, T, C, L, H, B = 65, 64, 128, 4, 4, 12
    train = torch.randint(0, V, (100_000,))
    model = GPT(V, T, C, H, L)
    opt = adamw(model, args.lr)

    def step():
        ix = torch.randint(len(train) - T - 1, (B,))
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    out["params"] = sum(p.numel() for p in model.parameters())
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


def training(args, out):
    """Mode 2: `deno task train`'s defaults, one fresh run per time budget."""
    T, C, L, H = 64, 128, 4, 4
    B = args.batch if args.batch is not None else 16
    p = args.dropout if args.dropout is not None else 0.1
    lr_max, lr_min, warmup, val_fraction, eval_batch = args.lr, args.lr * 0.1, 50, 0.1, 32
    with open(args.data, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    V = len(chars)
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
    # The trainer's split (kata 11): the last Math.round(len * 0.1) tokens, JS rounding half up.
    n = len(ids) - math.floor(len(ids) * val_fraction + 0.5)
    train, val = ids[:n], ids[n:]

    def new_model():
        torch.manual_seed(args.seed)  # same initial weights, then the same batches and masks
        model = GPT(V, T, C, H, L, tied=True, p=p)
        return model, adamw(model, lr_max)

    def batch():
        ix = torch.randint(len(train) - T, (B,))  # every start whose window has its targets
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        return x, y

    @torch.no_grad()
    def val_loss(model):
        model.eval()
        w = (len(val) - 1) // T  # whole windows that have their targets
        xs = val[: w * T].view(w, T)
        ys = val[1: w * T + 1].view(w, T)
        total = 0.0
        for s in range(0, w, eval_batch):
            lg = model(xs[s:s + eval_batch])
            total += F.cross_entropy(lg.reshape(-1, V), ys[s:s + eval_batch].reshape(-1),
                                     reduction="sum").item()
        model.train()
        return total / (w * T)

    out.update({
        "vocab": V,
        "settings": {
            "block": T, "n_embd": C, "n_layer": L, "n_head": H, "tied": True, "dropout": p,
            "batch": B, "lr": lr_max, "min_lr": lr_min, "warmup_steps": warmup,
            "schedule": "linear warm-up, then cosine over the training time left",
            "weight_decay": 0.1, "decayed": "blocks' 2-D weights", "betas": [0.9, 0.999],
            "eps": 1e-8, "clip": 1.0, "val_fraction": val_fraction, "eval_batch": eval_batch,
            "seed": args.seed, "train_tokens": len(train), "val_tokens": len(val),
        },
    })
    results = {}
    for S in args.budget:
        w0, c0 = time.perf_counter(), cpu_seconds()
        model, opt = new_model()
        if "params" not in out:
            out["params"] = sum(q.numel() for q in model.parameters())
            out["val_loss_start"] = val_loss(model)  # the untrained model, same for every budget
            w0, c0 = time.perf_counter(), cpu_seconds()  # not part of the run
        model.train()
        tau, tau_w, step = 0.0, None, 0
        while tau < S:  # training time only: evaluation is not counted
            s0 = time.perf_counter()
            if step < warmup:
                lr = lr_max * (step + 1) / (warmup + 1)
            else:
                r = 1.0 if S <= tau_w else min(1.0, (tau - tau_w) / (S - tau_w))
                lr = lr_min + 0.5 * (1 + math.cos(math.pi * r)) * (lr_max - lr_min)
            for g in opt.param_groups:
                g["lr"] = lr
            x, y = batch()
            loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            loss.item()
            tau += time.perf_counter() - s0
            step += 1
            if step == warmup:
                tau_w = tau  # training seconds at the end of step warmup - 1
        vl = val_loss(model)
        key = str(int(S)) if float(S).is_integer() else str(S)
        results[key] = {
            "steps": step, "train_s": tau, "tokens_per_s": step * B * T / tau, "val_loss": vl,
            "last_lr": lr, "cpu_s": cpu_seconds() - c0, "wall_s": time.perf_counter() - w0,
        }
    out.update({"budgets": results, "loadavg": os.getloadavg()})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (both modes)")
    ap.add_argument("--steps", type=int, default=30, help="mode 1: timed steps for tokens/s")
    ap.add_argument("--data", help="a text file: mode 2, train on it and report validation losses")
    ap.add_argument("--budget", "--seconds", dest="budget", type=float, nargs="+",
                    default=[180, 600], help="mode 2: training-time budgets in seconds, one run each")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (mode 2 min: lr/10)")
    ap.add_argument("--batch", type=int, default=None, help="mode 2: windows per step (default 16)")
    ap.add_argument("--dropout", type=float, default=None, help="mode 2: dropout (default 0.1)")
    ap.add_argument("--seed", type=int, default=1337)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = {
        "peer": "pytorch", "torch": torch.__version__, "threads": args.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }
    if args.data:
        training(args, out)
    else:
        speed(args, out)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
