"""Quality metrics of the shipped models (PyTorch evaluation of the GGUF files).

All examples come from the corpus *test* split with fixed seeds; definitions:

perplexity   exp(mean NLL) of plain next-token prediction over test files,
             each file cut into windows of n_ctx tokens (every token but a
             window's first is scored), at most --ppl-tokens tokens; also
             bits per byte.
next_line    FIM next-line exact match.  For --fim-n random (file, line)
             pairs, line L (>= 2 non-blank chars, not the file's first line):
             prefix = text before L + L's leading whitespace, middle = L
             without leading whitespace, suffix = "\\n" + text after L; prefix
             trimmed to its last 1024 tokens and suffix to its first 256, at
             line boundaries.  Greedy generation (<= 64 tokens) stops at
             <|endoftext|> or the first "\\n"; a hit when the text before the
             first "\\n", right-stripped, equals the middle right-stripped.
             Reported for PSM and SPM.
refactor     exact match of held-out synthetic refactors (data.py's builder on
             the test split): the greedy reply up to <|im_end|> must equal the
             expected reply byte for byte.  Also per instruction kind, and
             "rename_30" = rename on 25-35 line snippets (the acceptance case).
draft_accept greedy agreement of the draft with the MoE (PyTorch): along the
             MoE's greedy continuation (32 tokens) of each of the first 50
             next-line FIM prompts, the fraction of positions where the
             draft's arg-max equals the MoE's.  Also the mean number of
             accepted tokens per 4-token draft.

serve_em     the editor's path: --serve-n next-line cases (as above; the
             first --fim-n of them are those), --serve-n "mid-word" cases (a
             line cut inside an identifier, >= 1 of its characters typed and
             >= 1 left; middle = the rest of the line,
             suffix = "\\n" + the lines after it) and --serve-n "line-rest"
             cases (the same, cut at a random column of a line with >= 4
             non-blank characters, after its indentation), sent as `complete`
             requests to `flint serve` (JSON channel; its own prompt layout,
             token healing and stop rules), with token healing on and off
             (--no-heal).  A hit when the suggestion's first line,
             right-stripped, equals the middle right-stripped.

flint_spec   with flint: `flint generate --spec draft` on the same 50 prompts
             (32 tokens each); drafted and accepted token counts summed over
             the prompts (flint adapts the draft length).

Greedy generation for next_line and refactor runs in flint's own engine
(`build/flint generate`, the product's numerics) when --engine flint (the
default if build/flint exists), else in PyTorch.

Usage: python3 tools/train/metrics.py [--moe models/...gguf] [--draft ...]
       [--out bench/results/model.json] [--quick]
"""
import argparse
import glob
import json
import math
import os
import random
import re
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

from data import Builder, chat_answer, chat_prompt, fim_tokens, load_split, trim_lines
from generate import greedy
from gguf_model import load_gguf_model
from refactor import make_refactor, t_rename
from tokenizer import Tokenizer

SEED = 777


def pick_model(pattern):
    """Return the single models/ file matching pattern."""
    found = sorted(glob.glob(pattern))
    if not found:
        raise FileNotFoundError(pattern)
    return found[0]


@torch.no_grad()
def perplexity(model, tok, recs, max_tokens):
    """Return {"ppl", "bits_per_byte", "tokens"} over test files."""
    rng = random.Random(SEED)
    order = list(range(len(recs)))
    rng.shuffle(order)
    nll, n_tok, n_bytes = 0.0, 0, 0
    L = model.c.n_ctx
    for i in order:
        text = recs[i]["text"]
        ids = tok.encode(text)
        for s in range(0, len(ids) - 1, L):
            w = ids[s:s + L]
            if len(w) < 2:
                continue
            logits, _ = model(torch.tensor([w]))
            nll += float(F.cross_entropy(logits[0, :-1], torch.tensor(w[1:]), reduction="sum"))
            n_tok += len(w) - 1
            n_bytes += len(tok.decode_bytes(w[1:]))
        if n_tok >= max_tokens:
            break
    return {"ppl": math.exp(nll / n_tok), "bits_per_byte": nll / n_bytes / math.log(2),
            "tokens": n_tok}


