#!/bin/sh
# parrot.sh — the parrot model builder (tests/tools/parrot.c), which the
# editor suites use to make `flint serve` stream a fixed text: its greedy
# output after any prompt is the text's tokens, then end-of-text.
BIN=${FLINT_BIN:-build/flint}
PARROT=${FLINT_BUILD:-build}/tests/parrot
VOCAB=models/flint-coder-moe.Q8_0.gguf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

check() { # description, then a command that must succeed
  d=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok - $d"; else echo "not ok - $d"; fi
}

[ -x "$PARROT" ] || { echo "not ok - $PARROT missing (make test-c builds it)"; exit 1; }
TEXT='aws_key = "AKIA''QW3RT8YU2IOP5ASD"  # not a placeholder'
"$PARROT" --vocab $VOCAB --text "$TEXT" --out "$TMP/p.gguf" >"$TMP/ids"
check "parrot writes a model and prints its chain" test -s "$TMP/p.gguf" -a -s "$TMP/ids"
n=$(wc -w <"$TMP/ids")
check "the chain has distinct tokens" test "$(tr ' ' '\n' <"$TMP/ids" | sort -u | wc -l)" = "$n"
fim_mid=$(printf '<|fim_middle|>' | "$BIN" tokenize --model $VOCAB --parse-special)
"$BIN" generate --model "$TMP/p.gguf" --tokens "$fim_mid" -n "$n" >"$TMP/gen" 2>/dev/null
check "greedy output after <|fim_middle|> is the chain and end-of-text" cmp -s "$TMP/ids" "$TMP/gen"
"$BIN" generate --model "$TMP/p.gguf" --tokens 5,900,17,3000 -n "$n" >"$TMP/gen2" 2>/dev/null
check "... after any other prompt as well" cmp -s "$TMP/ids" "$TMP/gen2"
eos=$(awk '{print $NF}' "$TMP/ids")
check "the last id is the vocabulary's end-of-text token" \
  test "$(printf '<|endoftext|>' | "$BIN" tokenize --model $VOCAB --parse-special)" = "$eos"
"$BIN" detokenize --model "$TMP/p.gguf" --tokens "$(sed 's/ [0-9]*$//; s/ /,/g' "$TMP/ids")" >"$TMP/text"
check "the chain detokenizes to the text" test "$(cat "$TMP/text")" = "$TEXT"
"$BIN" info --model "$TMP/p.gguf" >"$TMP/info"
check "it is a llama model" grep -q '"arch": "llama"' "$TMP/info"
check "named like the vocabulary's model (the FIM family stays flint-coder)" grep -q '"name": "flint-coder-moe"' "$TMP/info"
"$PARROT" --vocab $VOCAB --text "" --out "$TMP/e.gguf" 2>"$TMP/err"
check "an empty text is refused" grep -q "no tokenization" "$TMP/err"
