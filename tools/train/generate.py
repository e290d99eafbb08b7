"""Greedy decoding with the PyTorch reference model (KV cache, batch of one).

Usage as a tool:
  python3 tools/train/generate.py MODEL.gguf --fim-prefix 'def f(' --fim-suffix '' [--spm]
  python3 tools/train/generate.py MODEL.gguf --refactor FILE --instruction 'rename a to b' --filetype python
"""
import argparse
import sys

import torch

from data import chat_prompt, fim_tokens
from gguf_model import load_gguf_model
from tokenizer import Tokenizer


@torch.no_grad()
def greedy(model, prompt, max_new, stop_ids=(), stop_fn=None):
    """Return the greedily generated ids after prompt (stop token excluded).

    Stops at a token in stop_ids, after max_new tokens, or when
    stop_fn(generated ids) is true.  Ties go to the lowest id (torch.argmax).
    """
    cache = [{} for _ in model.blocks]
    logits, _ = model(torch.tensor([prompt]), cache=cache)
    out = []
    for _ in range(max_new):
        nxt = int(logits[0, -1].argmax())
        if nxt in stop_ids:
            break
        out.append(nxt)
        if stop_fn is not None and stop_fn(out):
            break
        logits, _ = model(torch.tensor([[nxt]]), cache=cache)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--fim-prefix")
    ap.add_argument("--fim-suffix", default="")
    ap.add_argument("--spm", action="store_true")
    ap.add_argument("--refactor", help="file with the code to rewrite")
    ap.add_argument("--instruction")
    ap.add_argument("--filetype", default="")
    ap.add_argument("--max-new", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, _ = load_gguf_model(args.model)
    tok = Tokenizer.from_gguf(args.model)
    if args.refactor:
        with open(args.refactor) as f:
            code = f.read().rstrip("\n")
        prompt = tok.encode_special(chat_prompt(args.instruction, args.filetype, code))
        stop = (tok.special("<|im_end|>"), tok.special("<|endoftext|>"))
    else:
        prompt, _ = fim_tokens(tok, args.fim_prefix, args.fim_suffix, None,
                               "spm" if args.spm else "psm")
        stop = (tok.special("<|endoftext|>"),)
    out = greedy(model, prompt, args.max_new, stop)
    sys.stdout.write(tok.decode(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
