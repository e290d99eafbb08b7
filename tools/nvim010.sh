#!/usr/bin/env bash
# nvim010.sh PREFIX — build Neovim 0.10.4 into PREFIX (make nvim010: build/nvim010)
# from Debian source packages, next to Debian 12's own neovim 0.7.2. The editor test
# suite runs every spec on both.
#
#   sh tools/nvim010.sh build/nvim010          # build if needed (a rerun: ~1 s)
#   FORCE=1 sh tools/nvim010.sh build/nvim010  # throw away the work tree and rebuild
#
# Where things come from (only the Debian archive is contacted, through apt):
#  - bookworm binary build dependencies (compilers, cmake, ninja, luajit, libuv,
#    msgpack-c, unibilium, luv), installed with apt-get; as root this script installs
#    the missing ones, otherwise it prints the exact apt-get line and fails.
#  - trixie *source* packages neovim, tree-sitter, libvterm, lua-lpeg, fetched with
#    `apt-get source` through a PRIVATE apt state under WORK/apt (nothing in /etc/apt
#    or /var/lib/apt is written), unpacked with dpkg-source (checksums + Debian patches).
#  - trixie's Architecture: all tree-sitter-<lang>-src packages (grammar C sources only),
#    downloaded with `apt-get download` and unpacked with dpkg-deb -x; nothing installed.
# tree-sitter, libvterm and lpeg are linked statically: bookworm ships older
# libtree-sitter.so.0/libvterm.so.0 that a private .so without rpath would lose to.
#
# Mirror quirk: the archive may lack the newest trixie source upload of a package
# (neovim_0.10.4-8+deb13u1.dsc answered 404 in Nov 2026). Each source package then
# falls back to a pinned version whose .dsc SHA256 is checked below; dpkg-source checks
# every file the .dsc lists. The pinned neovim_0.10.4-8.dsc carries a good signature by
# the Debian neovim maintainer.
#
# Work tree: WORK (default: PREFIX-work, i.e. build/nvim010-work; ~300 MB, removable once
# built). Each step leaves a stamp in WORK/stamps; a step whose stamp and product exist
# is skipped, and once one step runs every later one runs too. Log: WORK/logs/latest.log.
# `make nvim010` runs it with sh: re-run under bash (arrays, pipefail, process substitution).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -Eeuo pipefail

