"""Export a training checkpoint to GGUF (llama.cpp names for qwen3moe / qwen3).

Tensor layout: PyTorch [out, in] is ggml [in, out], so no transposes.
Types: norms and the router (ffn_gate_inp) stay F32; every other matrix is
--type (F32, F16, Q8_0, Q4_0); with Q4_0 the output matrix (or the tied
token_embd) and attn_v are Q8_0, as llama.cpp's quantizer does.

Usage: python3 tools/train/export.py CKPT OUT.gguf --type Q8_0 [--name NAME]
       [--tokenizer corpus/tokenizer.json]
"""
import argparse
import sys

import torch

from gguf_writer import GGUFWriter, GType, TType
from model import Config, Model
from tokenizer import Tokenizer

TTYPES = {"F32": TType.F32, "F16": TType.F16, "Q8_0": TType.Q8_0, "Q4_0": TType.Q4_0}
FILE_TYPE = {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7}   # llama_ftype


def load_checkpoint(path):
    """Return the Model stored in a train.py checkpoint (eval mode); a .gguf
    path is read with gguf_model.load_gguf_model instead (re-exporting a
    shipped Q8_0 file as Q8_0 gives the same tensor bytes)."""
    if path.endswith(".gguf"):
        from gguf_model import load_gguf_model
        return load_gguf_model(path)[0]
    ck = torch.load(path, map_location="cpu")
    m = Model(Config(**ck["config"]))
    m.load_state_dict(ck["model"])
    return m.eval()


def hparam_keys(c):
    """Return [(key, value, gguf type)] of the architecture metadata."""
    a = c.arch
    u32, f32 = GType.UINT32, GType.FLOAT32
    kv = [(f"{a}.context_length", c.n_ctx, u32), (f"{a}.embedding_length", c.n_embd, u32),
          (f"{a}.block_count", c.n_layer, u32), (f"{a}.attention.head_count", c.n_head, u32),
          (f"{a}.attention.head_count_kv", c.n_head_kv, u32),
          (f"{a}.attention.key_length", c.head_dim, u32),
          (f"{a}.attention.value_length", c.head_dim, u32),
          (f"{a}.rope.dimension_count", c.head_dim, u32),
          (f"{a}.rope.freq_base", float(c.rope_base), f32),
          (f"{a}.attention.layer_norm_rms_epsilon", float(c.eps), f32),
          (f"{a}.vocab_size", c.n_vocab, u32)]
    if a == "qwen3moe":
        kv += [(f"{a}.feed_forward_length", c.n_ff * c.n_expert_used, u32),
               (f"{a}.expert_count", c.n_expert, u32),
               (f"{a}.expert_used_count", c.n_expert_used, u32),
               (f"{a}.expert_feed_forward_length", c.n_ff, u32)]
    else:
        kv += [(f"{a}.feed_forward_length", c.n_ff, u32)]
    return kv


def gguf_tensors(model):
    """Yield (gguf name, tensor, kind) with kind "norm", "router", "matrix",
    "attn_v" or "output" (used to pick the storage type)."""
    c = model.c
    yield "token_embd.weight", model.embd.weight, "output" if c.tied else "matrix"
    for i, b in enumerate(model.blocks):
        p = f"blk.{i}."
        yield p + "attn_norm.weight", b.attn_norm.weight, "norm"
        yield p + "attn_q.weight", b.attn.q.weight, "matrix"
        yield p + "attn_k.weight", b.attn.k.weight, "matrix"
        yield p + "attn_v.weight", b.attn.v.weight, "attn_v"
        yield p + "attn_output.weight", b.attn.o.weight, "matrix"
        yield p + "attn_q_norm.weight", b.attn.q_norm.weight, "norm"
        yield p + "attn_k_norm.weight", b.attn.k_norm.weight, "norm"
        yield p + "ffn_norm.weight", b.ffn_norm.weight, "norm"
        if c.arch == "qwen3moe":
            yield p + "ffn_gate_inp.weight", b.ffn.router.weight, "router"
            yield p + "ffn_gate_exps.weight", b.ffn.gate, "matrix"
            yield p + "ffn_up_exps.weight", b.ffn.up, "matrix"
            yield p + "ffn_down_exps.weight", b.ffn.down, "matrix"
        else:
            yield p + "ffn_gate.weight", b.ffn.gate.weight, "matrix"
            yield p + "ffn_up.weight", b.ffn.up.weight, "matrix"
            yield p + "ffn_down.weight", b.ffn.down.weight, "matrix"
    yield "output_norm.weight", model.out_norm.weight, "norm"
    if not c.tied:
        yield "output.weight", model.output.weight, "output"


def storage_type(kind, wtype):
    """Return the ggml type for a tensor of kind under file type wtype."""
    if kind in ("norm", "router"):
        return TType.F32
    if wtype == "Q4_0" and kind in ("output", "attn_v"):
        return TType.Q8_0
    return TTYPES[wtype]


def export(model, tok, path, wtype, name):
    """Write model + tokenizer to a GGUF file; return its size in bytes."""
    c = model.c
    w = GGUFWriter()
    w.add("general.architecture", c.arch)
    w.add("general.name", name)
    w.add("general.file_type", FILE_TYPE[wtype], GType.UINT32)
    for key, value, vtype in hparam_keys(c):
        w.add(key, value, vtype)
    for key, value, vtype, item in tok.gguf_metadata():
        w.add(key, value, vtype, item)
    with torch.no_grad():
        for tname, t, kind in gguf_tensors(model):
            w.add_tensor(tname, t, storage_type(kind, wtype))
    return w.write(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ckpt")
    ap.add_argument("out")
    ap.add_argument("--type", choices=sorted(TTYPES), default="Q8_0")
    ap.add_argument("--name", default=None)
    ap.add_argument("--tokenizer", default="corpus/tokenizer.json")
    args = ap.parse_args()
    model = load_checkpoint(args.ckpt)
    tok = Tokenizer.load(args.tokenizer)
    assert tok.n_vocab == model.c.n_vocab, "tokenizer and model disagree on n_vocab"
    name = args.name or ("flint-coder-moe" if model.c.arch == "qwen3moe" else "flint-coder-draft")
    size = export(model, tok, args.out, args.type, name)
    print(f"wrote {args.out} ({size} bytes, {args.type})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
