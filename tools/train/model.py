"""PyTorch reference of the two architectures flint ships: qwen3moe and qwen3.

The forward pass follows llama.cpp's graphs for these archs exactly, so that
the GGUF export evaluates to the same logits in flint:

  x = token_embd[ids]
  per block:  h = x + attn(attn_norm(x));  x = h + ffn(ffn_norm(h))
  attn:       q,k,v projections; per-head RMSNorm of q and k (weights
              [head_dim], model eps); NEOX RoPE (pairs i, i + head_dim/2);
              GQA (query head h reads kv head h // (n_head / n_kv_head));
              softmax(q k^T / sqrt(head_dim)) v; output projection
  ffn qwen3:  down(silu(gate(x)) * up(x))
  ffn moe:    p = softmax(router(x)) over all experts; top-k by p; weights
              renormalised to sum 1; sum_k w_k * expert_k(x) (SwiGLU experts)
  logits = output(output_norm(x))   (output = token_embd when tied)

Tensors are kept in the layouts ggml expects, so export needs no transpose:
Linear weights are [out, in]; experts are [n_expert, out, in].
"""
import math
from dataclasses import dataclass, asdict

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    """Hyper-parameters of one model; `arch` is "qwen3moe" or "qwen3"."""
    arch: str = "qwen3moe"
    n_vocab: int = 8192
    n_embd: int = 256
    n_layer: int = 6
    n_head: int = 4
    n_head_kv: int = 2
    head_dim: int = 64
    n_ff: int = 512          # dense FFN length (qwen3) or per-expert length (qwen3moe)
    n_expert: int = 8
    n_expert_used: int = 2
    rope_base: float = 1e6
    eps: float = 1e-6
    n_ctx: int = 1024
    tied: bool = False

    def to_dict(self):
        """Return the config as a plain dict (for checkpoints and JSON)."""
        return asdict(self)


class RMSNorm(nn.Module):
    """x * rsqrt(mean(x^2) + eps) * weight over the last dimension."""

    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        xf = x.float()
        y = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight).to(x.dtype)


def rope_tables(head_dim, n_pos, base, device=None):
    """Return (cos, sin), each [n_pos, head_dim/2], for NEOX RoPE."""
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64, device=device) / head_dim)
    ang = torch.arange(n_pos, dtype=torch.float64, device=device)[:, None] * inv[None, :]
    return ang.cos().float(), ang.sin().float()


def apply_rope(x, cos, sin):
    """NEOX RoPE on x [B, T, H, D] with per-position tables [B or 1, T, D/2]."""
    d2 = x.shape[-1] // 2
    x1, x2 = x[..., :d2], x[..., d2:]
    c, s = cos[:, :, None, :], sin[:, :, None, :]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


class Attention(nn.Module):
    """Grouped-query attention with per-head q/k RMSNorm and NEOX RoPE.

    kv_round: None, or a dtype (torch.float16) that keys and values are
    rounded to after RoPE, as an inference engine's KV cache stores them
    (flint's and llama.cpp's default cache is F16); set on the class by the
    checks that compare with such an engine, never during training."""

    kv_round = None

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q = nn.Linear(c.n_embd, c.n_head * c.head_dim, bias=False)
        self.k = nn.Linear(c.n_embd, c.n_head_kv * c.head_dim, bias=False)
        self.v = nn.Linear(c.n_embd, c.n_head_kv * c.head_dim, bias=False)
        self.o = nn.Linear(c.n_head * c.head_dim, c.n_embd, bias=False)
        self.q_norm = RMSNorm(c.head_dim, c.eps)
        self.k_norm = RMSNorm(c.head_dim, c.eps)

    def forward(self, x, cos, sin, mask, cache=None):
        """x [B, T, C]; mask: [B, 1, T, T_past + T] bool (True = may attend), or
        the block list of doc_blocks() (training: only the unmasked blocks of
        the attention matrix are computed); cache: None, or a dict whose
        "k"/"v" [B, T_past, H_kv, D] are prepended to this call's keys/values
        and then replaced by the result."""
        c = self.c
        B, T, _ = x.shape
        q = self.q_norm(self.q(x).view(B, T, c.n_head, c.head_dim))
        k = self.k_norm(self.k(x).view(B, T, c.n_head_kv, c.head_dim))
        v = self.v(x).view(B, T, c.n_head_kv, c.head_dim)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        if self.kv_round is not None:
            k, v = k.to(self.kv_round).to(k.dtype), v.to(self.kv_round).to(v.dtype)
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], 1), torch.cat([cache["v"], v], 1)
            cache["k"], cache["v"] = k, v
        rep = c.n_head // c.n_head_kv
        q = q.transpose(1, 2) * (1.0 / math.sqrt(c.head_dim))     # B H T D
        k = k.transpose(1, 2).repeat_interleave(rep, dim=1)
        v = v.transpose(1, 2).repeat_interleave(rep, dim=1)
        if isinstance(mask, torch.Tensor):
            y = _attend(q, k, v, mask)
        else:
            # slice per sequence: the backward of a slice of the whole batch
            # would zero-fill and add a batch-sized gradient for every block
            rows = [[] for _ in range(B)]
            qs, ks, vs = q.unbind(0), k.unbind(0), v.unbind(0)
            for b, q0, q1, k0, allowed in mask:
                rows[b].append(_attend(qs[b][:, q0:q1], ks[b][:, k0:q1], vs[b][:, k0:q1], allowed))
            y = torch.stack([torch.cat(r, dim=1) for r in rows])
        return self.o(y.transpose(1, 2).reshape(B, T, c.n_head * c.head_dim))


