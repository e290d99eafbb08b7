"""Check the PyTorch reference forward pass against tests/fixtures/models/.

For every qwen3 / qwen3moe F32 fixture, load the GGUF with gguf_model.py,
evaluate the manifest's eval prompt in float32, and compare with the
fixture's reference batch logits using the manifest's tolerance.  This is
what makes the exporter trustworthy: the model we train computes what
llama.cpp computes for the same file.  Also checks that an exported GGUF's
key set and tensor names/ranks match the fixture of the same architecture.

Usage: python3 tools/train/check_fixtures.py [EXPORTED.gguf ...]
Exit status 0 when everything passes.
"""
import json
import os
import sys

import numpy as np
import torch

from gguf_model import load_gguf_model
from gguf_reader import compare, read_gguf

FIXTURES = "tests/fixtures/models"


def check_logits(entry):
    """Return (ok, max_abs, tolerance) for one manifest model entry."""
    model, _ = load_gguf_model(os.path.join(FIXTURES, entry["file"]))
    ids = torch.tensor([entry["eval"]["prompt_ids"]])
    with torch.no_grad():
        logits = model(ids)[0][0].numpy()
    ref_file = entry["eval"]["logits"]["batch"]["file"]
    ref = np.fromfile(os.path.join(FIXTURES, ref_file), dtype="<f4").reshape(logits.shape)
    keep = [i for i in range(len(ref)) if i not in entry["eval"].get("excluded_positions", [])]
    err = np.abs(logits[keep] - ref[keep]).max()
    tol = entry["tolerance"]["max_abs"]
    return err <= tol, float(err), tol


def main():
    with open(os.path.join(FIXTURES, "manifest.json")) as f:
        manifest = json.load(f)
    ok_all = True
    for e in manifest["models"]:
        if e["arch"] in ("qwen3", "qwen3moe") and e["variant"] == "F32":
            ok, err, tol = check_logits(e)
            ok_all &= ok
            print(f"{'ok  ' if ok else 'FAIL'} {e['file']}: max |torch - reference| = {err:.2e} "
                  f"(tolerance {tol:.1e})")
    for path in sys.argv[1:]:
        g = read_gguf(path)
        arch = g.meta["general.architecture"]
        ref = read_gguf(os.path.join(FIXTURES, f"tiny-{arch}.F32.gguf"))
        diffs = [d for d in compare(g, ref)
                 if "tokenizer.chat_template" not in d and "tokenizer.ggml.fim_" not in d
                 and "output.weight" not in d]
        ok_all &= not diffs
        print(f"{'ok  ' if not diffs else 'FAIL'} {path} vs tiny-{arch}.F32.gguf conventions"
              + "".join(f"\n    {d}" for d in diffs))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
