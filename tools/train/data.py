"""Training examples (plain, FIM PSM/SPM, ChatML refactor) and packed shards.

Byte formats are specified in FORMATS.md; this module is their reference
implementation (metrics.py and the server must build prompts the same way).

Every example is a list of token ids plus a loss mask (1 = train on the
prediction of this token).  Text between special tokens is encoded exactly
as llama.cpp does with parse_special = true on the whole prompt string.

Shards: examples are packed into sequences of SEQ+1 tokens; each example is
its own document (the trainer masks attention across documents), an example
that does not fit the space left is replaced by a plain-code chunk of exactly
that length, so there is no padding.  A shard is an .npz with
  ids  uint16 [N, SEQ+1]   tokens
  mask uint8  [N, SEQ]     1 where target ids[:, 1:] is trained
  doc  uint8  [N, SEQ]     document index of each input position
  kind uint8  [N, SEQ]     KINDS index of the document of each position
Shard k is generated from seed (SEED, split, k) only.

Usage: python3 tools/train/data.py --split train --shards 0:40 [--jobs 2]
"""
import argparse
import json
import multiprocessing
import os
import random
import re
import sys

import numpy as np

from refactor import FUNC_RE, make_refactor
from tokenizer import Tokenizer

SEED = 4321
SEQ = 1024
SEQS_PER_SHARD = 1024
KINDS = ("lm", "psm", "spm", "refactor")
KIND_WEIGHTS = (0.2, 0.22, 0.22, 0.36)
FIM_MODES = (("line_rest", 0.35), ("next_line", 0.25), ("block", 0.2), ("span", 0.2))
REPO_CONTEXT_P = 0.1
SYSTEM = "You rewrite code as instructed. Reply with the rewritten code only."
REFACTOR_LANGS = ("c", "cpp", "python", "javascript", "typescript", "go", "rust", "lua")


def weighted(rng, pairs):
    """Pick a key from [(key, weight)]."""
    r = rng.random() * sum(w for _, w in pairs)
    for k, w in pairs:
        r -= w
        if r < 0:
            return k
    return pairs[-1][0]


# ---------------------------------------------------------------- prompts

def fim_tokens(tok, prefix, suffix, middle=None, order="psm", context=()):
    """Return (ids, n_prompt) of a FIM example.

    context: [(path, content)] repo-context blocks, each encoded as
    <|file_sep|>{path}\\n{content}.  order "psm":
    <|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>M<|endoftext|>; "spm":
    <|fim_suffix|>S<|fim_prefix|>P<|fim_middle|>M<|endoftext|>.
    middle None: prompt only (ends with <|fim_middle|>).
    n_prompt = number of ids up to and including <|fim_middle|>.
    """
    sp = tok.special
    ids = []
    for path, content in context:
        ids += [sp("<|file_sep|>")] + tok.encode(f"{path}\n{content}")
    p, s = tok.encode(prefix), tok.encode(suffix)
    if order == "psm":
        ids += [sp("<|fim_prefix|>")] + p + [sp("<|fim_suffix|>")] + s
    else:
        ids += [sp("<|fim_suffix|>")] + s + [sp("<|fim_prefix|>")] + p
    ids.append(sp("<|fim_middle|>"))
    n_prompt = len(ids)
    if middle is not None:
        ids += tok.encode(middle) + [sp("<|endoftext|>")]
    return ids, n_prompt


def chat_prompt(instruction, filetype, code):
    """Return the ChatML refactor prompt string (ends with 'assistant\\n')."""
    return (f"<|im_start|>system\n{SYSTEM}<|im_end|>\n"
            f"<|im_start|>user\n{instruction}\n```{filetype}\n{code}\n```<|im_end|>\n"
            f"<|im_start|>assistant\n")


def chat_answer(filetype, rewritten):
    """Return the expected assistant reply string (ends with <|im_end|>)."""
    return f"```{filetype}\n{rewritten}\n```<|im_end|>"


def refactor_tokens(tok, instruction, filetype, code, rewritten):
    """Return (ids, n_prompt): the whole exchange tokenized as one string with
    special tokens parsed; n_prompt = ids of the prompt (no loss there)."""
    prompt = tok.encode_special(chat_prompt(instruction, filetype, code))
    full = tok.encode_special(chat_prompt(instruction, filetype, code)
                              + chat_answer(filetype, rewritten))
    assert full[:len(prompt)] == prompt
    return full, len(prompt)


