#!/bin/sh
# bench_engine.sh — engine speed on real model shapes (random weights from
# `flint synth`), against this machine's read bandwidth measured in the same run.
# Writes bench/results/engine.json and prints a table.
#   FLINT_ENGINE_PRESETS="qwen3-30b-a3b:12 granite-1b-a400m" to choose presets (name[:layers])
#   FLINT_ENGINE_TYPES="q4_k q8_0"
set -e
BIN=${FLINT_BIN:-build/flint}
DIR=${FLINT_BUILD:-build}/bench-models
OUT=bench/results/engine.json
PRESETS=${FLINT_ENGINE_PRESETS:-"qwen3-30b-a3b:12 granite-3b-a800m granite-1b-a400m olmoe-1b-7b qwen2.5-coder-0.5b"}
TYPES=${FLINT_ENGINE_TYPES:-"q4_k q8_0"}
THREADS=${FLINT_THREADS:-2}
mkdir -p "$DIR" bench/results

bw_json=$("$BIN" bench --bandwidth --threads "$THREADS")
bw=$(echo "$bw_json" | sed 's/.*"bandwidth_bytes_per_s": *\([0-9.e+]*\).*/\1/')
printf 'read bandwidth (%s threads): %.1f GB/s\n' "$THREADS" "$(echo "$bw" | awk '{print $1/1e9}')"

field() { # json key -> first number after "key":
  echo "$1" | sed -n "s/.*\"$2\":\([0-9.e+-]*\).*/\1/p"
}

rows=""
printf '%-22s %-5s %9s %9s %9s %9s %9s %8s %8s\n' preset type "MB/tok" "TG@0" "TG@2048" "roof%" "PP64" "PP256" "PP/TG"
for spec in $PRESETS; do
  preset=${spec%%:*}; layers=${spec#*:}; [ "$layers" = "$spec" ] && layers=""
  for type in $TYPES; do
    f="$DIR/$preset${layers:+-L$layers}-$type.gguf"
    [ -f "$f" ] || "$BIN" synth --preset "$preset" ${layers:+--layers $layers} --type "$type" --out "$f"
    j=$("$BIN" bench --model "$f" --threads "$THREADS" --tg 32 --pp 64,256 --ctx 0,2048 --roofline "$bw")
    tg0=$(echo "$j" | sed -n 's/.*"tg":\[{"ctx":0,"tok_s":\([0-9.e+-]*\),"roofline_fraction":\([0-9.e+-]*\)}.*/\1 \2/p')
    tg2=$(echo "$j" | sed -n 's/.*{"ctx":2048,"tok_s":\([0-9.e+-]*\).*/\1/p')
    pp64=$(echo "$j" | sed -n 's/.*{"n":64,"tok_s":\([0-9.e+-]*\)}.*/\1/p')
    pp256=$(echo "$j" | sed -n 's/.*{"n":256,"tok_s":\([0-9.e+-]*\)}.*/\1/p')
    bpt=$(field "$j" weight_bytes_per_token)
    echo "$tg0 $tg2 $pp64 $pp256 $bpt" | awk -v p="$preset${layers:+ (${layers}L)}" -v t="$type" \
      '{printf "%-22s %-5s %9.0f %9.1f %9.1f %8.0f%% %9.0f %8.0f %7.1fx\n", p, t, $6/1e6, $1, $3, 100*$2, $4, $5, $5/$1}'
    rows="$rows${rows:+,}{\"preset\":\"$preset\",\"layers\":${layers:-null},\"type\":\"$type\",\"result\":$j}"
  done
done
machine="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
printf '{"machine":"%s","threads":%s,"bandwidth":%s,"runs":[%s]}\n' "$machine" "$THREADS" "$bw_json" "$rows" >"$OUT"
echo "wrote $OUT"
