#!/bin/sh
# tests/vim/run.sh — flint in real Vim 9 under a pty (tmux). Each spec
# (tests/vim/spec_*.vim) runs in a Vim driver in Ex mode that starts the Vim
# under test in tmux, types with `tmux send-keys` and checks the buffer, the
# text properties and the screen. Prints "ok - [vim 9.0.N] ..." lines.
ROOT=${FLINT_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
export FLINT_ROOT=$ROOT
export FLINT_BIN=${FLINT_BIN:-$ROOT/build/flint}
export FLINT_BUILD=${FLINT_BUILD:-$ROOT/build}
for tool in vim tmux; do
  command -v $tool >/dev/null || { echo "not ok - $tool missing (make deps)"; exit 1; }
done
[ -x "$FLINT_BIN" ] || { echo "not ok - flint binary $FLINT_BIN missing (make)"; exit 1; }
status=0
for spec in "$ROOT"/tests/vim/spec_*.vim; do
  case "$spec" in *"${FLINT_SPEC:-}"*) ;; *) continue ;; esac
  timeout 300 vim -N -u NONE -i NONE -n -es -S "$ROOT/tests/vim/helpers.vim" -S "$spec" </dev/null || status=1
done
exit $status
