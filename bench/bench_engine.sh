#!/bin/sh
# bench_engine.sh — engine speed on real model shapes (random weights from
# `flint synth`), against this machine's read bandwidth measured in the same run.
# Writes bench/results/engine.json and prints a table. Generation (32 tokens)
# and prompt batches are each timed twice, the better run kept.
#   FLINT_ENGINE_PRESETS="qwen3-30b-a3b:12 granite-1b-a400m" to choose presets (name[:layers])
#   FLINT_ENGINE_TYPES="q4_k q8_0"
set -e
BIN=${FLINT_BIN:-build/flint}
DIR=${FLINT_BUILD:-build}
DIR=${DIR#"${FLINT_ROOT:-$(pwd)}/"}/bench-models   # repository-relative in the results
OUT=bench/results/engine.json
PRESETS=${FLINT_ENGINE_PRESETS:-"qwen3-30b-a3b:12 granite-3b-a800m granite-1b-a400m olmoe-1b-7b qwen2.5-coder-0.5b"}
TYPES=${FLINT_ENGINE_TYPES:-"q4_k q8_0"}
THREADS=${FLINT_THREADS:-2}
mkdir -p "$DIR" bench/results

bw_json=$("$BIN" bench --bandwidth --threads "$THREADS")
bw=$(echo "$bw_json" | sed 's/.*"bandwidth_bytes_per_s": *\([0-9.e+]*\).*/\1/')
printf 'read bandwidth (%s threads): %.1f GB/s\n' "$THREADS" "$(echo "$bw" | awk '{print $1/1e9}')"

bandwidth() { # read bandwidth in bytes/s, now
  "$BIN" bench --bandwidth --threads "$THREADS" --mib 1024 | sed 's/.*"bandwidth_bytes_per_s": *\([0-9.e+]*\).*/\1/'
}

field() { # json key -> first number after "key":
  echo "$1" | sed -n "s/.*\"$2\":\([0-9.e+-]*\).*/\1/p"
}

rows=""
printf '%-22s %-5s %9s %7s %9s %9s %9s %9s %8s %8s\n' preset type "MB/tok" "GB/s" "TG@0" "TG@2048" "roof%" "PP64" "PP256" "PP/TG"
for spec in $PRESETS; do
  preset=${spec%%:*}; layers=${spec#*:}; [ "$layers" = "$spec" ] && layers=""
  for type in $TYPES; do
    f="$DIR/$preset${layers:+-L$layers}-$type.gguf"
    [ -f "$f" ] || "$BIN" synth --preset "$preset" ${layers:+--layers $layers} --type "$type" --out "$f"
    # this machine's bandwidth drifts by up to 2x within minutes (a shared
    # host): each row's roofline is the higher of two bandwidth measurements
    # taken right before and right after its timing runs (conservative)
    bw_a=$(bandwidth)
    j=$("$BIN" bench --model "$f" --threads "$THREADS" --tg 32 --pp 64,256 --ctx 0,2048)
    bw_b=$(bandwidth)
    bw_row=$(echo "$bw_a $bw_b" | awk '{print ($1 > $2) ? $1 : $2}')
    tg0=$(echo "$j" | sed -n 's/.*"tg":\[{"ctx":0,"tok_s":\([0-9.e+-]*\)}.*/\1/p')
    tg2=$(echo "$j" | sed -n 's/.*{"ctx":2048,"tok_s":\([0-9.e+-]*\).*/\1/p')
    pp64=$(echo "$j" | sed -n 's/.*{"n":64,"tok_s":\([0-9.e+-]*\)}.*/\1/p')
    pp256=$(echo "$j" | sed -n 's/.*{"n":256,"tok_s":\([0-9.e+-]*\)}.*/\1/p')
    bpt=$(field "$j" weight_bytes_per_token)
    frac=$(echo "$tg0 $bpt $bw_row" | awk '{printf "%.4f", $1 * $2 / $3}')
    echo "$tg0 $tg2 $pp64 $pp256 $bpt $bw_row $frac" | awk -v p="$preset${layers:+ (${layers}L)}" -v t="$type" \
      '{printf "%-22s %-5s %9.0f %7.1f %9.1f %9.1f %8.0f%% %9.0f %8.0f %7.1fx\n", p, t, $5/1e6, $6/1e9, $1, $2, 100*$7, $3, $4, $4/$1}'
    rows="$rows${rows:+,}{\"preset\":\"$preset\",\"layers\":${layers:-null},\"type\":\"$type\",\"bandwidth_before\":$bw_a,\"bandwidth_after\":$bw_b,\"tg0_roofline_fraction\":$frac,\"result\":$j}"
  done
done
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
printf '{"machine":"%s","threads":%s,"bandwidth":%s,"runs":[%s]}\n' "$machine" "$THREADS" "$bw_json" "$rows" >"$OUT"
echo "wrote $OUT"
