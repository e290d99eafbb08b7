"""Measure training throughput (tokens/s) of fp32 vs bf16 autocast on this CPU.

Runs a few optimizer steps of a given model shape on random tokens with each
precision and prints one JSON line per (config, precision).

Usage: python3 tools/train/bench_precision.py [--steps 4] [--batch 4] [--seq 1024]
"""
import argparse
import json
import time

import torch

from model import Config, Model


def bench(cfg, precision, batch, seq, steps):
    """Return tokens/s of forward+backward+AdamW for cfg under precision."""
    torch.manual_seed(0)
    m = Model(cfg)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    ids = torch.randint(0, cfg.n_vocab, (batch, seq + 1))
    times = []
    for _ in range(steps + 1):
        t0 = time.time()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits, aux = m(ids[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.n_vocab),
                                                 ids[:, 1:].reshape(-1)) + 0.01 * aux
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.time() - t0)
    return batch * seq / (sum(times[1:]) / steps)   # first step is warm-up


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    shapes = [
        Config(arch="qwen3moe", n_embd=256, n_layer=6, n_ff=512),
        Config(arch="qwen3moe", n_embd=256, n_layer=6, n_ff=256),
        Config(arch="qwen3", n_embd=256, n_layer=4, n_ff=768, tied=True),
    ]
    for cfg in shapes:
        counts = Model(cfg).param_counts()
        for prec in ("fp32", "bf16"):
            tps = bench(cfg, prec, args.batch, args.seq, args.steps)
            print(json.dumps({"arch": cfg.arch, "n_embd": cfg.n_embd, "n_layer": cfg.n_layer,
                              "n_ff": cfg.n_ff, **counts, "precision": prec,
                              "batch": args.batch, "seq": args.seq,
                              "tokens_per_s": round(tps, 1)}), flush=True)


if __name__ == "__main__":
    main()
