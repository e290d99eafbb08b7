#!/bin/sh
# run.sh SECONDS fuzz_a.c fuzz_b.c ... — build each libFuzzer target against the
# flint library (clang, ASan+UBSan+fuzzer instrumentation) and run it for
# SECONDS. Corpora live in tests/fuzz/corpus-NAME/ (ignored by git), seeded
# from tests/fuzz/seeds/NAME/ when that folder exists. Crashes land in
# build-fuzz/crash-*; the script fails if any target crashed.
secs=$1; shift
B=build-fuzz
make -s BUILD=$B CC=clang OPT=-O1 \
  SAN="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer" $B/libflint.a || exit 1
status=0
for src in "$@"; do
  name=$(basename "$src" .c)
  clang -std=c11 -O1 -g -D_GNU_SOURCE -Icsrc -fsanitize=address,undefined,fuzzer \
    "$src" $B/libflint.a -o $B/$name \
    -lmsgpackc -luv -lutf8proc -lsodium -ljansson -lm -lpthread || { status=1; continue; }
  corpus=tests/fuzz/corpus-${name#fuzz_}
  mkdir -p "$corpus"
  seeds=tests/fuzz/seeds/${name#fuzz_}
  [ -d "$seeds" ] || seeds=
  echo "== $name for ${secs}s"
  # (the pipe's status is tail's: the target's own goes through a file)
  (cd $B && ./$name -max_total_time="$secs" -print_final_stats=1 \
      -artifact_prefix=./crash-$name- ../"$corpus" ${seeds:+../$seeds}; echo $? >$name.rc) 2>&1 | tail -15
  [ "$(cat $B/$name.rc)" = 0 ] || status=1
done
exit $status
