#!/bin/sh
# Re-create the default models from scratch (`make model`). Fixed seeds throughout.
#
# Steps: Debian sources -> corpus -> BPE tokenizer -> training shards -> MoE and draft
# training -> GGUF export (F32 for checks, Q8_0 shipped) -> checksums -> checks -> metrics.
# Everything large goes to corpus/ and tools/train/work/ (both git-ignored).
#
# Expected time on 2 idle CPU cores (AMD EPYC, AVX-512 BF16): fetch + corpus ~15 min,
# tokenizer ~1 min, shards ~5 min, MoE training ~2.5 h (16.4 M tokens at ~1900 tokens/s),
# draft ~1 h, export + checks + metrics ~20 min: about 4 hours. On a machine shared with other
# jobs it takes several times longer (use THREADS=1 there: 2 OpenMP threads stall when a
# core is taken away). Re-runs skip finished steps (fetched packages, existing shards,
# the tokenizer) and resume training from the checkpoints.
#
# Knobs (environment): MOE_STEPS, DRAFT_STEPS (optimizer steps of 8 x 1024 tokens; the
# cosine schedule ends there), SHARDS (training shards of 1 M tokens), JOBS (data workers),
# THREADS (torch threads), PY (python with torch).
#
# WARM_START=1 continues the shipped models instead of training from scratch (this is how
# v2 was made from v1): the tokenizer is copied from models/flint-coder-moe.Q8_0.gguf
# (bpe_train.py --from-gguf; a re-trained tokenizer equals it only on a byte-identical
# corpus), both runs start from the shipped weights (train.py --init-gguf, fresh optimizer,
# WARMUP steps) at train shard FIRST_SHARD (skip shards the earlier runs saw), and
# MAX_MINUTES (0 = no limit) caps each run's training time. Set MOE_STEPS / DRAFT_STEPS to
# what fits in MAX_MINUTES so the LR decays to its floor by the end.
# v2: WARM_START=1 FIRST_SHARD=2 WARMUP=20 MOE_STEPS=470 THREADS=1 (MoE only; 3.85 M tokens in
# 71 minutes of step time on the shared machine), then ship.py with the shipped draft GGUF.
# v3: v2's run continued from its checkpoint (tools/train/work/moe/ckpt.pt copied to
# tools/train/work/moe3/) over two sessions, each piece ending where time ran out, so the
# schedule was re-planned twice (train.py --model moe --out tools/train/work/moe3 --resume
# --warmup 20 --threads 1 with --steps 1170 --lr 1.2e-3 to step 700, --steps 2100 --lr 9e-4
# to step 1050, --steps 1390 --lr 9e-4 to the end: cosine down to 9e-5 at step 1390); 11.4 M
# tokens of this lineage in all (v2 + 7.5 M), then ship.py with the shipped draft GGUF.
# v4: v3's checkpoint copied to tools/train/work/moe4/ and continued the same way (--steps 2180
# --lr 1.2e-3 to step 1500, then --steps 1800 --lr 1.2e-3 to the end: ~3.9e-4 down to 1.2e-4);
# 14.7 M tokens of this lineage, then ship.py with the shipped draft GGUF.
# v5: v4's checkpoint copied to tools/train/work/moe5/ and continued (--steps 4800 --lr 1e-3
# --warmup 20 --threads 1 until the session ended at step 1876, then from the step-1850
# checkpoint with --steps 3300 --lr 1e-3, stopped at step 3100 with the LR at 1.1e-4); 25.4 M
# tokens of this lineage. Its draft (v2) continued v1's shipped draft:
# train.py --model draft --out tools/train/work/draft2 --init-gguf
# models/flint-coder-draft.Q8_0.gguf --first-shard 6 --steps 2000 --lr 1e-3 --warmup 20
# --threads 1 (16.4 M tokens, 76 minutes of step time); then ship.py --moe
# tools/train/work/moe5/ckpt.pt --draft tools/train/work/draft2/ckpt.pt --type Q8_0.
# Draft v3 (shipped with the v5 MoE, whose export is byte-identical): a copy of draft2's
# step-2000 checkpoint continued with train.py --model draft --out tools/train/work/draft3
# --resume --steps 5000 --lr 6e-4 --warmup 20 --threads 1, stopped at the step-3150
# checkpoint (9.4 M more tokens, ~1 h of step time); then ship.py --moe
# tools/train/work/moe5/ckpt.pt --draft tools/train/work/draft3/ckpt.pt --type Q8_0.
# MoE v6: a copy of v5's step-3100 checkpoint (tools/train/work/moe6) continued with
# train.py --model moe --out tools/train/work/moe6 --resume --steps 6000 --lr 8e-4 --warmup 20
# --threads 1 --eval-every 250 to step 3550, then the same with --steps 4100 (the cosine then
# anneals to 8e-5), shipped at the step-4000 checkpoint (7.4 M more tokens, 34.8 M in all):
# ship.py --moe tools/train/work/moe6/ckpt.pt --draft tools/train/work/draft3/ckpt.pt --type Q8_0.
# MoE v7: a copy of v6's step-4000 checkpoint (tools/train/work/moe7) continued with a fresh
# schedule: train.py --model moe --out tools/train/work/moe7 --resume --sched-from 4000
# --steps 5500 --lr 5e-4 --warmup 30 --eval-every 300 (--threads 1 or 2 as the machine allowed;
# --steps re-planned from 5800 while it ran), shipped at step 5500 (12.3 M more tokens, 47.1 M
# in all): ship.py --moe tools/train/work/moe7/ckpt.pt --draft tools/train/work/draft3/ckpt.pt
# --type Q8_0. It read train shards 33-44 (shards 40-63 made with data.py --shards 40:64).
# MoE v8: a copy of v7's step-5500 checkpoint (tools/train/work/moe8) continued with
# train.py --model moe --out tools/train/work/moe8 --resume --sched-from 5500 --steps 6050
# --lr 2.5e-4 --warmup 20 --threads 2 --eval-every 275 (4.5 M more tokens, 51.6 M in all):
# ship.py --moe tools/train/work/moe8/ckpt.pt --draft tools/train/work/draft3/ckpt.pt --type Q8_0.
# MoE v9 and draft v4 (the faster trainer): copies of moe8's step-6050 and draft3's step-3150
# checkpoints (tools/train/work/moe9, draft4) continued side by side, one thread each (the MoE
# on two once the draft ended): train.py --model moe --out tools/train/work/moe9 --resume
# --sched-from 6050 --steps 8450 --lr 4e-4 --warmup 30 --eval-every 400, which ran out of train
# shards (train-00063) at step 7936 and shipped its step-7900 checkpoint; train.py --model draft
# --out tools/train/work/draft4 --resume --sched-from 3150 --steps 4950 --lr 4e-4 --warmup 20
# --eval-every 450. ship.py --moe tools/train/work/moe9/ckpt.pt --draft
# tools/train/work/draft4/ckpt.pt --type Q8_0.
# MoE v10: a copy of moe9's step-7900 checkpoint (tools/train/work/moe10) continued with
# train.py --model moe --out tools/train/work/moe10 --resume --sched-from 7900 --steps 9400
# --lr 3e-4 --warmup 30 --eval-every 450 (--threads 1, then 2; shards 63-75, made with
# data.py --split train --shards 64:128): ship.py --moe tools/train/work/moe10/ckpt.pt
# --draft tools/train/work/draft4/ckpt.pt --type Q8_0.
# MoE v12: a copy of v11 (moe11: v10 continued with --sched-from 9400 --steps 10400 --lr 3e-4
# --warmup 30, not shipped) in tools/train/work/moe12, continued with train.py --model moe --out
# tools/train/work/moe12 --resume --sched-from 10400 --steps 12900 --lr 3e-4 --warmup 30
# --eval-every 500 --threads 2, adding --middle-weight 5 from step 10750 on (shards 83-102):
# ship.py --moe tools/train/work/moe12/ckpt.pt --draft tools/train/work/draft4/ckpt.pt
# --type Q8_0. Shards 103-127 are still unread.
set -eu

