"""Round-trip check: flint's logits vs PyTorch's on the same GGUF file.

Takes the first --n-tokens tokens of the first validation sequence (real
FIM / plain / refactor data), runs

    build/flint eval --model MODEL --tokens 1,2,3 --logits OUT.f32 --threads N

(raw little-endian float32 [n_tokens x n_vocab]) and the PyTorch reference
(gguf_model.py, float64, weights as stored in the file) on the same ids, and
compares: max |flint - torch| over all positions must be <= max(--tol (1e-3
for F32 files), twice the error of the same PyTorch forward in float32): a
trained model's large logits can put an ordinary float32 forward above 1e-3
(v3 of the default model: 1.8e-3 at one position), while a convention bug
(rope, norms, routing) is orders of magnitude larger. Also reports RMS and
arg-max agreement.  flint's KV cache holds
keys and values as F16, so the reference rounds them to F16 too (--kv f16,
the default; --kv f32 compares with the unrounded reference).

Usage: python3 tools/train/check_roundtrip.py [MODEL.gguf ...] [--tol 1e-3]
(default models: the F32 exports in tools/train/work/).  Exit 0 = pass.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from gguf_model import load_gguf_model
from model import Attention

DEFAULT_MODELS = ("tools/train/work/flint-coder-moe.F32.gguf",
                  "tools/train/work/flint-coder-draft.F32.gguf")


def val_tokens(data_dir, n):
    """Return the first n token ids of the first validation sequence."""
    z = np.load(os.path.join(data_dir, "val-00000.npz"))
    return [int(x) for x in z["ids"][0][:n]]


def flint_logits(flint, model, ids, threads):
    """Run flint eval; return its logits as float32 [len(ids), n_vocab]."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.f32")
        cmd = [flint, "eval", "--model", model, "--tokens", ",".join(map(str, ids)),
               "--logits", out, "--threads", str(threads)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:4])} ... failed ({r.returncode}):\n{r.stdout[-2000:]}")
        return np.fromfile(out, dtype="<f4").reshape(len(ids), -1)


def check(flint, model_path, ids, tol, threads):
    """Compare one model; return True if within tolerance.

    The reference is the PyTorch forward in float64. The same forward in
    float32 shows how far an ordinary float32 implementation lands from it
    on this model and these tokens (its "float32 floor": large logits and
    sharp attention raise it); flint passes within max(tol, 2 x floor)."""
    model, _ = load_gguf_model(model_path)
    x = torch.tensor([ids])
    with torch.no_grad():
        ref32 = model(x)[0][0].numpy().astype(np.float64)
        ref = model.double()(x)[0][0].numpy()
    floor = float(np.abs(ref32 - ref).max())
    bound = max(tol, 2 * floor)
    got = flint_logits(flint, model_path, ids, threads)
    if got.shape != ref.shape:
        print(f"FAIL {model_path}: flint shape {got.shape}, torch {ref.shape}")
        return False
    d = np.abs(got - ref)
    worst = np.unravel_index(d.argmax(), d.shape)
    agree = float((got.argmax(-1) == ref.argmax(-1)).mean())
    ok = d.max() <= bound
    print(f"{'ok  ' if ok else 'FAIL'} {model_path}: {len(ids)} tokens, max abs {d.max():.3e} "
          f"(at token {worst[0]}, id {worst[1]}), rms {np.sqrt((d ** 2).mean()):.3e}, "
          f"arg-max agreement {agree:.4f}; float32 floor {floor:.3e}, bound max({tol:g}, 2 x floor)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="*", default=list(DEFAULT_MODELS))
    ap.add_argument("--flint", default="build/flint")
    ap.add_argument("--data", default="tools/train/work/data")
    ap.add_argument("--n-tokens", type=int, default=256)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kv", choices=("f16", "f32"), default="f16",
                    help="round the reference's keys/values as flint's KV cache stores them")
    args = ap.parse_args()
    Attention.kv_round = torch.float16 if args.kv == "f16" else None
    torch.set_num_threads(args.threads)
    ids = val_tokens(args.data, args.n_tokens)
    ok = True
    for m in args.models:
        ok &= check(args.flint, m, ids, args.tol, args.threads)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
