#!/bin/sh
# spec.sh — `flint generate --spec ...` end to end ($FLINT_BIN): the same ids
# as plain greedy decoding in every mode, counters on stderr, clear refusals.
BIN=${FLINT_BIN:-build/flint}
M=tests/fixtures/models
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

check() { # description, then a command that must succeed
  d=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok - $d"; else echo "not ok - $d"; fi
}

P=514,285,268,100,100,40,97,44,300,342,258,427,65,100,100,263,119,111,304,383,98,269,115,46,364,34,10,258,339,32,516
T=$M/tiny-qwen3moe.F32.gguf
"$BIN" generate --model $T --tokens $P -n 48 -t 1 >"$TMP/plain" 2>/dev/null
for mode in ngram self draft auto ngram+draft draft,self; do
  "$BIN" generate --model $T --tokens $P -n 48 -t 1 --spec $mode --draft $M/tiny-qwen3moe.Q8_0.gguf \
    >"$TMP/out" 2>"$TMP/err"
  check "--spec $mode: the same ids as plain greedy decoding" cmp -s "$TMP/plain" "$TMP/out"
done
check "... with acceptance counters on stderr" grep -q "drafted [0-9]*, accepted [0-9]* (acceptance" "$TMP/err"
"$BIN" generate --model $T --tokens $P -n 20 -t 1 >"$TMP/plain20" 2>/dev/null
"$BIN" generate --model $T --tokens $P -n 20 -t 1 --spec draft --draft $M/tiny-llama.Q4_0.gguf --draft-max 3 \
  >"$TMP/out" 2>/dev/null
check "--draft-max with an unrelated draft model: still exact" cmp -s "$TMP/plain20" "$TMP/out"
"$BIN" generate --model $T --tokens $P -n 20 -t 1 --spec draft >/dev/null 2>"$TMP/err"
rc=$?
check "--spec draft without --draft is a usage error (2)" test $rc = 2
check "... saying so" grep -q "needs --draft" "$TMP/err"
"$BIN" generate --model $T --tokens $P -n 20 --spec fast >/dev/null 2>"$TMP/err"
check "an unknown --spec mode is a usage error (2)" test $? = 2
# the same model with one token text changed
python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(d.replace(b"<|fim_pad|>", b"<|fim_paD|>", 1))' \
  $T "$TMP/other.gguf"
"$BIN" generate --model $T --tokens $P -n 20 --spec draft --draft "$TMP/other.gguf" >/dev/null 2>"$TMP/err"
rc=$?
check "a draft model with another vocabulary is refused (1)" test $rc = 1
check "... naming the token" grep -q "draft model: token 517 differs" "$TMP/err"
"$BIN" generate --model $T --tokens $P -n 200 --temp 0.8 --seed 3 -t 1 --spec auto >"$TMP/out" 2>/dev/null
check "sampling with --spec auto gives 200 ids" test "$(wc -w <"$TMP/out")" = 200
