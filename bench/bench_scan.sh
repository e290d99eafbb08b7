#!/bin/sh
# bench_scan.sh — scanner speed, single thread, for both roles (output:
# secrets, Unicode, injection analysis; context: secrets, Unicode, prompt
# injection): MB/s over 20 MB of real source code (one stream per file,
# 64 KiB chunks, CPU time) and the latency of one scan_feed() call per
# 16-byte chunk (a completion arriving token by token). Goals: >= 200 MB/s,
# p99 <= 20 us. Driver: bench/scan_bench.c. Writes bench/results/scan.json.
#
# Input (deterministic for a given Debian 12 install): the first 10 MB of the
# *.h files under /usr/include and the first 10 MB of the *.py files under
# /usr/lib/python3.11, each list sorted by path (LC_ALL=C). Falls back to this
# repository's sources when those folders are missing.
BUILD=${FLINT_BUILD:-build}
MAX=20000000
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [ -d /usr/include ] && [ -d /usr/lib/python3.11 ]; then
  { find /usr/include -name '*.h' -type f | LC_ALL=C sort
    find /usr/lib/python3.11 -name '*.py' -type f | LC_ALL=C sort; } >"$TMP/files"
  desc="first 10 MB of /usr/include/**/*.h and first 10 MB of /usr/lib/python3.11/**/*.py (sorted by path)"
else
  find csrc tests bench -name '*.[ch]' -type f | LC_ALL=C sort >"$TMP/files"
  desc="this repository's C sources (sorted by path)"
fi

cc -std=c11 -O2 -D_GNU_SOURCE -Icsrc bench/scan_bench.c "$BUILD/libflint.a" \
   -lmsgpackc -luv -lutf8proc -lsodium -ljansson -lm -lpthread -o "$TMP/bench" || exit 1
echo "input: $desc"
mkdir -p bench/results
"$TMP/bench" bench/results/scan.json "$desc" "$MAX" <"$TMP/files"
