"""Train the byte-level BPE (qwen2 pre-tokenizer) on the corpus train split.

Sample: the train split's files in order, at most --lang-mb MB per language
(so C does not crowd out Lua).  Pre-tokens seen fewer than --min-count times
are dropped before training.  Each step merges the most frequent adjacent
pair (ties: the lexicographically smallest pair), counted over pre-token
occurrences; merges are applied to every word exactly as the encoder does.
Training stops when 256 byte tokens + learned tokens + specials = --vocab.

--from-gguf FILE skips training and writes the tokenizer stored in a GGUF
file's tokenizer.ggml.* keys instead (same tokens, ids and merge ranks).  Use it
to continue training a shipped model: its weights only fit its own vocabulary,
and a re-trained tokenizer matches it only if the corpus is byte-identical.

Usage: python3 tools/train/bpe_train.py [--corpus corpus] [--out corpus/tokenizer.json]
       python3 tools/train/bpe_train.py --from-gguf models/flint-coder-moe.Q8_0.gguf
"""
import argparse
import collections
import heapq
import json
import sys
import time

from tokenizer import BYTE_ENC, SPECIALS, Tokenizer, pretokenize


def sample_word_counts(path, lang_bytes):
    """Return a Counter of byte-unicode pre-tokens over the sampled files."""
    used = collections.Counter()
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            n = len(rec["text"])
            if used[rec["lang"]] + n > lang_bytes:
                continue
            used[rec["lang"]] += n
            counts.update(pretokenize(rec["text"]))
    print("sampled chars per language:", dict(used), flush=True)
    return counts


def train(word_counts, n_tokens, log_every=500):
    """Return (merges, tokens) with len(tokens) == n_tokens (bytes first)."""
    words = [list(w) for w in word_counts]
    freqs = list(word_counts.values())
    pair_count = collections.Counter()
    where = collections.defaultdict(set)
    for wi, (w, f) in enumerate(zip(words, freqs)):
        for a, b in zip(w, w[1:]):
            pair_count[(a, b)] += f
            where[(a, b)].add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    tokens = [BYTE_ENC[b] for b in range(256)]
    known = set(tokens)
    merges = []
    t0 = time.time()
    while len(tokens) < n_tokens and heap:
        negc, pair = heapq.heappop(heap)
        if pair_count.get(pair, 0) != -negc:
            continue                                  # stale heap entry
        if -negc <= 0:
            break
        a, b = pair
        new = a + b
        merges.append(pair)
        if new not in known:
            known.add(new)
            tokens.append(new)
        changed = set()
        for wi in list(where[pair]):
            w, f = words[wi], freqs[wi]
            for x, y in zip(w, w[1:]):
                pair_count[(x, y)] -= f
                changed.add((x, y))
            out, i = [], 0
            while i < len(w):
                if i < len(w) - 1 and w[i] == a and w[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[wi] = out
            for x, y in zip(out, out[1:]):
                pair_count[(x, y)] += f
                where[(x, y)].add(wi)
                changed.add((x, y))
        del where[pair]
        pair_count.pop(pair, None)
        for p in changed:
            c = pair_count.get(p, 0)
            if c > 0:
                heapq.heappush(heap, (-c, p))
            else:
                pair_count.pop(p, None)
        if len(merges) % log_every == 0:
            print(f"{len(merges)} merges, vocab {len(tokens)}, last {new!r} x{-negc}, "
                  f"{time.time() - t0:.0f}s", flush=True)
    return merges, tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--out", default="corpus/tokenizer.json")
    ap.add_argument("--vocab", type=int, default=8192)
    ap.add_argument("--lang-mb", type=float, default=6.0)
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--from-gguf", metavar="FILE",
                    help="write FILE's tokenizer instead of training one")
    args = ap.parse_args()
    if args.from_gguf:
        tok = Tokenizer.from_gguf(args.from_gguf)
        tok.save(args.out)
        again = Tokenizer.load(args.out)
        assert again.tokens == tok.tokens and again.merges == tok.merges
        print(f"wrote {args.out} from {args.from_gguf}: {tok.n_vocab} tokens, "
              f"{len(tok.merges)} merges")
        return 0
    counts = sample_word_counts(f"{args.corpus}/train.jsonl", int(args.lang_mb * 1e6))
    counts = collections.Counter({w: c for w, c in counts.items() if c >= args.min_count})
    print(f"{len(counts)} distinct pre-tokens", flush=True)
    merges, tokens = train(counts, args.vocab - len(SPECIALS))
    tok = Tokenizer(merges, tokens)
    tok.save(args.out)
    print(f"wrote {args.out}: {tok.n_vocab} tokens, {len(merges)} merges")
    return 0


if __name__ == "__main__":
    sys.exit(main())
