#!/bin/sh
# bench_serve.sh — typing latency of `flint serve` over msgpack-RPC: 200
# keystrokes typed through a real source file (bench/serve_keys.c), each
# request run to its end, time from request to first chunk and to the final
# chunk, measured by the client. Three runs in one go: prompt cache on, cache
# off, and cache on with the other FIM order (PSM vs SPM). Uses the default
# model (models/flint-coder-moe*.gguf), else a fixture model (noted).
# Writes bench/results/serve.json and prints a table.
#   SERVE_MODEL=path  SERVE_KEYS=200  SERVE_SOURCE=csrc/rpc/reader.c  FLINT_THREADS=2
ROOT=${FLINT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$ROOT" || exit 1
export FLINT_BIN=${FLINT_BIN:-$ROOT/build/flint}
BUILD=${FLINT_BUILD:-$ROOT/build}
OUT=bench/results/serve.json
KEYS=${SERVE_KEYS:-200}
SRC=${SERVE_SOURCE:-csrc/rpc/reader.c}
THREADS=${FLINT_THREADS:-$(nproc)}
MODEL=${SERVE_MODEL:-$(ls models/flint-coder-moe.Q8_0.gguf models/flint-coder-moe*.gguf 2>/dev/null | head -1)}
NOTE=""
if [ -z "$MODEL" ]; then
  MODEL=tests/fixtures/models/small-qwen3moe.Q8_0.gguf
  NOTE="default model not found; fixture model used"
  echo "bench_serve: $NOTE ($MODEL)"
fi
mkdir -p bench/results "$BUILD"
cc -std=c11 -O2 -D_GNU_SOURCE -o "$BUILD/serve_keys" bench/serve_keys.c -lmsgpackc -ljansson || exit 1
T="$BUILD/serve_keys.tmp"
"$BUILD/serve_keys" "$SRC" "$KEYS" cache_on --model "$MODEL" --threads "$THREADS" >"$T.on" || exit 1
order=$(sed -n 's/.*"fim_order": "\([a-z]*\)".*/\1/p' "$T.on" | head -1)
other=psm; [ "$order" = psm ] && other=spm
"$BUILD/serve_keys" "$SRC" "$KEYS" cache_off --model "$MODEL" --threads "$THREADS" --no-cache >"$T.off" || exit 1
"$BUILD/serve_keys" "$SRC" "$KEYS" "cache_on_$other" --model "$MODEL" --threads "$THREADS" --fim-order "$other" >"$T.other" || exit 1
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  printf '{\n  "bench": "serve",\n  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '  "machine": {"cpu": "%s", "cores": %s, "threads": %s},\n' "$cpu" "$(nproc)" "$THREADS"
  printf '  "model": "%s",\n  "note": "%s",\n' "$MODEL" "$NOTE"
  printf '  "source": "%s",\n  "keystrokes": %s,\n  "fim_order": "%s",\n' "$SRC" "$KEYS" "$order"
  printf '  "goal_ms": {"first_chunk_p50": 15, "first_chunk_p95": 40},\n'
  printf '  "runs": [\n'
  sed 's/^/    /' "$T.on"; printf '    ,\n'
  sed 's/^/    /' "$T.off"; printf '    ,\n'
  sed 's/^/    /' "$T.other"
  printf '  ]\n}\n'
} >"$OUT"
rm -f "$T.on" "$T.off" "$T.other"
echo "wrote $OUT"
