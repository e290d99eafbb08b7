#!/bin/sh
# tests/nvim/run.sh — every spec (tests/nvim/spec_*.lua) on Debian's Neovim 0.7
# (nvim on $PATH) and on Neovim 0.10 ($FLINT_BUILD/nvim010, `make nvim010`),
# each in its own headless driver. Prints "ok - [nvim X.Y.Z] ..." lines.
# FLINT_NVIM="path ..." picks the Neovims; FLINT_SPEC=substr picks specs.
ROOT=${FLINT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export FLINT_ROOT=$ROOT
export FLINT_BIN=${FLINT_BIN:-$ROOT/build/flint}
export FLINT_BUILD=${FLINT_BUILD:-$ROOT/build}
BUILD=$FLINT_BUILD
NVIMS=${FLINT_NVIM:-"$(command -v nvim) $BUILD/nvim010/bin/nvim"}
status=0
if [ ! -x "$FLINT_BIN" ]; then
  echo "not ok - flint binary $FLINT_BIN missing (make)"
  exit 1
fi
for nv in $NVIMS; do
  if [ ! -x "$nv" ]; then
    echo "not ok - Neovim $nv missing (make nvim010 builds 0.10)"
    status=1
    continue
  fi
  for spec in "$ROOT"/tests/nvim/spec_*.lua; do
    case "$spec" in *"${FLINT_SPEC:-}"*) ;; *) continue ;; esac
    timeout 240 "$nv" --headless -u NONE -i NONE -n --cmd "set rtp^=$ROOT" \
      --cmd "lua package.path = '$ROOT/tests/nvim/?.lua;' .. package.path" \
      -c "luafile $spec" </dev/null 2>&1 || status=1
  done
done
exit $status