# ---------------------------------------------------------------- FIM cuts

def fim_cut(text, rng, mode):
    """Return (prefix, middle, suffix) with prefix+middle+suffix == text, or
    None.  Modes (FORMATS.md): line_rest = the rest of a line from a cursor
    inside it; next_line = one whole line (its indentation in the prefix half
    the time); block = 2-8 whole lines; span = 1-300 random characters.
    Line middles never include the newline that ends them."""
    lines = text.split("\n")
    starts, pos = [], 0
    for l in lines:
        starts.append(pos)
        pos += len(l) + 1
    good = [i for i, l in enumerate(lines) if len(l.strip()) >= 2]
    if not good:
        return None
    if mode == "span":
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randint(1, 300))
        return text[:a], text[a:b], text[b:]
    i = rng.choice(good)
    line = lines[i]
    ind = len(line) - len(line.lstrip())
    if mode == "line_rest":
        c = rng.randint(ind, len(line) - 1)
        a, b = starts[i] + c, starts[i] + len(line)
    else:
        k = 1 if mode == "next_line" else rng.randint(2, 8)
        j = min(len(lines) - 1, i + k - 1)
        a = starts[i] + (ind if rng.random() < 0.5 else 0)
        b = starts[j] + len(lines[j])
    return text[:a], text[a:b], text[b:]


def trim_lines(s, max_chars, from_end):
    """Keep at most max_chars of s, cut at a line boundary (keep the end of s
    when from_end, else its beginning)."""
    if len(s) <= max_chars:
        return s
    if from_end:
        t = s[-max_chars:]
        nl = t.find("\n")
        return t[nl + 1:] if 0 <= nl < len(t) - 1 else t
    t = s[:max_chars]
    nl = t.rfind("\n")
    return t[:nl + 1] if nl > 0 else t


# ---------------------------------------------------------------- builder

class Builder:
    """Draws examples from one corpus split with a given random generator."""

    def __init__(self, tok, records):
        self.tok = tok
        self.recs = records
        self.by_pkg = {}
        for i, r in enumerate(records):
            self.by_pkg.setdefault(r["pkg"], []).append(i)
        self.ref_recs = [i for i, r in enumerate(records) if r["lang"] in REFACTOR_LANGS]

    def lm(self, rng, budget):
        """Plain code: a file from a line start, up to budget tokens."""
        r = self.recs[rng.randrange(len(self.recs))]
        text = r["text"]
        if rng.random() < 0.5 and len(text) > 1000:
            cut = text.find("\n", rng.randrange(len(text) - 500)) + 1
            text = text[cut:]
        ids = self.tok.encode(text[:budget * 6])
        if len(ids) < budget:
            ids.append(self.tok.special("<|endoftext|>"))
        ids = ids[:budget]
        return ids, [1] * len(ids)

    def fim(self, rng, budget, order):
        """A FIM example in order "psm"/"spm" fitting budget tokens, or None."""
        r = self.recs[rng.randrange(len(self.recs))]
        cut = fim_cut(r["text"], rng, weighted(rng, FIM_MODES))
        if cut is None:
            return None
        pre, mid, suf = cut
        pre = trim_lines(pre, rng.randint(400, 4 * budget), True)
        suf = trim_lines(suf, rng.randint(0, 2 * budget), False)
        context = []
        sibs = self.by_pkg[r["pkg"]]
        if rng.random() < REPO_CONTEXT_P and len(sibs) > 1:
            o = self.recs[rng.choice(sibs)]
            if o is not r:
                context = [(o["path"], trim_lines(o["text"], rng.randint(300, 2000), False))]
        tok = self.tok
        m = tok.encode(mid)
        if len(m) > budget // 3:
            return None
        ids, n_prompt = fim_tokens(tok, pre, suf, mid, order, context)
        while len(ids) > budget and (pre or suf or context):
            over = len(ids) - budget
            if context:
                context = []
            elif len(pre) > len(suf):
                pre = pre[min(len(pre), over * 4):]
            else:
                suf = suf[:max(0, len(suf) - over * 4)]
            ids, n_prompt = fim_tokens(tok, pre, suf, mid, order, context)
        if len(ids) > budget:
            return None
        return ids, [1] * len(ids)

    def snippet(self, rng):
        """A code snippet (3-40 lines, usually starting at a function) and
        its language, or None."""
        r = self.recs[rng.choice(self.ref_recs)]
        lines = r["text"].split("\n")
        rx = FUNC_RE.get(r["lang"])
        defs = [i for i, l in enumerate(lines) if rx and rx.match(l)]
        if defs and rng.random() < 0.8:
            s = rng.choice(defs)
        else:
            tops = [i for i, l in enumerate(lines) if l[:1].strip()]
            if not tops:
                return None
            s = rng.choice(tops)
        u = rng.random()
        n = rng.randint(20, 40) if u < 0.5 else rng.randint(8, 20) if u < 0.8 else rng.randint(3, 8)
        chunk = lines[s:s + n]
        while chunk and not chunk[-1].strip():
            chunk.pop()
        if len(chunk) < 3 or len("\n".join(chunk)) > 2400:
            return None
        return "\n".join(chunk), r["lang"]

    def refactor(self, rng, budget):
        """A ChatML refactor example fitting budget tokens, or None."""
        sn = self.snippet(rng)
        if sn is None:
            return None
        code, lang = sn
        res = make_refactor(code, lang, rng)
        if res is None:
            return None
        ids, n_prompt = refactor_tokens(self.tok, res[0], lang, code, res[1])
        if len(ids) > budget:
            return None
        return ids, [0] * n_prompt + [1] * (len(ids) - n_prompt)

    def example(self, rng, kind, budget):
        """An example of kind (KINDS) within budget tokens, or None."""
        if kind == "lm":
            return self.lm(rng, budget)
        if kind in ("psm", "spm"):
            return self.fim(rng, budget, kind)
        return self.refactor(rng, budget)