def _attend(q, k, v, allowed):
    """softmax(q k^T, masked by allowed) v for [..., Tq, D] x [..., Tk, D]
    (q already scaled); softmax in fp32."""
    att = (q @ k.transpose(-1, -2)).float()                       # fresh tensor: in-place ok
    att = att.masked_fill_(~allowed, float("-inf")).softmax(-1).to(v.dtype)
    return att @ v


def doc_blocks(doc, chunk=256):
    """Split causal attention within documents into blocks.

    doc [B, T]: document ids, contiguous runs.  Returns [(b, q0, q1, k0,
    allowed [q1-q0, q1-k0] bool)]: queries q0..q1-1 of sequence b need only
    keys k0..q1-1, where k0 is the start of the document of query q0."""
    B, T = doc.shape
    pos = torch.arange(T)
    blocks = []
    for b in range(B):
        d = doc[b]
        first = torch.ones(T, dtype=torch.bool)
        first[1:] = d[1:] != d[:-1]
        start = torch.cummax(torch.where(first, pos, torch.zeros_like(pos)), 0).values
        for q0 in range(0, T, chunk):
            q1 = min(T, q0 + chunk)
            k0 = int(start[q0])
            allowed = (pos[None, k0:q1] <= pos[q0:q1, None]) & (d[None, k0:q1] == d[q0:q1, None])
            blocks.append((b, q0, q1, k0, allowed))
    return blocks


class _ChunkedCE(torch.autograd.Function):
    """Per-row cross-entropy of softmax(h W^T) against tgt, CHUNK rows at a
    time: logits from a bf16 product, log-softmax in fp32, as under autocast,
    but the [N, n_vocab] logits never exist whole (the backward recomputes
    each chunk's), so no pass streams hundreds of MB through memory."""

    CHUNK = 512

    @staticmethod
    def forward(ctx, h, w, tgt):
        wb = w.to(torch.bfloat16)
        ce, lses = torch.empty(h.shape[0]), torch.empty(h.shape[0])
        for s in range(0, h.shape[0], _ChunkedCE.CHUNK):
            e = s + _ChunkedCE.CHUNK
            lg = (h[s:e].to(torch.bfloat16) @ wb.t()).float()
            lses[s:e] = torch.logsumexp(lg, -1)
            ce[s:e] = lses[s:e] - lg.gather(1, tgt[s:e, None])[:, 0]
        ctx.save_for_backward(h, w, tgt, lses)
        return ce

    @staticmethod
    def backward(ctx, g):
        h, w, tgt, lses = ctx.saved_tensors
        wb = w.to(torch.bfloat16)
        gh, gw = torch.empty(h.shape, dtype=h.dtype), torch.zeros(w.shape, dtype=torch.float32)
        for s in range(0, h.shape[0], _ChunkedCE.CHUNK):
            e = s + _ChunkedCE.CHUNK
            hb = h[s:e].to(torch.bfloat16)
            p = ((hb @ wb.t()).float() - lses[s:e, None]).exp_()   # softmax
            p[torch.arange(p.shape[0]), tgt[s:e]] -= 1
            pb = (p * g[s:e, None]).to(torch.bfloat16)
            gh[s:e] = (pb @ wb).to(h.dtype)
            gw += (pb.t() @ hb).float()
        return gh, gw.to(w.dtype), None


def chunked_cross_entropy(h, w, tgt):
    """Cross-entropy per row of h [N, n_embd] (hidden states) with output
    matrix w [n_vocab, n_embd] against tgt [N]; differentiable in h and w.
    Same values as F.cross_entropy(F.linear(h, w) under bf16 autocast,
    reduction="none") up to rounding."""
    return _ChunkedCE.apply(h, w, tgt)


class DenseFFN(nn.Module):
    """SwiGLU feed-forward: down(silu(gate(x)) * up(x))."""

    def __init__(self, c):
        super().__init__()
        self.gate = nn.Linear(c.n_embd, c.n_ff, bias=False)
        self.up = nn.Linear(c.n_embd, c.n_ff, bias=False)
        self.down = nn.Linear(c.n_ff, c.n_embd, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x)), None


