"""Train the MoE model or its dense draft on packed shards (CPU, PyTorch).

Reads DATA/train-*.npz in index order (sequence order shuffled per shard,
seeded), waits for a shard that is still being generated, and writes
OUT/ckpt.pt (latest, atomically) every --ckpt-every steps plus a log of JSON
lines in OUT/log.jsonl.  --resume continues from OUT/ckpt.pt (model,
optimizer, step, data position), so a killed run loses at most one interval.

Loss: mean cross-entropy over the masked targets + AUX_COEF * the MoE
load-balancing term.  --middle-weight W counts each target of a FIM example
that follows its <|fim_middle|> (the middle and its <|endoftext|>, ~7% of a
FIM example's targets) W times: the part the editor asks for.  LR: linear warm-up, then cosine to 10% at --steps
(--sched-from S starts that schedule at step S instead of 0, to re-warm a resumed run).

--init-gguf FILE starts a new run (step 0, fresh optimizer) from the weights of
a GGUF file instead of a random init: its weights are read as stored (Q8_0
dequantized: d * q), so this continues training a shipped model.  FILE must
have the shape of --model and the run must use FILE's tokenizer (bpe_train.py
--from-gguf).  --resume takes precedence once OUT/ckpt.pt exists, so a killed
warm-started run resumes normally.  Warm-started runs usually want a short
--warmup.

Usage: python3 tools/train/train.py --model moe --out tools/train/work/moe \\
           --steps 3000 [--batch 8] [--lr 2e-3] [--resume] [--init-gguf FILE]
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from data import KINDS
from model import Config, Model, chunked_cross_entropy
from tokenizer import Tokenizer

AUX_COEF = 0.01

# The two shipped shapes (see models/README.md for the reasoning).
CONFIGS = {
    "moe": Config(arch="qwen3moe", n_vocab=8192, n_embd=256, n_layer=6, n_head=4, n_head_kv=2,
                  head_dim=64, n_ff=384, n_expert=8, n_expert_used=2, rope_base=1e6,
                  eps=1e-6, n_ctx=1024, tied=False),
    "draft": Config(arch="qwen3", n_vocab=8192, n_embd=192, n_layer=2, n_head=3, n_head_kv=1,
                    head_dim=64, n_ff=512, rope_base=1e6, eps=1e-6, n_ctx=1024, tied=True),
}


class ShardStream:
    """Yields batches (ids, mask, doc, kind) as torch tensors from shards in order."""

    def __init__(self, data_dir, batch, shard=0, offset=0, seed=0, split="train"):
        self.data_dir, self.batch, self.seed, self.split = data_dir, batch, seed, split
        self.shard, self.offset = shard, offset
        self._load()

    def _path(self, k):
        return os.path.join(self.data_dir, f"{self.split}-{k:05d}.npz")

    def _load(self):
        waited = 0
        while not os.path.exists(self._path(self.shard)):
            if not glob.glob(os.path.join(self.data_dir, f"{self.split}-*.npz")):
                raise FileNotFoundError(f"no {self.split} shards in {self.data_dir}")
            if waited >= 600:          # no generator is adding shards: next epoch
                self.shard = 0
                break
            time.sleep(30)
            waited += 30
        z = np.load(self._path(self.shard))
        order = np.random.RandomState(self.seed + self.shard).permutation(len(z["ids"]))
        self.arrays = {k: z[k][order] for k in ("ids", "mask", "doc", "kind")}

    def next(self):
        """Return the next batch; moves to the next shard at the end of one."""
        if self.offset + self.batch > len(self.arrays["ids"]):
            self.shard, self.offset = self.shard + 1, 0
            self._load()
        sl = slice(self.offset, self.offset + self.batch)
        self.offset += self.batch
        return tuple(torch.from_numpy(self.arrays[k][sl].astype(np.int64))
                     for k in ("ids", "mask", "doc", "kind"))


def middle_targets(ids, doc, kind, fim_middle):
    """Return a bool tensor: the targets after the <|fim_middle|> of a FIM
    document (documents are contiguous with increasing index, so a running
    max of the index of the last <|fim_middle|> seen tells whether it was in
    the same document)."""
    d = doc.long()
    mark = torch.where(ids[:, :-1] == fim_middle, d, torch.full_like(d, -1))
    fim = (kind == KINDS.index("psm")) | (kind == KINDS.index("spm"))
    return (torch.cummax(mark, dim=1).values == d) & fim


def batch_loss(model, ids, mask, doc, kind, bf16, middle_weight=1.0, fim_middle=-1):
    """Return (loss for backward, ce, aux, per-kind (sum, count) dict); ce
    and the per-kind figures are unweighted, over the masked targets. With
    fim_middle (its token id) >= 0 the FIM middles count middle_weight
    times in the loss and per_kind has "middle" too."""
    tgt = ids[:, 1:]
    if bf16:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            h, aux = model(ids[:, :-1], doc=doc, hidden=True)
        ce_tok = chunked_cross_entropy(h.reshape(-1, h.shape[-1]), model.output_weight(),
                                       tgt.reshape(-1)).view_as(tgt)
    else:
        logits, aux = model(ids[:, :-1], doc=doc)
        ce_tok = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                                 reduction="none").view_as(tgt)
    m = mask.float()
    ce = (ce_tok * m).sum() / m.sum().clamp(min=1)
    per_kind = {}
    for i, k in enumerate(KINDS):
        mk = m * (kind == i).float()
        per_kind[k] = (float((ce_tok.detach() * mk).sum()), float(mk.sum()))
    if fim_middle < 0:
        return ce + AUX_COEF * aux, ce, aux, per_kind
    mid = m * middle_targets(ids, doc, kind, fim_middle).float()
    per_kind["middle"] = (float((ce_tok.detach() * mid).sum()), float(mid.sum()))
    w = m + (middle_weight - 1) * mid
    weighted = (ce_tok * w).sum() / w.sum().clamp(min=1)
    return weighted + AUX_COEF * aux, ce, aux, per_kind


def lr_at(step, total, peak, warmup):
    """Linear warm-up to peak, then cosine decay to 0.1 * peak at total."""
    if step < warmup:
        return peak * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def evaluate(model, data_dir, bf16, fim_middle=-1, n_batches=4, batch=8):
    """Return {"val_loss": mean ce, "val_<kind>": ...} on the first val shard
    (with fim_middle, the FIM middles' "val_middle" too)."""
    model.eval()
    stream = ShardStream(data_dir, batch, split="val")
    tot, cnt, kinds = 0.0, 0.0, {}
    with torch.no_grad():
        for _ in range(n_batches):
            ids, mask, doc, kind = stream.next()
            _, ce, _, pk = batch_loss(model, ids, mask, doc, kind, bf16, fim_middle=fim_middle)
            n = float(mask.sum())
            tot, cnt = tot + float(ce) * n, cnt + n
            for k, (s, c) in pk.items():
                a = kinds.setdefault(k, [0.0, 0.0])
                a[0], a[1] = a[0] + s, a[1] + c
    model.train()
    return {"val_loss": tot / cnt, **{f"val_{k}": s / c for k, (s, c) in kinds.items() if c}}


def make_optimizer(model, lr):
    """AdamW, weight decay 0.1 on matrices only."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                              {"params": other, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def save(path, model, opt, step, stream, tokens, seconds, args):
    """Atomically write a checkpoint."""
    tmp = path + ".tmp"
    torch.save({"config": model.c.to_dict(), "model": model.state_dict(),
                "opt": opt.state_dict(), "step": step, "shard": stream.shard,
                "offset": stream.offset, "tokens": tokens, "seconds": seconds,
                "args": vars(args)}, tmp)
    os.replace(tmp, path)


def init_gguf(model, path):
    """Copy the weights of GGUF file path into model (shapes must match)."""
    from gguf_model import load_gguf_model
    src, _ = load_gguf_model(path)
    a, b = src.c.to_dict(), model.c.to_dict()
    keys = ["arch", "n_vocab", "n_embd", "n_layer", "n_head", "n_head_kv", "head_dim", "n_ff",
            "n_ctx", "tied"] + (["n_expert", "n_expert_used"] if b["arch"] == "qwen3moe" else [])
    if any(a[k] != b[k] for k in keys) or not all(
            math.isclose(a[k], b[k], rel_tol=1e-6) for k in ("rope_base", "eps")):
        raise ValueError(f"{path}: config {a} differs from {b}")
    model.load_state_dict(src.state_dict())
    model.train()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(CONFIGS), default="moe")
    ap.add_argument("--data", default="tools/train/work/data")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=3000, help="planned total (LR schedule)")
    ap.add_argument("--stop-after", type=int, default=0, help="stop at this step (0 = --steps)")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop after this much training time")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--sched-from", type=int, default=0,
                    help="the LR schedule (warm-up, cosine to --steps) starts at this step: "
                         "a resumed checkpoint continued with a fresh schedule")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fp32", action="store_true", help="disable bf16 autocast")
    ap.add_argument("--ckpt-every", type=int, default=50)
    ap.add_argument("--eval-every", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--first-shard", type=int, default=0,
                    help="start a new run at this train shard (skip data an earlier run saw)")
    ap.add_argument("--middle-weight", type=float, default=1.0,
                    help="weight of the FIM middle targets in the loss (1 = like any target)")
    ap.add_argument("--tokenizer", default="corpus/tokenizer.json",
                    help="for the <|fim_middle|> id (the middle's weight and loss)")
    ap.add_argument("--init-gguf", metavar="FILE",
                    help="initialise the weights from a GGUF file (ignored when resuming)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = os.path.join(args.out, "ckpt.pt")
    model = Model(CONFIGS[args.model])
    opt = make_optimizer(model, args.lr)
    step, tokens, seconds, shard, offset = 0, 0, 0.0, args.first_shard, 0
    init = None
    if args.resume and os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, tokens, seconds = ck["step"], ck["tokens"], ck["seconds"]
        shard, offset = ck["shard"], ck["offset"]
    elif args.init_gguf:
        init_gguf(model, args.init_gguf)
        init = args.init_gguf
    stream = ShardStream(args.data, args.batch, shard, offset, args.seed)
    bf16 = not args.fp32
    fim_middle = Tokenizer.load(args.tokenizer).special("<|fim_middle|>")
    log = open(os.path.join(args.out, "log.jsonl"), "a")
    print(json.dumps({"start_step": step, "params": model.param_counts(),
                      "config": model.c.to_dict(), "init_gguf": init}), file=log, flush=True)
    stop = args.stop_after or args.steps
    while step < stop and not (args.max_minutes and seconds > 60 * args.max_minutes):
        t0 = time.time()
        ids, mask, doc, kind = stream.next()
        lr = lr_at(step - args.sched_from, args.steps - args.sched_from, args.lr, args.warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        loss, ce, aux, per_kind = batch_loss(model, ids, mask, doc, kind, bf16, args.middle_weight, fim_middle)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        n_tok = ids.shape[0] * (ids.shape[1] - 1)
        tokens += n_tok
        dt = time.time() - t0
        seconds += dt
        rec = {"step": step, "lr": round(lr, 6), "loss": round(float(ce), 4),
               "aux": round(float(aux), 4), "gnorm": round(float(gnorm), 3),
               "tok_s": round(n_tok / dt), "tokens": tokens, "hours": round(seconds / 3600, 3),
               **{k: round(s / c, 3) for k, (s, c) in per_kind.items() if c}}
        last = step == stop or (args.max_minutes and seconds > 60 * args.max_minutes)
        if step % args.eval_every == 0 or last:
            rec.update(evaluate(model, args.data, bf16, fim_middle))
        print(json.dumps(rec), file=log, flush=True)
        if step % args.ckpt_every == 0 or last:
            save(ckpt_path, model, opt, step, stream, tokens, seconds, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