def torch_generator(model):
    """Return greedy(prompt, max_new, stop_ids, stop_fn) using PyTorch."""
    return lambda prompt, max_new, stop_ids=(), stop_fn=None: greedy(model, prompt, max_new,
                                                                      stop_ids, stop_fn)


def flint_generator(flint, model_path, threads=2):
    """Return greedy(prompt, max_new, stop_ids, stop_fn) using `flint generate`
    (which always generates max_new tokens; the result is cut the same way
    as generate.greedy cuts it)."""
    def run(prompt, max_new, stop_ids=(), stop_fn=None):
        cmd = [flint, "generate", "--model", model_path, "--tokens", ",".join(map(str, prompt)),
               "-n", str(max_new), "--threads", str(threads)]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
        out = []
        for t in (int(x) for x in r.stdout.split()):
            if t in stop_ids:
                break
            out.append(t)
            if stop_fn is not None and stop_fn(out):
                break
        return out
    return run


def line_cut(lines, i, cut):
    """Return (prefix, middle, suffix) of lines[i] cut at column cut: the
    lines before it and its head, its rest, "\\n" + the lines after it
    (prefix and suffix trimmed to 6000 / 1500 characters at line bounds)."""
    prefix = trim_lines("\n".join(lines[:i]) + "\n" + lines[i][:cut], 6000, True)
    suffix = trim_lines("\n" + "\n".join(lines[i + 1:]), 1500, False)
    return prefix, lines[i][cut:], suffix


def random_line(recs, rng):
    """Return (lines, i): a random test file's lines and a random line index >= 1
    (i = 0 when the file has one line)."""
    lines = recs[rng.randrange(len(recs))]["text"].split("\n")
    return lines, rng.randrange(1, len(lines)) if len(lines) > 1 else 0


