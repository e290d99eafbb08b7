#!/bin/sh
# run.sh BUILD — run every test suite and print "N passed, N failed".
#
# A suite is anything that prints TAP-style lines: "ok - ..." or "not ok - ...".
#   c     build/tests/test_*          (C unit and fixture tests)
#   cli   tests/cli/*.sh              (the flint binary end to end)
#   nvim  tests/nvim/run.sh           (headless Neovim 0.7 and 0.10)
#   vim   tests/vim/run.sh            (Vim 9 under a pty)
# FLINT_SUITES="c cli" limits the run; FLINT_TEST_FILTER=substr picks suites by name.
BUILD=${1:-build}
SUITES=${FLINT_SUITES:-"c cli nvim vim"}
export FLINT_BIN="$(pwd)/$BUILD/flint"
export FLINT_BUILD="$(pwd)/$BUILD"
export FLINT_ROOT="$(pwd)"
log="$BUILD/test-logs"
mkdir -p "$log"
passed=0; failed=0

run_suite() { # name command...
  name=$1; shift
  case "$name" in *"${FLINT_TEST_FILTER:-}"*) ;; *) return ;; esac
  out="$log/$(echo "$name" | tr '/ ' '__').log"
  start=$(date +%s)
  "$@" >"$out" 2>&1
  rc=$?
  p=$(grep -c '^ok ' "$out"); f=$(grep -c '^not ok ' "$out")
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name exited $rc without a failing check" >>"$out"; fi
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; echo "not ok - $name ran no checks" >>"$out"; fi
  passed=$((passed + p)); failed=$((failed + f))
  printf '%-40s %4d passed %3d failed  %3ss\n' "$name" "$p" "$f" "$(( $(date +%s) - start ))"
  [ "$f" != 0 ] && grep '^not ok' "$out" | head -20 | sed 's/^/    /'
}

for s in $SUITES; do
  case $s in
    c)    for t in "$BUILD"/tests/test_*; do [ -x "$t" ] && run_suite "c/$(basename "$t")" "$t"; done ;;
    cli)  for t in tests/cli/*.sh; do [ -f "$t" ] && run_suite "cli/$(basename "$t" .sh)" sh "$t"; done ;;
    nvim) [ -f tests/nvim/run.sh ] && run_suite nvim sh tests/nvim/run.sh ;;
    vim)  [ -f tests/vim/run.sh ] && run_suite vim sh tests/vim/run.sh ;;
  esac
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
