#!/bin/sh
# run-demo.sh BUILD — `make run`: flint in the editor on tools/demo/demo.py.
#
# In a terminal: opens Neovim (BUILD/nvim010 if built, else nvim on $PATH, else
# Vim) on a copy of the demo file with flint and the default model loaded; type
# in Insert mode and ghost text appears (<Tab> accepts, <M-Right> a word,
# <M-C-Right> a line, <M-]>/<M-[> alternatives, <C-]> dismisses).
# Without a terminal (stdin not a TTY): runs the same demo headless and prints
# what you would see: the file around the cursor, the cursor, the ghost text
# and the timings.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=$BUILD/flint
[ -x "$BIN" ] || { echo "run-demo: $BIN is not built (make)" >&2; exit 1; }

if [ -x "$BUILD/nvim010/bin/nvim" ]; then EDITOR_BIN=$BUILD/nvim010/bin/nvim
elif command -v nvim >/dev/null; then EDITOR_BIN=$(command -v nvim)
elif command -v vim >/dev/null; then EDITOR_BIN=$(command -v vim)
else echo "run-demo: neither nvim nor vim found (make deps)" >&2; exit 1
fi

# The default model, else a fixture (random weights: real but meaningless text).
MODEL=
if [ -z "$(ls "$ROOT"/models/flint-coder-moe.*.gguf 2>/dev/null)" ]; then
  MODEL=$ROOT/tests/fixtures/models/tiny-qwen3moe.F32.gguf
  echo "run-demo: no default model in models/ yet; using the fixture $MODEL (gibberish output)" >&2
fi

mkdir -p "$BUILD/demo"
cp "$ROOT/tools/demo/demo.py" "$BUILD/demo/demo.py"

if [ -t 0 ] && [ -t 1 ]; then
  exec "$EDITOR_BIN" --clean -n --cmd "set rtp^=$ROOT" \
    --cmd "let g:flint_server_cmd = ['$BIN', 'serve']" \
    --cmd "let g:flint_model = '$MODEL'" \
    -c 'set laststatus=2 statusline=%f\ %m%=%{flint#statusline()}\ %l:%c\ ' \
    -c 'echo "flint: type in Insert mode. <Tab> accept, <M-Right> word, <M-C-Right> line, <M-]>/<M-[> alternatives, <C-]> dismiss, :Flint status"' \
    +96 "$BUILD/demo/demo.py"
fi

if [ "${EDITOR_BIN##*/}" = vim ]; then
  echo "run-demo: the headless demo needs Neovim (in a terminal, Vim works)" >&2
  exit 1
fi
export FLINT_ROOT=$ROOT FLINT_BIN=$BIN FLINT_DEMO_MODEL=$MODEL FLINT_DEMO_FILE=$BUILD/demo/demo.py
exec "$EDITOR_BIN" --headless -u NONE -i NONE -n --cmd "set rtp^=$ROOT" -c "luafile $ROOT/tools/demo/headless.lua" </dev/null