def next_line_cases(tok, recs, n):
    """Return [(prefix, middle, suffix)] per the next_line definition."""
    rng = random.Random(SEED + 1)
    cases = []
    while len(cases) < n:
        text = recs[rng.randrange(len(recs))]["text"]
        lines = text.split("\n")
        cand = [i for i in range(1, len(lines)) if len(lines[i].strip()) >= 2]
        if not cand:
            continue
        i = rng.choice(cand)
        prefix, middle, suffix = line_cut(lines, i, len(lines[i]) - len(lines[i].lstrip()))
        while len(tok.encode(prefix)) > 1024:
            prefix = trim_lines(prefix, len(prefix) * 3 // 4, True)
        while len(tok.encode(suffix)) > 256:
            suffix = trim_lines(suffix, len(suffix) * 3 // 4, False)
        cases.append((prefix, middle, suffix))
    return cases


def next_line_em(gen, tok, cases, order):
    """Return (exact-match rate, prompts) for FIM next-line cases."""
    eot = tok.special("<|endoftext|>")
    hits, prompts = 0, []
    for prefix, middle, suffix in cases:
        prompt, _ = fim_tokens(tok, prefix, suffix, None, order)
        prompts.append(prompt)
        out = gen(prompt, 64, (eot,), lambda o: "\n" in tok.decode(o[-1:]))
        got = tok.decode(out).split("\n")[0]
        hits += got.rstrip() == middle.rstrip()
    return hits / len(cases), prompts


def mid_word_cases(tok, recs, n):
    """Return [(prefix, middle, suffix)] per the serve_em mid-word definition."""
    rng = random.Random(SEED + 3)
    cases = []
    while len(cases) < n:
        lines, i = random_line(recs, rng)
        words = list(re.finditer(r"[A-Za-z_][A-Za-z0-9_]{2,}", lines[i]))
        if not i or not words:
            continue
        w = rng.choice(words)
        cases.append(line_cut(lines, i, rng.randrange(w.start() + 1, w.end())))
    return cases


def line_rest_cases(tok, recs, n):
    """Return [(prefix, middle, suffix)] per the serve_em line-rest definition:
    a line of at least 4 non-blank characters cut at a random column after
    its indentation (as the FIM training's line_rest mode cuts)."""
    rng = random.Random(SEED + 4)
    cases = []
    while len(cases) < n:
        lines, i = random_line(recs, rng)
        line = lines[i]
        ind = len(line) - len(line.lstrip())
        if not i or len(line.strip()) < 4:
            continue
        cases.append(line_cut(lines, i, rng.randrange(ind + 1, len(line))))
    return cases


def serve_em(flint, model_path, cases, heal, threads=2):
    """Return the exact-match rate of `flint serve` completions (serve_em)."""
    cmd = [flint, "serve", "--framing", "json", "--model", model_path, "--threads", str(threads)]
    proc = subprocess.Popen(cmd + ([] if heal else ["--no-heal"]), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    hits = 0
    for n, (prefix, middle, suffix) in enumerate(cases, 1):
        req = {"buf": 1, "path": "x", "prefix": prefix, "suffix": suffix, "max_tokens": 64}
        proc.stdin.write(json.dumps([n, {"method": "complete", "params": req}]) + "\n")
        proc.stdin.flush()
        job, text = None, ""
        for line in proc.stdout:
            msg = json.loads(line)
            body = msg[1]
            if msg[0] == n:
                if "error" in body:
                    raise RuntimeError(f"flint serve: {body['error']}")
                job = body["result"]["id"]
            elif body.get("method") == "chunk" and body["params"]["id"] == job:
                chunk = body["params"]
                if chunk["alt"] == 0:
                    text += chunk.get("text", "")
                    if chunk.get("done"):
                        break
        hits += text.split("\n")[0].rstrip() == middle.rstrip()
    proc.stdin.write(json.dumps([len(cases) + 1, {"method": "shutdown"}]) + "\n")
    proc.stdin.close()
    proc.wait(timeout=30)
    return hits / len(cases)


def instruction_kind(instruction):
    """Return the metric bucket of an instruction: "rename", "use double",
    "add parameter", "extract constant", ... (its first two words)."""
    words = instruction.split(" ")
    return "rename" if words[0] == "rename" else " ".join(words[:2])


def refactor_cases(tok, recs, n, rename30_n):
    """Return [(kind, prompt ids, expected reply string)] from the test split:
    n mixed refactors plus rename30_n renames of 25-35 line snippets."""
    rng = random.Random(SEED + 2)
    b = Builder(tok, recs)
    raw = []
    while len(raw) < n + rename30_n:
        sn = b.snippet(rng)
        if sn is None:
            continue
        code, lang = sn
        if len(raw) < n:
            res, kind = make_refactor(code, lang, rng), None
        elif 25 <= code.count("\n") + 1 <= 35:
            res, kind = t_rename(code, lang, rng), "rename_30"
        else:
            continue
        if res is None or res[1] == code:
            continue
        prompt = tok.encode_special(chat_prompt(res[0], lang, code))
        want = chat_answer(lang, res[1])
        if len(prompt) + len(tok.encode_special(want)) <= 1024:
            raw.append((kind or instruction_kind(res[0]), prompt, want))
    return raw


def refactor_em(gen, tok, cases):
    """Return {"all": rate, kind: rate, ...} of exact-match replies."""
    stop = (tok.special("<|im_end|>"), tok.special("<|endoftext|>"))
    per = {}
    for kind, prompt, want in cases:
        want_ids = tok.encode_special(want)
        out = gen(prompt, len(want_ids) + 16, stop)
        got = tok.decode(out) + "<|im_end|>"
        per.setdefault(kind, []).append(got == want)
    res = {k: sum(v) / len(v) for k, v in sorted(per.items())}
    allv = [x for k, v in per.items() if k != "rename_30" for x in v]
    res["all"] = sum(allv) / max(1, len(allv))
    res["counts"] = {k: len(v) for k, v in per.items()}
    return res


@torch.no_grad()
def draft_acceptance(moe, draft, prompts, n_new=32, k=4):
    """Return {"token_agreement", "mean_accepted_per_4"} along MoE greedy paths."""
    agree, total, accepted = 0, 0, []
    for prompt in prompts:
        cont = greedy(moe, prompt, n_new)
        seq = torch.tensor([prompt + cont])
        a = moe(seq)[0][0, len(prompt) - 1:-1].argmax(-1)
        d = draft(seq)[0][0, len(prompt) - 1:-1].argmax(-1)
        match = (a == d).tolist()
        agree += sum(match)
        total += len(match)
        for s in range(0, len(match) - k + 1, k):
            n = 0
            while n < k and match[s + n]:
                n += 1
            accepted.append(n)
    return {"token_agreement": agree / total,
            "mean_accepted_per_4": sum(accepted) / max(1, len(accepted))}


def flint_spec(flint, moe_path, draft_path, prompts, n_new=32):
    """Return {"drafted", "accepted", "acceptance"} of flint's draft-model
    speculative decoding over prompts."""
    drafted = accepted = 0
    for prompt in prompts:
        r = subprocess.run([flint, "generate", "--model", moe_path, "--draft", draft_path,
                            "--spec", "draft", "--tokens", ",".join(map(str, prompt)),
                            "-n", str(n_new), "--threads", "1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
        m = re.search(r"drafted (\d+), accepted (\d+)", r.stderr)
        if m:
            drafted, accepted = drafted + int(m.group(1)), accepted + int(m.group(2))
    return {"drafted": drafted, "accepted": accepted,
            "acceptance": accepted / drafted if drafted else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--moe", default=None)
    ap.add_argument("--draft", default=None)
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--out", default="bench/results/model.json")
    ap.add_argument("--ppl-tokens", type=int, default=100_000)
    ap.add_argument("--fim-n", type=int, default=200)
    ap.add_argument("--serve-n", type=int, default=800,
                    help="cases per serve_em set (fast: ~0.05 s each; 100 moves by +-4 points from noise)")
    ap.add_argument("--refactor-n", type=int, default=100)
    ap.add_argument("--rename30-n", type=int, default=30)
    ap.add_argument("--quick", action="store_true", help="small sample sizes")
    ap.add_argument("--engine", choices=("flint", "torch"), default=None,
                    help="greedy generation engine (default: flint if build/flint exists)")
    ap.add_argument("--flint", default="build/flint")
    args = ap.parse_args()
    if args.quick:
        args.ppl_tokens, args.fim_n, args.refactor_n, args.rename30_n = 20_000, 40, 30, 10
        args.serve_n = 40
    torch.set_num_threads(2)
    moe_path = args.moe or pick_model("models/flint-coder-moe.*.gguf")
    draft_path = args.draft or pick_model("models/flint-coder-draft.*.gguf")
    moe, _ = load_gguf_model(moe_path)
    draft, _ = load_gguf_model(draft_path)
    tok = Tokenizer.from_gguf(moe_path)
    recs = load_split(args.corpus, "test")
    engine = args.engine or ("flint" if os.access(args.flint, os.X_OK) else "torch")
    gen = flint_generator(args.flint, moe_path) if engine == "flint" else torch_generator(moe)
    t0 = time.time()
    res = {"moe": os.path.basename(moe_path), "draft": os.path.basename(draft_path),
           "generation_engine": engine,
           "evaluator": "perplexity and draft agreement: PyTorch forward on the dequantized "
                        "GGUF weights; greedy generation: " + engine}
    res["perplexity"] = perplexity(moe, tok, recs, args.ppl_tokens)
    res["draft_perplexity"] = perplexity(draft, tok, recs, args.ppl_tokens)
    cases = next_line_cases(tok, recs, args.fim_n)
    res["next_line_em_psm"], prompts = next_line_em(gen, tok, cases, "psm")
    res["next_line_em_spm"], _ = next_line_em(gen, tok, cases, "spm")
    res["next_line_n"] = len(cases)
    res["refactor_em"] = refactor_em(gen, tok, refactor_cases(tok, recs, args.refactor_n,
                                                              args.rename30_n))
    res["draft_acceptance"] = draft_acceptance(moe, draft, prompts[:50])
    if engine == "flint":
        res["flint_spec"] = flint_spec(args.flint, moe_path, draft_path, prompts[:50])
        lines = next_line_cases(tok, recs, args.serve_n)
        mid = mid_word_cases(tok, recs, args.serve_n)
        rest = line_rest_cases(tok, recs, args.serve_n)
        res["serve_em"] = {"n": len(lines), "mid_word_n": len(mid), "line_rest_n": len(rest)}
        for heal in (True, False):
            key = "healed" if heal else "no_heal"
            res["serve_em"]["next_line_" + key] = serve_em(args.flint, moe_path, lines, heal)
            res["serve_em"]["mid_word_" + key] = serve_em(args.flint, moe_path, mid, heal)
            res["serve_em"]["line_rest_" + key] = serve_em(args.flint, moe_path, rest, heal)
    res["seconds"] = round(time.time() - t0)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
