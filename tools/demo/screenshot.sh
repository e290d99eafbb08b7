#!/bin/sh
# screenshot.sh [BUILD] [OUT.png] — doc/screenshot.png: flint's ghost text in a
# real terminal Neovim. Runs Neovim 0.10 (BUILD/nvim010, else nvim) with flint
# and the default model in a tmux pty on a copy of tools/demo/demo.py, types
# the start of a line with real keystrokes, captures the pane with its colours
# (`tmux capture-pane -e`) and renders the ANSI text to PNG with aha and
# wkhtmltoimage (Debian packages aha, wkhtmltopdf), then shrinks it with
# pngquant when installed. The captured ANSI text goes to BUILD/screenshot.ansi.
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=${2:-$ROOT/doc/screenshot.png}
for t in tmux aha wkhtmltoimage; do
  command -v $t >/dev/null || { echo "screenshot: $t missing (apt-get install tmux aha wkhtmltopdf)" >&2; exit 1; }
done
NV=$BUILD/nvim010/bin/nvim
[ -x "$NV" ] || NV=$(command -v nvim)
W=$(mktemp -d)
cp "$ROOT/tools/demo/demo.py" "$W/inventory.py"
cd "$W"
SOCK=flint-shot-$$
T="tmux -L $SOCK"
cleanup() { $T kill-server 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
$T -f /dev/null start-server \; set -g default-terminal xterm-256color \; \
  set -ga terminal-overrides ',xterm-256color:Tc'
$T new-session -d -s shot -x 92 -y 26 \
  "env TERM=xterm-256color COLORTERM=truecolor $NV --clean -n -i NONE --cmd 'set rtp^=$ROOT' \
   --cmd \"let g:flint_server_cmd = ['$BUILD/flint', 'serve']\" \
   -c 'set termguicolors number laststatus=2 noshowmode' \
   -c 'set statusline=\ %f\ %m%=%{flint#statusline()}\ \ %l:%c\ ' \
   inventory.py"
sleep 1.5
# format_cents(): blank its return line after "return " and type again
$T send-keys -t shot ':98|exe "normal! ^wDzz"|echo ""' Enter
sleep 0.3
$T send-keys -t shot 'a'
sleep 0.2
$T send-keys -t shot -l 'f'
sleep 3
$T capture-pane -e -p -t shot > "$BUILD/screenshot.ansi"
aha --black --title 'flint ghost text' < "$BUILD/screenshot.ansi" |
  sed 's|</head>|<style>body{margin:0;padding:12px;background:#14161b} pre{font-family:"DejaVu Sans Mono",monospace;font-size:15px;line-height:1.25;margin:0}</style></head>|' \
  > "$W/shot.html"
wkhtmltoimage --quiet --width 900 "$W/shot.html" "$W/shot.png" 2>/dev/null
if command -v pngquant >/dev/null; then
  pngquant --force --quality 60-95 --output "$OUT" "$W/shot.png"
else
  cp "$W/shot.png" "$OUT"
fi
echo "screenshot: $OUT"
