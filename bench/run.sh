#!/bin/sh
# run.sh BUILD — run every benchmark script bench/bench_*.sh; each writes
# bench/results/NAME.json and prints a table. FLINT_BENCH=name limits the run.
BUILD=${1:-build}
export FLINT_BIN="$(pwd)/$BUILD/flint" FLINT_BUILD="$(pwd)/$BUILD" FLINT_ROOT="$(pwd)"
mkdir -p bench/results
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
status=0
for b in bench/bench_*.sh; do
  name=$(basename "$b" .sh); name=${name#bench_}
  case "$name" in *"${FLINT_BENCH:-}"*) ;; *) continue ;; esac
  echo "== $name"
  sh "$b" || { echo "bench $name failed" >&2; status=1; }
done
exit $status
