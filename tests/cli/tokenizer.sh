#!/bin/sh
# tokenizer.sh — `flint tokenize` / `flint detokenize` end to end ($FLINT_BIN).
BIN=${FLINT_BIN:-build/flint}
V=tests/fixtures/vocab
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

check() { # description, then a command that must succeed
  d=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok - $d"; else echo "not ok - $d"; fi
}

printf 'int main(void) {\n    return 0;\n}\n' | "$BIN" tokenize --model $V/ggml-vocab-tiny-bpe.gguf >"$TMP/ids"
check "tokenize prints llama.cpp's ids on one line" \
  test "$(cat "$TMP/ids")" = "386 293 97 259 40 118 475 41 396 10 258 339 32 48 59 10 125 10"

printf 'int main(void) {\n    return 0;\n}\n' | "$BIN" tokenize --model tests/fixtures/models/tiny-qwen2.Q8_0.gguf >"$TMP/ids2"
check "a full model file works as well (same embedded tokenizer)" cmp -s "$TMP/ids" "$TMP/ids2"

printf '<|endoftext|>' | "$BIN" tokenize --model $V/ggml-vocab-tiny-bpe.gguf --parse-special >"$TMP/sp"
printf '<|endoftext|>' | "$BIN" tokenize --model $V/ggml-vocab-tiny-bpe.gguf >"$TMP/nosp"
check "--parse-special maps control-token text to its id" test "$(cat "$TMP/sp")" = "513"
check "without it the text is plain" test "$(cat "$TMP/nosp")" = "60 124 371 111 102 116 457 124 62"

printf 'Hello' | "$BIN" tokenize --model $V/ggml-vocab-llama-spm.gguf --add-special >"$TMP/bos"
check "--add-special prepends BOS for SentencePiece" test "$(cut -d' ' -f1 "$TMP/bos")" = "1"

printf '' | "$BIN" tokenize --model $V/ggml-vocab-gpt-2.gguf >"$TMP/empty"
check "empty input gives an empty line" test "$(cat "$TMP/empty")" = ""

for vocab in starcoder llama-spm; do
  "$BIN" tokenize --model $V/ggml-vocab-$vocab.gguf <$V/README.md | tr ' ' ',' >"$TMP/rt.ids"
  "$BIN" detokenize --model $V/ggml-vocab-$vocab.gguf --tokens "$(cat "$TMP/rt.ids")" >"$TMP/rt.txt"
  check "$vocab: detokenize(tokenize(README.md)) is the file" cmp -s $V/README.md "$TMP/rt.txt"
done

"$BIN" detokenize --model $V/ggml-vocab-tiny-bpe.gguf --tokens 120,240,159 >"$TMP/partial"
check "detokenize ends a cut character with U+FFFD" test "$(od -An -tx1 "$TMP/partial" | tr -d ' \n')" = "78efbfbd"
check "detokenize hides control tokens" test "$("$BIN" detokenize --model $V/ggml-vocab-tiny-bpe.gguf --tokens 513,120)" = "x"
check "... and shows them with --special" \
  test "$("$BIN" detokenize --model $V/ggml-vocab-tiny-bpe.gguf --tokens 513,120 --special)" = "<|endoftext|>x"

"$BIN" detokenize --model $V/ggml-vocab-tiny-bpe.gguf --tokens 1,99999 >/dev/null 2>"$TMP/err"
rc=$?
check "an out-of-range id fails with status 1" test $rc = 1
check "... naming the id" grep -q 99999 "$TMP/err"
"$BIN" tokenize </dev/null >/dev/null 2>&1
check "tokenize without --model is a usage error (2)" test $? = 2
"$BIN" tokenize --model /nonexistent.gguf </dev/null >/dev/null 2>"$TMP/err2"
rc=$?
check "an unreadable model fails with status 1 and a message" test $rc = 1 -a -s "$TMP/err2"
"$BIN" tokenize --model $V/ggml-vocab-gpt-2.gguf --bogus </dev/null >/dev/null 2>&1
check "an unknown option is a usage error (2)" test $? = 2