def pack_sequence(builder, rng):
    """Return (ids [SEQ+1], mask [SEQ], doc [SEQ], kind [SEQ]) numpy arrays."""
    ids, mask, doc, kind = [], [], [], []
    d = 0
    while len(ids) < SEQ + 1:
        room = SEQ + 1 - len(ids)
        k = weighted(rng, list(zip(KINDS, KIND_WEIGHTS))) if room >= 128 else "lm"
        ex = None
        for _ in range(3):
            ex = builder.example(rng, k, room)
            if ex is not None:
                break
        if ex is None:
            k = "lm"
            ex = builder.lm(rng, room)
        e_ids, e_mask = ex
        ids += e_ids
        mask += [0] + e_mask[1:]      # never predict a document's first token
        doc += [d] * len(e_ids)
        kind += [KINDS.index(k)] * len(e_ids)
        d += 1
    ids = np.array(ids[:SEQ + 1], dtype=np.uint16)
    # mask[t] refers to target ids[t+1]; a target in another document is off.
    m = np.array(mask[1:SEQ + 1], dtype=np.uint8)
    docs = np.array(doc[:SEQ + 1])
    m[docs[1:] != docs[:-1]] = 0
    return ids, m, docs[:SEQ].astype(np.uint8), np.array(kind[:SEQ], dtype=np.uint8)


def load_split(corpus, split):
    """Return the records of corpus/<split>.jsonl."""
    with open(os.path.join(corpus, f"{split}.jsonl")) as f:
        return [json.loads(line) for line in f]


_G = {}


def _init_worker(corpus, split, tokenizer):
    _G["builder"] = Builder(Tokenizer.load(tokenizer), load_split(corpus, split))


def make_shard(args):
    """Write shard k of split to out_dir (skip if present); return its path."""
    split, k, out_dir = args
    path = os.path.join(out_dir, f"{split}-{k:05d}.npz")
    if os.path.exists(path):
        return path
    rng = random.Random(f"{SEED}:{split}:{k}")
    rows = [pack_sequence(_G["builder"], rng) for _ in range(SEQS_PER_SHARD)]
    tmp = path + ".tmp.npz"
    np.savez(tmp, **{name: np.stack([r[i] for r in rows])
                     for i, name in enumerate(("ids", "mask", "doc", "kind"))})
    os.replace(tmp, path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--tokenizer", default="corpus/tokenizer.json")
    ap.add_argument("--out", default="tools/train/work/data")
    ap.add_argument("--split", default="train")
    ap.add_argument("--shards", default="0:8", help="range a:b of shard indices")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    a, b = (int(x) for x in args.shards.split(":"))
    jobs = [(args.split, k, args.out) for k in range(a, b)]
    with multiprocessing.Pool(args.jobs, _init_worker,
                              (args.corpus, args.split, args.tokenizer)) as pool:
        for path in pool.imap(make_shard, jobs):
            print(path, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
