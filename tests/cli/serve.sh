#!/bin/sh
# serve.sh — `flint serve` from the command line ($FLINT_BIN): flags, config,
# the default model next to the binary, no model, file input and output,
# EOF, and nothing but protocol bytes on stdout.
BIN=${FLINT_BIN:-build/flint}
M=tests/fixtures/models/tiny-qwen3.F32.gguf
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

check() { # description, then a command that must succeed
  d=$1; shift
  if "$@" >/dev/null 2>&1; then echo "ok - $d"; else echo "not ok - $d"; fi
}
# run_serve OUT ERR ARGS... < input: the exit status in $TMP/rc
run_serve() {
  out=$1 err=$2; shift 2
  timeout 20 "$BIN" serve "$@" >"$out" 2>"$err"
  echo $? >"$TMP/rc"
}

"$BIN" serve --help >"$TMP/help" 2>&1
check "--help exits 0 with the usage" grep -q "usage: flint serve" "$TMP/help"
"$BIN" serve --bogus </dev/null >/dev/null 2>"$TMP/err"; rc=$?
check "an unknown option exits 2" test "$rc" = 2
check "... naming it" grep -q "unknown option '--bogus'" "$TMP/err"
"$BIN" serve --framing xml </dev/null >/dev/null 2>&1; rc=$?
check "a bad --framing exits 2" test "$rc" = 2
"$BIN" serve --threads 0 </dev/null >/dev/null 2>&1; rc=$?
check "--threads 0 is refused" test "$rc" = 2

# JSON over a pipe: two requests, then EOF
printf '[1,{"method":"initialize","params":{"client":"sh"}}]\n[2,{"method":"stats"}]\n' |
  run_serve "$TMP/out" "$TMP/err" --model $M
check "EOF after the requests: exit 0" test "$(cat "$TMP/rc")" = 0
check "both requests answered, one JSON line each" test "$(wc -l <"$TMP/out")" = 2
check "initialize names the model" grep -q '^\[1,{"result":{"version":"[^"]*","model":{"name":"tiny-qwen3"' "$TMP/out"
check "stats answered" grep -q '^\[2,{"result":{"uptime_ms"' "$TMP/out"

# a regular file as stdin and as stdout
printf '[1,{"method":"complete","params":{"buf":1,"prefix":"x = ","max_tokens":3,"id":9}}]\n[2,{"method":"shutdown"}]\n' >"$TMP/req.json"
timeout 20 "$BIN" serve --model $M <"$TMP/req.json" >"$TMP/file.out" 2>"$TMP/err"; rc=$?
check "file input and output: exit 0" test "$rc" = 0
check "file input and output: the completion was answered" grep -q '^\[1,{"result":{"id":9}}\]$' "$TMP/file.out"
check "file input and output: shutdown answered" grep -q '^\[2,{"result":{}}\]$' "$TMP/file.out"

# no model: the server still runs and says why
printf '[1,{"method":"initialize"}]\n[2,{"method":"complete","params":{"buf":1,"prefix":"x"}}]\n' |
  run_serve "$TMP/out" "$TMP/err" --model "$TMP/missing.gguf"
check "missing model: exit 0 at EOF" test "$(cat "$TMP/rc")" = 0
check "missing model: initialize has model null and the error" grep -q '"model":null.*"error":".*missing.gguf' "$TMP/out"
check "missing model: complete is refused with the reason" grep -q '^\[2,{"error":"complete: no model: .*missing.gguf' "$TMP/out"
check "missing model: one line on stderr" grep -q "flint serve: .*missing.gguf" "$TMP/err"

# the default model is found in models/ next to the binary's folder
mkdir -p "$TMP/repo/build" "$TMP/repo/models"
cp "$BIN" "$TMP/repo/build/flint"
cp $M "$TMP/repo/models/flint-coder-moe.Q8_0.gguf"
printf '[1,{"method":"initialize"}]\n' | timeout 20 "$TMP/repo/build/flint" serve >"$TMP/out" 2>"$TMP/err"
check "without --model: build/../models/flint-coder-moe.Q8_0.gguf is used" \
  grep -q "\"path\":\"$TMP/repo/build/../models/flint-coder-moe.Q8_0.gguf\"" "$TMP/out"

# config file: settings and errors
printf 'model = %s\nframing = json\nslots = 2\n' "$M" >"$TMP/ok.conf"
printf '[1,{"method":"initialize"}]\n' | run_serve "$TMP/out" "$TMP/err" --config "$TMP/ok.conf"
check "--config: the model comes from the file" grep -q '"name":"tiny-qwen3"' "$TMP/out"
printf 'colour = blue\n' >"$TMP/bad.conf"
"$BIN" serve --config "$TMP/bad.conf" </dev/null >/dev/null 2>"$TMP/err"; rc=$?
check "--config with an unknown key exits 2" test "$rc" = 2
check "... naming file, line and key" grep -q "bad.conf:1: unknown key 'colour'" "$TMP/err"
"$BIN" serve --config "$TMP/none.conf" </dev/null >/dev/null 2>&1; rc=$?
check "--config with a missing file exits 2" test "$rc" = 2
mkdir -p "$TMP/xdg/flint"
printf 'model = %s\n' "$M" >"$TMP/xdg/flint/serve.conf"
printf '[1,{"method":"initialize"}]\n' | XDG_CONFIG_HOME="$TMP/xdg" timeout 20 "$BIN" serve >"$TMP/out" 2>/dev/null
check "the default config file (\$XDG_CONFIG_HOME/flint/serve.conf) is read" grep -q '"name":"tiny-qwen3"' "$TMP/out"

# --framing msgpack refuses JSON bytes without crashing
printf '[1,{"method":"stats"}]\n' | run_serve "$TMP/out" "$TMP/err" --model $M --framing msgpack
check "JSON bytes to a msgpack server: clean exit" test "$(cat "$TMP/rc")" = 0

# scanner settings from the config file
printf 'scan.secret = sometimes\n' >"$TMP/scan-bad.conf"
"$BIN" serve --config "$TMP/scan-bad.conf" </dev/null >/dev/null 2>"$TMP/err"; rc=$?
check "a bad scan.* setting exits 1" test "$rc" = 1
check "... saying it is the scanner configuration" grep -q "scanner configuration" "$TMP/err"
printf 'scan.npm-token = halt\nmodel = %s\n' "$M" >"$TMP/scan.conf"
printf '[1,{"method":"scan","params":{"text":"npm_token: %s","role":"output"}}]\n' "'npm_hK0FJXBYCkejhEMY4Kp6bOOZn1DlfBOmtbJY'" |
  run_serve "$TMP/out" "$TMP/err" --config "$TMP/scan.conf"
check "scan.RULE = ACTION reaches the scanner" grep -q '"rule":"npm-token".*"action":"halt"' "$TMP/out"
check "... and the secret is not echoed" sh -c "! grep -q hK0FJXBY '$TMP/out'"
