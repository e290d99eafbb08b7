#!/bin/sh
# bench_editor.sh — keystroke → ghost text latency inside Neovim over 200
# keystrokes of tools/demo/demo.py (bench/bench_editor.lua), with the real
# `flint serve` and the default model (a fixture model until it exists).
# Uses Neovim 0.10 from `make nvim010` if built, else nvim on $PATH.
# Writes bench/results/editor.json.
ROOT=${FLINT_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
export FLINT_ROOT=$ROOT
export FLINT_BIN=${FLINT_BIN:-$ROOT/build/flint}
BUILD=${FLINT_BUILD:-$ROOT/build}
NVIM=${FLINT_BENCH_NVIM:-$BUILD/nvim010/bin/nvim}
[ -x "$NVIM" ] || NVIM=$(command -v nvim)
[ -x "$FLINT_BIN" ] || { echo "bench_editor: $FLINT_BIN missing (make)" >&2; exit 1; }
[ -n "$NVIM" ] || { echo "bench_editor: no Neovim" >&2; exit 1; }
exec "$NVIM" --headless -u NONE -i NONE -n --cmd "set rtp^=$ROOT" -c "luafile $ROOT/bench/bench_editor.lua" </dev/null
