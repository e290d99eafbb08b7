"""Load a qwen3moe / qwen3 GGUF file into the PyTorch reference Model.

Weights are dequantized to float32 exactly as stored (Q8_0: d * q), so the
model evaluates the exported file, not the training checkpoint.  Used by
check_fixtures.py (our forward pass vs llama.cpp's reference logits),
check_roundtrip.py and metrics.py.
"""
import torch

from gguf_reader import read_gguf
from model import Config, Model


def config_from_gguf(g):
    """Return the Config described by a GGUF file's metadata."""
    a = g.meta["general.architecture"]
    if a not in ("qwen3moe", "qwen3"):
        raise ValueError(f"unsupported architecture {a}")
    m = g.meta
    moe = a == "qwen3moe"
    return Config(arch=a, n_vocab=g.tensors["token_embd.weight"].ne[1],
                  n_embd=m[f"{a}.embedding_length"], n_layer=m[f"{a}.block_count"],
                  n_head=m[f"{a}.attention.head_count"],
                  n_head_kv=m[f"{a}.attention.head_count_kv"],
                  head_dim=m[f"{a}.attention.key_length"],
                  n_ff=m[f"{a}.expert_feed_forward_length"] if moe else m[f"{a}.feed_forward_length"],
                  n_expert=m.get(f"{a}.expert_count", 0),
                  n_expert_used=m.get(f"{a}.expert_used_count", 0),
                  rope_base=m[f"{a}.rope.freq_base"],
                  eps=m[f"{a}.attention.layer_norm_rms_epsilon"],
                  n_ctx=m[f"{a}.context_length"], tied="output.weight" not in g.tensors)


def load_gguf_model(path):
    """Return (Model in eval mode with the file's weights, GGUF object)."""
    g = read_gguf(path)
    c = config_from_gguf(g)
    model = Model(c)
    names = {
        "embd.weight": "token_embd.weight", "out_norm.weight": "output_norm.weight",
        "output.weight": "output.weight",
    }
    per_block = {
        "attn_norm.weight": "attn_norm.weight", "attn.q.weight": "attn_q.weight",
        "attn.k.weight": "attn_k.weight", "attn.v.weight": "attn_v.weight",
        "attn.o.weight": "attn_output.weight", "attn.q_norm.weight": "attn_q_norm.weight",
        "attn.k_norm.weight": "attn_k_norm.weight", "ffn_norm.weight": "ffn_norm.weight",
        "ffn.router.weight": "ffn_gate_inp.weight", "ffn.gate": "ffn_gate_exps.weight",
        "ffn.up": "ffn_up_exps.weight", "ffn.down": "ffn_down_exps.weight",
        "ffn.gate.weight": "ffn_gate.weight", "ffn.up.weight": "ffn_up.weight",
        "ffn.down.weight": "ffn_down.weight",
    }
    state = {}
    for pname, p in model.state_dict().items():
        if pname.startswith("blocks."):
            _, i, rest = pname.split(".", 2)
            gname = f"blk.{i}.{per_block[rest]}"
        else:
            gname = names[pname]
        a = torch.from_numpy(g.array(gname).copy())
        if a.shape != p.shape:
            raise ValueError(f"{gname}: shape {tuple(a.shape)}, model wants {tuple(p.shape)}")
        state[pname] = a
    model.load_state_dict(state)
    return model.eval(), g
