#!/bin/sh
# bench_model.sh — held-out quality of the shipped models (models/README.md):
# perplexity on the corpus test split, FIM next-line exact match (PSM and
# SPM; and through `flint serve`, with and without token healing, 800 cases
# each of next lines, mid-word and line-rest cuts), exact match of synthetic
# refactors, the draft model's greedy agreement with the MoE and flint's own
# draft acceptance. Runs tools/train/metrics.py (definitions there) with the
# sample sizes of the committed figures; greedy generation goes through this
# build's `flint generate`. Writes bench/results/model.json. Takes ~4 minutes
# on 2 cores.
#
# Needs what `make model` creates and uses: the corpus test split
# (corpus/test.jsonl, git-ignored, re-created by `make model`) and Python 3
# with PyTorch and NumPy (python3-torch, python3-numpy; offline tooling only).
# Without them it says what is missing and skips (exit 0), so `make bench`
# still runs the other benchmarks on a fresh machine.
#
# FLINT_BENCH_MODEL_QUICK=1: metrics.py --quick (smaller samples, ~5 minutes).
BUILD=${FLINT_BUILD:-build}
BIN=${FLINT_BIN:-$BUILD/flint}
PY=${PY:-/usr/bin/python3}

if [ ! -f corpus/test.jsonl ]; then
  echo "bench_model: skipped: no corpus/test.jsonl (the held-out split; \`make model\` re-creates the corpus)"
  exit 0
fi
if ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
  echo "bench_model: skipped: $PY cannot import torch and numpy (apt-get install python3-torch python3-numpy)"
  exit 0
fi
if [ "${FLINT_BENCH_MODEL_QUICK:-0}" = 1 ]; then
  sizes="--quick"
else
  sizes="--fim-n 100 --refactor-n 60 --rename30-n 20"
fi
# shellcheck disable=SC2086
"$PY" tools/train/metrics.py --flint "$BIN" --out bench/results/model.json $sizes >/dev/null || exit 1
"$PY" - <<'EOF'
import json
r = json.load(open("bench/results/model.json"))
em = r["refactor_em"]
print(f"models: {r['moe']} + {r['draft']} (generation: {r['generation_engine']})")
print(f"  perplexity (test split)          {r['perplexity']['ppl']:.2f}  "
      f"({r['perplexity']['bits_per_byte']:.3f} bits/byte)")
print(f"  next-line exact match PSM / SPM  {100 * r['next_line_em_psm']:.0f}% / {100 * r['next_line_em_spm']:.0f}%"
      f"  (n = {r['next_line_n']}; aim 20%)")
print(f"  refactor exact match             {100 * em['all']:.1f}%  (renames of 25-35 lines: "
      f"{100 * em.get('rename_30', 0):.0f}%; aim 80%)")
da = r["draft_acceptance"]
print(f"  draft agreement with the MoE     {100 * da['token_agreement']:.1f}%  (aim 60%)")
if "flint_spec" in r:
    print(f"  flint --spec draft acceptance    {100 * r['flint_spec']['acceptance']:.1f}%")
if "serve_em" in r:
    s = r["serve_em"]
    print(f"  flint serve exact match (n = {s['n']} each): next line {100 * s['next_line_healed']:.1f}% "
          f"({100 * s['next_line_no_heal']:.1f}% without token healing), mid-word "
          f"{100 * s['mid_word_healed']:.1f}% ({100 * s['mid_word_no_heal']:.1f}%), line rest "
          f"{100 * s['line_rest_healed']:.1f}% ({100 * s['line_rest_no_heal']:.1f}%)")
EOF
