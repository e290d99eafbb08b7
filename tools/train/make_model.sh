#!/bin/sh
# Re-create the default models from scratch (`make model`). Fixed seeds throughout.
#
# Steps: Debian sources -> corpus -> BPE tokenizer -> training shards -> MoE and draft
# training -> GGUF export (F32 for checks, Q8_0 shipped) -> checksums -> checks -> metrics.
# Everything large goes to corpus/ and tools/train/work/ (both git-ignored).
#
# Expected time on 2 CPU cores (AMD EPYC, AVX-512 BF16): fetch + corpus ~15 min, tokenizer
# ~2 min, shards ~10 min, MoE training ~MOE_HOURS, draft ~DRAFT_HOURS, export + metrics
# ~30 min. With the defaults: about 8 hours. Re-runs skip finished steps (fetched packages,
# written shards, checkpoints are resumed).
#
# Knobs (environment): MOE_STEPS, DRAFT_STEPS (optimizer steps of 8 x 1024 tokens),
# SHARDS (training shards of 1M tokens), JOBS (parallel data workers), PY (python with torch).
set -eu

PY=${PY:-/usr/bin/python3}
JOBS=${JOBS:-2}
SHARDS=${SHARDS:-120}
MOE_STEPS=${MOE_STEPS:-12000}
DRAFT_STEPS=${DRAFT_STEPS:-6000}
WORK=tools/train/work
T=tools/train
NICE="nice -n 10"

cd "$(dirname "$0")/../.."
mkdir -p "$WORK" corpus

echo "== corpus: Debian source packages (private apt state in corpus/apt)"
$NICE $PY $T/corpus_fetch.py --corpus corpus --jobs 2
$NICE $PY $T/corpus.py --corpus corpus

echo "== tokenizer"
[ -f corpus/tokenizer.json ] || $NICE $PY $T/bpe_train.py --corpus corpus --out corpus/tokenizer.json
$NICE $PY $T/tok_check.py --corpus corpus --splits val,test

echo "== training data"
$NICE $PY $T/data.py --split val --shards 0:1 --jobs 1 --out $WORK/data
$NICE $PY $T/data.py --split train --shards 0:$SHARDS --jobs "$JOBS" --out $WORK/data

echo "== fp32 vs bf16 throughput"
[ -f $WORK/precision.jsonl ] || $NICE $PY $T/bench_precision.py > $WORK/precision.jsonl

echo "== training"
$NICE $PY $T/train.py --model moe --out $WORK/moe --steps "$MOE_STEPS" --resume
$NICE $PY $T/train.py --model draft --out $WORK/draft --steps "$DRAFT_STEPS" --resume

echo "== export, checksums, checks"
$NICE $PY $T/ship.py --moe $WORK/moe/ckpt.pt --draft $WORK/draft/ckpt.pt --type Q8_0
$NICE $PY $T/check_fixtures.py models/flint-coder-moe.Q8_0.gguf models/flint-coder-draft.Q8_0.gguf
if [ -x build/flint ]; then
    $NICE $PY $T/check_roundtrip.py
    $NICE $PY $T/tok_check.py --corpus corpus --splits val,test --flint build/flint
else
    echo "build/flint not built: skipping the flint-vs-PyTorch logits and tokenizer checks"
fi

echo "== metrics"
$NICE $PY $T/metrics.py --out bench/results/model.json