[ $# -ge 1 ] || { echo "usage: $0 PREFIX" >&2; exit 2; }
mkdir -p "$1"
PREFIX=$(cd "$1" && pwd)
WORK=${WORK:-$PREFIX-work}
DEPS=$WORK/deps
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FORCE=${FORCE:-0}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${SUITE:-trixie}
WANT_VERSION=0.10.4

# Fast path: everything built and the binary is the wanted version.
if [ "$FORCE" != 1 ] && [ -e "$WORK/stamps/10-verify" ] && [ -x "$PREFIX/bin/nvim" ] &&
   "$PREFIX/bin/nvim" --version 2>/dev/null | head -1 | grep -qx "NVIM v$WANT_VERSION"; then
  echo "nvim010: $PREFIX/bin/nvim is NVIM v$WANT_VERSION (up to date)"
  exit 0
fi

# "<version> <sha256 of the .dsc>", used only when the version trixie's index names
# cannot be downloaded.
declare -A FALLBACK=(
  [neovim]="0.10.4-8 bf8f130df91bc4143786fa3d4be2734b2b0a28429a8c7755dc0d42eddd26f55a"
  [tree-sitter]="0.22.6-6 cce3dbc2c42b4c3d7ac1473aa174aa5d7ed16e49f5cfef0fc85996b256ab3bf9"
  [libvterm]="0.3.3-3 cbb6b144afa851557d623649598b1f0defdeb741aa08ca0a5a835024721e8a58"
  [lua-lpeg]="1.1.0-2 4f5ecd2202bc139424862a0260533530947f91800b4a111a8f4b15248a223819"
)
TS_LANGS=(c lua vim vimdoc query markdown markdown_inline)
TS_PKGS=(tree-sitter-c-src tree-sitter-lua-src tree-sitter-vim-src tree-sitter-vimdoc-src
         tree-sitter-query-src tree-sitter-markdown-src tree-sitter-markdown-inline-src)
BUILD_DEPS=(build-essential dpkg-dev cmake ninja-build pkg-config gettext curl ca-certificates
            xz-utils libtool libtool-bin perl file libluajit-5.1-dev luajit libuv1-dev
            libmsgpack-dev libunibilium-dev lua-luv-dev libacl1-dev)

# ---------------------------------------------------------------- build dependencies
missing=()
for p in "${BUILD_DEPS[@]}"; do
  case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" in
    *"install ok installed"*) ;;
    *) missing+=("$p") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "nvim010: missing Debian build dependencies. Run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "nvim010: installing build dependencies: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${missing[@]}" ||
    { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

mkdir -p "$WORK/logs" "$WORK/stamps"
LOG="$WORK/logs/build-$(date -u +%Y%m%dT%H%M%SZ).log"
ln -sfn "$(basename "$LOG")" "$WORK/logs/latest.log"
exec > >(tee -a "$LOG") 2>&1
trap 'rc=$?; echo "nvim010: FAILED (exit $rc) at line $LINENO: $BASH_COMMAND"; echo "nvim010: log: $LOG"; exit $rc' ERR

T0=$(date +%s)
say() { printf '=== [+%ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
ARCH=$(dpkg --print-architecture)

if [ "$FORCE" = 1 ]; then
  say "FORCE=1: removing $WORK/{stamps,src,build,ts,debs,deps}"
  rm -rf "$WORK/stamps" "$WORK/src" "$WORK/build" "$WORK/ts" "$WORK/debs" "$DEPS"
  mkdir -p "$WORK/stamps"
fi

# step NAME FUNCTION [PRODUCT]
DIRTY=0
step() {
  local name=$1 fn=$2 product=${3:-}
  if [ "$DIRTY" = 0 ] && [ -e "$WORK/stamps/$name" ] && { [ -z "$product" ] || [ -e "$product" ]; }; then
    say "skip $name"; return 0
  fi
  say "$name"
  rm -f "$WORK/stamps/$name"
  "$fn"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$WORK/stamps/$name"
  DIRTY=1
}

# ---------------------------------------------------------------- private apt state
A="$WORK/apt"
APTO=(-o "Dir::Etc::SourceList=$A/sources.list" -o "Dir::Etc::SourceParts=$A/sources.list.d"
      -o "Dir::Etc::Preferences=$A/preferences" -o "Dir::Etc::PreferencesParts=$A/preferences.d"
      -o "Dir::State::Lists=$A/lists" -o "Dir::Cache=$A/cache"
      -o "APT::Sandbox::User=$(id -un)" -o "APT::Get::Only-Source=true" -o "Acquire::Languages=none")
apt_t() { apt-get "${APTO[@]}" "$@"; }

setup_private_apt() {
  mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/sources.list.d" "$A/preferences.d"
  : > "$A/preferences"
  cat > "$A/sources.list" <<EOS
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main
deb [arch=$ARCH signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main
EOS
  apt_t update
}

pooldir() { case $1 in lib*) echo "pool/main/${1:0:4}/$1" ;; *) echo "pool/main/${1:0:1}/$1" ;; esac; }

# fetch_src PKG -> prints the path of the downloaded .dsc
fetch_src() {
  local pkg=$1 dl="$WORK/dl" dsc ver sum f
  mkdir -p "$dl"
  dsc=$(apt_t source --print-uris "$pkg" 2>/dev/null | awk '$2 ~ /\.dsc$/ {print $2; exit}')
  if [ -n "$dsc" ] && (cd "$dl" && apt_t source --download-only "$pkg" >&2); then
    echo "$dl/$dsc"; return 0
  fi
  echo "note: $SUITE's current $pkg source (${dsc:-?}) could not be downloaded; using the pinned fallback" >&2
  [ -n "${FALLBACK[$pkg]:-}" ] || { echo "no fallback for $pkg" >&2; return 1; }
  ver=${FALLBACK[$pkg]% *}; sum=${FALLBACK[$pkg]#* }
  dsc="${pkg}_${ver}.dsc"
  curl -fsSL -o "$dl/$dsc.part" "$MIRROR/$(pooldir "$pkg")/$dsc" >&2
  echo "$sum  $dl/$dsc.part" | sha256sum -c - >&2
  mv "$dl/$dsc.part" "$dl/$dsc"
  for f in $(awk '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && NF==3 {print $3}' "$dl/$dsc"); do
    [ -s "$dl/$f" ] || curl -fsSL -o "$dl/$f" "$MIRROR/$(pooldir "$pkg")/$f" >&2
  done
  echo "$dl/$dsc"
}

unpack_src() {
  local pkg=$1 dsc dir
  dsc=$(fetch_src "$pkg")
  dir="$WORK/src/$(basename "$dsc" .dsc)"
  rm -rf "$dir"; mkdir -p "$WORK/src"
  dpkg-source --no-copy -x "$dsc" "$dir" >&2
  echo "$dir"
}

get_sources() {
  local p
  setup_private_apt
  mkdir -p "$WORK/src"
  for p in neovim tree-sitter libvterm lua-lpeg; do
    unpack_src "$p" > "$WORK/src/.$p.dir"
    echo "$p -> $(cat "$WORK/src/.$p.dir")"
  done
  rm -rf "$WORK/ts" "$WORK/debs"; mkdir -p "$WORK/ts" "$WORK/debs"
  (cd "$WORK/debs" && apt_t download "${TS_PKGS[@]}")
  for p in "$WORK"/debs/*.deb; do dpkg-deb -x "$p" "$WORK/ts"; done
}
srcdir() { cat "$WORK/src/.$1.dir"; }

CFLAGS_DEPS="-O2 -fPIC -g0"
build_tree_sitter() {
  local s; s=$(srcdir tree-sitter)
  make -C "$s" clean >/dev/null 2>&1 || true
  make -C "$s" -j"$JOBS" CFLAGS="$CFLAGS_DEPS" PREFIX="$DEPS" LIBDIR="$DEPS/lib" install
  rm -f "$DEPS"/lib/libtree-sitter.so*
}
build_libvterm() {
  local s; s=$(srcdir libvterm)
  make -C "$s" clean >/dev/null 2>&1 || true
  make -C "$s" -j"$JOBS" CFLAGS="$CFLAGS_DEPS" PREFIX="$DEPS" libvterm.la
  make -C "$s" PREFIX="$DEPS" install-inc install-lib
  rm -f "$DEPS"/lib/libvterm.so* "$DEPS"/lib/libvterm.la
}
build_lpeg() {
  local s o f; s=$(srcdir lua-lpeg); o="$WORK/build/lpeg"
  rm -rf "$o"; mkdir -p "$o" "$DEPS/lib"
  for f in "$s"/*.c; do
    gcc $CFLAGS_DEPS -w -I/usr/include/luajit-2.1 -c "$f" -o "$o/$(basename "$f" .c).o"
  done
  rm -f "$DEPS/lib/liblpeg.a"
  ar rcs "$DEPS/lib/liblpeg.a" "$o"/*.o
}
build_parsers() {
  local lang mk srcd out
  rm -rf "$DEPS/lib/nvim/parser"; mkdir -p "$DEPS/lib/nvim/parser"
  for lang in "${TS_LANGS[@]}"; do
    mk=$(ls -d "$WORK/ts/usr/src/tree-sitter/$lang"/*/Makefile | sort -V | tail -1)
    srcd="$(dirname "$mk")/parser/src"; out="$WORK/build/ts-parser-$lang"
    rm -rf "$out"
    make -f "$mk" BASE_SRC_DIR="$srcd" OBJ_DIR="$out" CFLAGS="-O2 -g0 -I$srcd" LDFLAGS= PARSER_LANG="$lang"
    install -m644 "$out/$lang.so" "$DEPS/lib/nvim/parser/$lang.so"
  done
}
configure_neovim() {
  local s MA; s=$(srcdir neovim); MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
  rm -rf "$WORK/build/neovim"
  cmake -S "$s" -B "$WORK/build/neovim" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
    -DDEPS_PREFIX="$DEPS" -DCMAKE_PREFIX_PATH="$DEPS" \
    -DTREESITTER_LIBRARY="$DEPS/lib/libtree-sitter.a" -DTREESITTER_INCLUDE_DIR="$DEPS/include" \
    -DLIBVTERM_LIBRARY="$DEPS/lib/libvterm.a" -DLIBVTERM_INCLUDE_DIR="$DEPS/include" \
    -DLPEG_LIBRARY="$DEPS/lib/liblpeg.a" \
    -DLUV_LIBRARY="/usr/lib/$MA/liblua5.1-luv.so" -DLUV_INCLUDE_DIR=/usr/include/lua5.1 \
    -DPREFER_LUA=OFF
}
# One ninja call builds and installs (a tarball build rewrites versiondef_git.h on every
# ninja run, so a separate `ninja` and `ninja install` would compile half of nvim twice).
build_install_neovim() {
  ninja -C "$WORK/build/neovim" -j"$JOBS" install
  { echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) by tools/nvim010.sh"
    for p in neovim tree-sitter libvterm lua-lpeg; do echo "source: $(basename "$(srcdir "$p")")"; done
    for d in "$WORK"/debs/*.deb; do echo "grammar: $(basename "$d")"; done
  } > "$PREFIX/BUILD-INFO.txt"
}
verify() {
  local nv="$PREFIX/bin/nvim" out
  "$nv" --version | head -1 | grep -qx "NVIM v$WANT_VERSION" || { echo "FAIL: not v$WANT_VERSION"; return 1; }
  if ldd "$nv" | grep -Eq 'libtree-sitter|libvterm'; then echo "FAIL: dynamic tree-sitter/vterm"; return 1; fi
  out=$("$nv" --headless -u NONE -i NONE -c 'lua local ns=vim.api.nvim_create_namespace("t"); vim.api.nvim_buf_set_lines(0,0,-1,false,{"abc"}); vim.api.nvim_buf_set_extmark(0,ns,0,1,{virt_text={{"XYZ","Comment"}},virt_text_pos="inline"}); io.stdout:write(vim.inspect(vim.api.nvim_buf_get_extmarks(0,ns,0,-1,{details=true})))' -c 'qa!' 2>&1)
  echo "$out" | grep -q 'virt_text_pos = "inline"' || { echo "FAIL: inline virt_text: $out"; return 1; }
  out=$("$nv" --headless -u NONE -i NONE -c 'lua io.stdout:write(#vim.api.nvim_get_runtime_file("parser/lua.so", false) .. " " .. vim.fn.expand("$VIMRUNTIME"))' -c 'qa!' 2>&1)
  case $out in 1\ *) ;; *) echo "FAIL: parsers/runtime: $out"; return 1 ;; esac
  echo "verify: NVIM v$WANT_VERSION, inline virtual text, parsers and runtime ok"
}

say "nvim010: PREFIX=$PREFIX WORK=$WORK JOBS=$JOBS"
step 02-sources            get_sources          "$WORK/src/.lua-lpeg.dir"
step 04-tree-sitter        build_tree_sitter    "$DEPS/lib/libtree-sitter.a"
step 05-libvterm           build_libvterm       "$DEPS/lib/libvterm.a"
step 06-lpeg               build_lpeg           "$DEPS/lib/liblpeg.a"
step 07-parsers            build_parsers        "$DEPS/lib/nvim/parser/markdown_inline.so"
step 08-configure-neovim   configure_neovim     "$WORK/build/neovim/build.ninja"
step 09-build-install      build_install_neovim "$PREFIX/bin/nvim"
step 10-verify             verify
say "done; nvim: $PREFIX/bin/nvim"
