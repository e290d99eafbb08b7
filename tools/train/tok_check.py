"""Check the reference BPE encoder (tokenizer.py).

1. llama.cpp agreement: load the qwen2-pre-tokenizer fixture vocab
   (tests/fixtures/vocab/ggml-vocab-tiny-bpe.gguf) into our Tokenizer and
   encode its .inp strings and tests/fixtures/models/tokenize.json; every
   result must equal the ids ik_llama.cpp produced.
2. Round trip: decode(encode(text)) == text for every file of the given
   corpus splits, using our trained tokenizer; prints bytes per token.
3. With --flint: flint's C tokenizer (`flint tokenize --model M`, no special
   parsing) must produce our ids for the first --flint-files files of the
   splits.

Usage: python3 tools/train/tok_check.py [--corpus corpus] [--splits val,test]
Exit status 0 when everything passes.
"""
import argparse
import json
import subprocess
import sys

from tokenizer import Tokenizer

VOCAB = "tests/fixtures/vocab/ggml-vocab-tiny-bpe.gguf"
SEP = "\n__ggml_vocab_test__\n"


def check_llama_cpp():
    """Return the number of mismatches against the fixture references."""
    tok = Tokenizer.from_gguf(VOCAB)
    with open(VOCAB + ".inp", "rb") as f:
        texts = f.read().decode("utf-8").split(SEP)[:-1]
    with open(VOCAB + ".out") as f:
        outs = [[int(x) for x in line.split()] for line in f.read().split("\n")[:len(texts)]]
    cases = list(zip(texts, outs, [False] * len(texts)))
    with open("tests/fixtures/models/tokenize.json") as f:
        cases += [(e["text"], e["ids"], e["parse_special"]) for e in json.load(f)]
    bad = 0
    for text, want, special in cases:
        got = tok.encode_special(text) if special else tok.encode(text)
        if got != want:
            bad += 1
            print(f"MISMATCH {text!r}: got {got} want {want}")
    print(f"llama.cpp agreement: {len(cases) - bad}/{len(cases)} cases")
    return bad


def check_round_trip(tok, corpus, splits):
    """Return the number of files that do not round-trip."""
    bad = n_files = n_bytes = n_tokens = 0
    for split in splits:
        with open(f"{corpus}/{split}.jsonl") as f:
            for line in f:
                text = json.loads(line)["text"]
                ids = tok.encode(text)
                n_files, n_bytes, n_tokens = n_files + 1, n_bytes + len(text.encode()), n_tokens + len(ids)
                if tok.decode(ids) != text:
                    bad += 1
    print(f"round trip: {n_files - bad}/{n_files} files, {n_bytes / max(1, n_tokens):.2f} bytes/token")
    return bad


def check_flint(tok, flint, model, corpus, splits, n_files):
    """Return the number of files flint tokenizes differently from us."""
    bad = n = 0
    for split in splits:
        with open(f"{corpus}/{split}.jsonl") as f:
            for line in f:
                if n >= n_files:
                    break
                text = json.loads(line)["text"]
                r = subprocess.run([flint, "tokenize", "--model", model], input=text.encode(),
                                   stdout=subprocess.PIPE, check=True)
                got = [int(x) for x in r.stdout.split()]
                want = tok.encode(text)
                n += 1
                if got != want:
                    bad += 1
                    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b),
                             min(len(got), len(want)))
                    print(f"flint differs on {json.loads(line)['path']} at token {i}: "
                          f"{tok.decode(want[max(0, i - 3):i + 3])!r}: flint {got[i:i + 3]}, "
                          f"ours {want[i:i + 3]}")
    print(f"flint tokenizer agreement: {n - bad}/{n} files")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--tokenizer", default="corpus/tokenizer.json")
    ap.add_argument("--splits", default="val,test")
    ap.add_argument("--flint", help="path of build/flint: also compare its tokenizer")
    ap.add_argument("--model", default="models/flint-coder-moe.Q8_0.gguf")
    ap.add_argument("--flint-files", type=int, default=300)
    args = ap.parse_args()
    tok = Tokenizer.load(args.tokenizer)
    bad = check_llama_cpp()
    bad += check_round_trip(tok, args.corpus, args.splits.split(","))
    if args.flint:
        bad += check_flint(tok, args.flint, args.model, args.corpus, args.splits.split(","),
                           args.flint_files)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