PY=${PY:-/usr/bin/python3}
JOBS=${JOBS:-2}
SHARDS=${SHARDS:-48}
MOE_STEPS=${MOE_STEPS:-2000}
DRAFT_STEPS=${DRAFT_STEPS:-1500}
THREADS=${THREADS:-2}
WARM_START=${WARM_START:-0}
FIRST_SHARD=${FIRST_SHARD:-0}
WARMUP=${WARMUP:-60}
MAX_MINUTES=${MAX_MINUTES:-0}
WORK=tools/train/work
T=tools/train
NICE="nice -n 10"

cd "$(dirname "$0")/../.."
mkdir -p "$WORK" corpus

echo "== corpus: Debian source packages (private apt state in corpus/apt)"
$NICE $PY $T/corpus_fetch.py --corpus corpus --jobs 2
$NICE $PY $T/corpus.py --corpus corpus

echo "== tokenizer"
if [ "$WARM_START" = 1 ]; then
    $NICE $PY $T/bpe_train.py --from-gguf models/flint-coder-moe.Q8_0.gguf --out corpus/tokenizer.json
else
    [ -f corpus/tokenizer.json ] || $NICE $PY $T/bpe_train.py --corpus corpus --out corpus/tokenizer.json
fi
$NICE $PY $T/tok_check.py --corpus corpus --splits val,test

echo "== training data"
$NICE $PY $T/data.py --split val --shards 0:1 --jobs 1 --out $WORK/data
$NICE $PY $T/data.py --split train --shards $FIRST_SHARD:$SHARDS --jobs "$JOBS" --out $WORK/data

echo "== fp32 vs bf16 throughput"
[ -f $WORK/precision.jsonl ] || $NICE $PY $T/bench_precision.py > $WORK/precision.jsonl

echo "== training"
TRAIN="--warmup $WARMUP --lr 2e-3 --ckpt-every 50 --eval-every 250 --threads $THREADS --resume"
TRAIN="$TRAIN --first-shard $FIRST_SHARD --max-minutes $MAX_MINUTES"
INIT_MOE= INIT_DRAFT=
if [ "$WARM_START" = 1 ]; then
    INIT_MOE="--init-gguf models/flint-coder-moe.Q8_0.gguf"
    INIT_DRAFT="--init-gguf models/flint-coder-draft.Q8_0.gguf"
fi
$NICE $PY $T/train.py --model moe --out $WORK/moe --steps "$MOE_STEPS" $TRAIN $INIT_MOE
$NICE $PY $T/train.py --model draft --out $WORK/draft --steps "$DRAFT_STEPS" $TRAIN $INIT_DRAFT

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
