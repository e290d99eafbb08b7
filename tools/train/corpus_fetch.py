"""Download and unpack the Debian source packages listed in packages.txt.

apt is pointed at a private state directory (CORPUS/apt: its own
sources.list with one deb-src line, its own lists and cache), so the
system's /etc/apt and /var/lib/apt are never modified.  Each package is
unpacked by `apt-get source` (dpkg-dev) into CORPUS/src/<package>/.

Usage: python3 tools/train/corpus_fetch.py [--corpus corpus] [--jobs 2]
"""
import argparse
import concurrent.futures
import os
import subprocess
import sys

MIRROR_LINE = "deb-src http://deb.debian.org/debian bookworm main\n"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_packages(path=os.path.join(HERE, "packages.txt")):
    """Return [(language, package)] from packages.txt (comments skipped)."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                lang, pkg = line.split()
                out.append((lang, pkg))
    return out


def apt_options(apt_dir):
    """Return the apt -o options that confine apt to apt_dir."""
    return ["-o", f"Dir::Etc::SourceList={apt_dir}/sources.list",
            "-o", "Dir::Etc::SourceParts=/nonexistent",
            "-o", f"Dir::State::Lists={apt_dir}/lists",
            "-o", f"Dir::Cache={apt_dir}/cache"]


def setup_apt(apt_dir):
    """Create the private apt state and download the Sources index."""
    os.makedirs(os.path.join(apt_dir, "lists", "partial"), exist_ok=True)
    os.makedirs(os.path.join(apt_dir, "cache", "archives", "partial"), exist_ok=True)
    with open(os.path.join(apt_dir, "sources.list"), "w") as f:
        f.write(MIRROR_LINE)
    subprocess.run(["apt-get", *apt_options(apt_dir), "update"], check=True,
                   stdout=subprocess.DEVNULL)


def fetch_one(apt_dir, src_dir, pkg):
    """Unpack one source package into src_dir/pkg; return (pkg, ok, message).

    A package whose directory already holds an unpacked tree is skipped
    (re-runs are incremental).  Failures are reported, not raised.
    """
    dest = os.path.join(src_dir, pkg)
    if os.path.isdir(dest) and any(os.path.isdir(os.path.join(dest, n))
                                   for n in os.listdir(dest)):
        return pkg, True, "cached"
    os.makedirs(dest, exist_ok=True)
    r = subprocess.run(["apt-get", *apt_options(apt_dir), "source", "-q", pkg],
                       cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode != 0:
        return pkg, False, r.stdout[-500:]
    for name in os.listdir(dest):  # keep the unpacked tree and the .dsc only
        if name.endswith((".tar.gz", ".tar.xz", ".tar.bz2", ".tar.lzma", ".diff.gz")):
            os.remove(os.path.join(dest, name))
    return pkg, True, "fetched"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="corpus")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    apt_dir = os.path.abspath(os.path.join(args.corpus, "apt"))
    src_dir = os.path.abspath(os.path.join(args.corpus, "src"))
    setup_apt(apt_dir)
    pkgs = [p for _, p in read_packages()]
    failed = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
        for pkg, ok, msg in ex.map(lambda p: fetch_one(apt_dir, src_dir, p), pkgs):
            print(f"{'ok  ' if ok else 'FAIL'} {pkg}: {msg.strip()[:200]}", flush=True)
            if not ok:
                failed.append(pkg)
    print(f"{len(pkgs) - len(failed)} packages ready, {len(failed)} failed: {failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
