#!/bin/sh
# bench_tokenizer.sh — tokenizer throughput on 1 MiB of source code, single
# thread: the fast BPE (cold word cache = first call after loading, warm =
# median of later calls) against the naive reference loop in the same run;
# both must give identical ids. Writes bench/results/tokenizer.json.
#
# Input (deterministic for a given Debian 12 install; its sha256 is recorded):
# the first 512 KiB of the top-level /usr/include/*.h files and the first
# 512 KiB of the top-level /usr/lib/python3.11/*.py files, each list sorted by
# name (LC_ALL=C) and concatenated. Falls back to this repository's csrc/ and
# tests/ sources when those folders are missing.
BUILD=${FLINT_BUILD:-build}
V=tests/fixtures/vocab
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

take() { # DIR PATTERN BYTES — sorted files of DIR matching PATTERN, concatenated, first BYTES
  find "$1" -maxdepth 1 -name "$2" -type f 2>/dev/null | LC_ALL=C sort | xargs cat 2>/dev/null | head -c "$3"
}
if [ -d /usr/include ] && [ -d /usr/lib/python3.11 ]; then
  { take /usr/include '*.h' 524288; take /usr/lib/python3.11 '*.py' 524288; } >"$TMP/input"
  desc="first 512 KiB of /usr/include/*.h + first 512 KiB of /usr/lib/python3.11/*.py (sorted by name)"
else
  { find csrc tests -name '*.[ch]' | LC_ALL=C sort | xargs cat; } | head -c 1048576 >"$TMP/input"
  desc="first 1 MiB of this repository's csrc/ and tests/ C sources (sorted by path)"
fi
sum=$(sha256sum "$TMP/input" | cut -c1-16)

cc -std=c11 -O2 -D_GNU_SOURCE -Icsrc bench/tokenizer_bench.c "$BUILD/libflint.a" \
   -lmsgpackc -luv -lutf8proc -lsodium -ljansson -lm -lpthread -o "$TMP/bench" || exit 1

set -- "$V/ggml-vocab-tiny-bpe.gguf" "$V/ggml-vocab-starcoder.gguf" "$V/ggml-vocab-deepseek-coder.gguf" \
       "$V/ggml-vocab-gpt-2.gguf" "$V/ggml-vocab-llama-spm.gguf"
flint=tests/fixtures/vocab-flint/flint-coder.vocab.gguf
[ -f "$flint" ] && set -- "$flint" "$@"

# a busy machine (load above the 2 cores) slows every column alike; say how busy it was
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)
echo "input: $desc, sha256 $sum...; load average $load"
mkdir -p bench/results
"$TMP/bench" "$TMP/input" "$desc, sha256 $sum; 1-min load average at start: $load" bench/results/tokenizer.json 7 "$@"