class MoEFFN(nn.Module):
    """qwen3moe experts: softmax router, top-k, renormalised weights.

    forward returns (y, aux) where aux is the Switch-style load-balancing
    term n_expert * sum_e(fraction_routed_e * mean_prob_e) (1.0 = balanced).
    """

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.router = nn.Linear(c.n_embd, c.n_expert, bias=False)
        self.gate = nn.Parameter(torch.empty(c.n_expert, c.n_ff, c.n_embd))
        self.up = nn.Parameter(torch.empty(c.n_expert, c.n_ff, c.n_embd))
        self.down = nn.Parameter(torch.empty(c.n_expert, c.n_embd, c.n_ff))

    def route(self, xf):
        """Return (probs [N, E] fp32, top-k ids [N, k], renormalised weights [N, k])."""
        probs = F.linear(xf.float(), self.router.weight.float()).softmax(-1)
        w, ids = probs.topk(self.c.n_expert_used, dim=-1)
        return probs, ids, w / w.sum(-1, keepdim=True)

    def forward(self, x):
        c = self.c
        shape = x.shape
        xf = x.reshape(-1, c.n_embd)
        probs, ids, w = self.route(xf)
        out = torch.zeros_like(xf)
        # unbind once: indexing self.gate[e] per expert would make autograd build
        # and sum a full-size gradient for every slice.
        gates, ups, downs = self.gate.unbind(0), self.up.unbind(0), self.down.unbind(0)
        for e in range(c.n_expert):
            tok, slot = (ids == e).nonzero(as_tuple=True)
            if tok.numel() == 0:
                continue
            xe = xf.index_select(0, tok)
            h = F.silu(F.linear(xe, gates[e])) * F.linear(xe, ups[e])
            ye = F.linear(h, downs[e]) * w[tok, slot, None].to(h.dtype)
            out.index_add_(0, tok, ye.to(out.dtype))
        frac = F.one_hot(ids, c.n_expert).sum(1).float().mean(0) / c.n_expert_used
        aux = c.n_expert * (frac * probs.mean(0)).sum()
        return out.view(shape), aux


class Block(nn.Module):
    """Pre-norm transformer block: attention then FFN, both residual."""

    def __init__(self, c):
        super().__init__()
        self.attn_norm = RMSNorm(c.n_embd, c.eps)
        self.attn = Attention(c)
        self.ffn_norm = RMSNorm(c.n_embd, c.eps)
        self.ffn = MoEFFN(c) if c.arch == "qwen3moe" else DenseFFN(c)

    def forward(self, x, cos, sin, mask, cache=None):
        h = x + self.attn(self.attn_norm(x), cos, sin, mask, cache)
        y, aux = self.ffn(self.ffn_norm(h))
        return h + y, aux


class Model(nn.Module):
    """The whole network; forward(ids, pos, doc) -> (logits, aux_loss)."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embd = nn.Embedding(c.n_vocab, c.n_embd)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.n_layer))
        self.out_norm = RMSNorm(c.n_embd, c.eps)
        self.output = None if c.tied else nn.Linear(c.n_embd, c.n_vocab, bias=False)
        self._init()

    def _init(self):
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)
            if name.endswith(("attn.o.weight", "ffn.down.weight", "ffn.down")):
                with torch.no_grad():
                    p.mul_(1.0 / math.sqrt(2 * self.c.n_layer))

    def output_weight(self):
        """The output matrix [n_vocab, n_embd] (the embedding table when tied)."""
        return self.embd.weight if self.output is None else self.output.weight

    def forward(self, ids, doc=None, cache=None, hidden=False):
        """ids [B, T] long; doc [B, T] document ids (training; no cache): a
        token attends only to earlier tokens of its document.  cache: None, or a list (one dict per
        layer, initially empty dicts) holding the keys/values of earlier
        calls; positions then continue after the cached tokens.
        Returns (logits [B, T, n_vocab] fp32, mean aux load-balancing loss);
        hidden=True returns the normalised final hidden states [B, T, n_embd]
        instead of the logits (for chunked_cross_entropy)."""
        B, T = ids.shape
        past = cache[0]["k"].shape[1] if cache and "k" in cache[0] else 0
        pos = torch.arange(past, past + T).expand(B, T)
        if doc is not None and cache is None:
            mask = doc_blocks(doc)
        else:
            mask = torch.ones(T, past + T, dtype=torch.bool).tril(past)[None, None]
        cos, sin = rope_tables(self.c.head_dim, past + T, self.c.rope_base)
        cos, sin = cos[pos], sin[pos]
        x = self.embd(ids)
        aux = []
        for i, blk in enumerate(self.blocks):
            x, a = blk(x, cos, sin, mask, None if cache is None else cache[i])
            if a is not None:
                aux.append(a)
        x = self.out_norm(x)
        aux = torch.stack(aux).mean() if aux else torch.zeros(())
        if hidden:
            return x, aux
        w = self.output_weight()
        return F.linear(x, w.to(x.dtype)).float(), aux

    def param_counts(self):
        """Return {"total", "active", "embedding"} parameter counts.

        active = parameters touched per token: everything except the unused
        experts and the embedding table (its one row is a copy, not compute);
        the output matrix counts as active (tied or not).
        """
        c = self.c
        total = sum(p.numel() for p in self.parameters())
        emb = self.embd.weight.numel()
        active = total - emb
        if c.arch == "qwen3moe":
            per_expert = 3 * c.n_ff * c.n_embd
            active -= c.n_layer * (c.n_expert - c.n_expert_used) * per_expert
        if c.tied:
            active += emb
        return {"total": total, "active": active, "embedding": emb}
