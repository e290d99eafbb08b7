#!/bin/sh
# deps.sh PKG...: make sure the Debian packages flint needs are installed.
# As root, missing packages are installed with apt-get; otherwise the exact
# command is printed and the script fails, so `make` stops before building.
missing=""
for p in "$@"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
  case "$st" in *"install ok installed"*) ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "flint: installing missing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y $missing || { apt-get update && apt-get install -y $missing; } || exit 1
else
  echo "flint: missing Debian packages. Run:" >&2
  echo "  sudo apt-get install -y$missing" >&2
  exit 1
fi
