#!/bin/sh
# bench_spec.sh — speculative decoding against plain greedy decoding, every
# mode in the same run. Writes bench/results/spec.json.
#
# 1. The default model (models/flint-coder-moe.*.gguf, draft
#    models/flint-coder-draft.*.gguf) on a completion workload (FIM at random
#    line ends) and a refactor workload (rename an identifier in a 150-300
#    line file), bench/spec_bench.c. Held-out sources: this repository's own
#    csrc/, lua/ and tools/train/ files, which are not in the Debian corpus
#    the model was trained on (names and sha256 recorded).
# 2. A qwen3-30b-a3b-shaped synthetic MoE (12 of 48 layers, Q4_K, ~4.6 GB,
#    created under build/ on first use): the cost of verifying k drafts
#    (the expert union) and auto on a repetitive prompt, bench/spec_verify_bench.c.
#    FLINT_BENCH_SPEC_MOE=0 skips it.
#
# FLINT_BENCH_THREADS (default 1): compute threads. On a shared 2-core
# machine one thread keeps process CPU time a clean measure of the work; the
# JSON has both CPU-time and wall-clock speedups, and the load average.
BUILD=${FLINT_BUILD:-build}
BUILD=${BUILD#"${FLINT_ROOT:-$(pwd)}/"}   # repository-relative in the results
BIN=${FLINT_BIN:-$BUILD/flint}
THREADS=${FLINT_BENCH_THREADS:-1}
N_FIM=${FLINT_BENCH_SPEC_FIM:-40}
N_REF=${FLINT_BENCH_SPEC_REFACTOR:-4}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

MODEL=$(ls models/flint-coder-moe.*.gguf 2>/dev/null | head -1)
DRAFT=$(ls models/flint-coder-draft.*.gguf 2>/dev/null | head -1)
[ -n "$MODEL" ] || { echo "bench_spec: no models/flint-coder-moe.*.gguf" >&2; exit 1; }
[ -n "$DRAFT" ] || DRAFT=-

LIBS="-lmsgpackc -luv -lutf8proc -lsodium -ljansson -lm -lpthread"
for b in spec_bench spec_verify_bench; do
  cc -std=c11 -O2 -D_GNU_SOURCE -Icsrc bench/$b.c "$BUILD/libflint.a" $LIBS -o "$TMP/$b" || exit 1
done

find csrc lua tools/train -maxdepth 2 -type f \( -name '*.c' -o -name '*.py' -o -name '*.lua' \) 2>/dev/null |
  LC_ALL=C sort >"$TMP/files"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "default model: $MODEL, draft $DRAFT, $THREADS thread(s), load $load_before"
# shellcheck disable=SC2046
"$TMP/spec_bench" "$TMP/default.json" "$MODEL" "$DRAFT" "$THREADS" "$N_FIM" "$N_REF" 1 $(cat "$TMP/files") || exit 1

MOE=$BUILD/qwen3-30b-a3b-12l.q4_k.gguf
if [ "${FLINT_BENCH_SPEC_MOE:-1}" != 0 ]; then
  [ -f "$MOE" ] || "$BIN" synth --preset qwen3-30b-a3b --layers 12 --type q4_k --out "$MOE" || exit 1
  echo "synthetic MoE: $MOE"
  "$TMP/spec_verify_bench" "$TMP/moe.json" "$MOE" "$THREADS" 512 32 || exit 1
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$TMP" "$MODEL" "$DRAFT" "$THREADS" "$load_before" "$load_after" <<'EOF'
import hashlib, json, os, platform, subprocess, sys, time
tmp, model, draft, threads, load0, load1 = sys.argv[1:]
def sha(p):
    return hashlib.sha256(open(p, 'rb').read()).hexdigest()[:16] if os.path.isfile(p) else None
files = open(os.path.join(tmp, 'files')).read().split()
cpu = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), '?')
try:
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
except OSError:
    commit = ''
out = {
    'description': 'speculative decoding vs plain greedy decoding in the same run (bench/bench_spec.sh); '
                   'speedups are tokens/s of a mode over plain on the same requests; greedy outputs of every '
                   'mode are checked against plain (outputs_differ_from_plain)',
    'machine': {'cpu': cpu, 'cores': os.cpu_count(), 'threads_used': int(threads),
                'load_average_before': load0, 'load_average_after': load1,
                'date': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()), 'commit': commit},
    'default_model': {'model': model, 'model_sha256': sha(model), 'draft': draft, 'draft_sha256': sha(draft),
                      'held_out_files': [{'path': f, 'sha256': sha(f)} for f in files]},
}
out['default_model'].update(json.load(open(os.path.join(tmp, 'default.json'))))
moe = os.path.join(tmp, 'moe.json')
if os.path.isfile(moe):
    out['synthetic_moe'] = json.load(open(moe))
os.makedirs('bench/results', exist_ok=True)
json.dump(out, open('bench/results/spec.json', 'w'), indent=2)
print('wrote bench/results/spec.json')
EOF
