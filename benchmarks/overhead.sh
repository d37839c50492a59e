#!/usr/bin/env bash
# Harness overhead: steady epoch time of each bench trainer vs the bare loop of its mode, for
# every mode of every framework (torch, tensorflow, jax), over rounds of fresh processes on the
# CPU cases' core (1 thread), the side that goes first alternating each round, with the epoch's
# arithmetic floor (benchmarks/floor.py) measured at the start of each round. Per mode: the median
# over rounds with its 95% interval, the ratio trainer/bare with its interval, a verdict and the
# 1.2x target; each side as a multiple of the floor and, for the whole-epoch modes, the 10x
# target. Every round's values go to a JSON file.
# Usage: bash benchmarks/overhead.sh [--rounds 5] [--epochs 10] [--modes MODE ...] [--json PATH]
#        bash benchmarks/overhead.sh --summarize PATH     # the tables again from a saved run
# Details: benchmarks/overhead.py. All 14 modes, 5 rounds, 10 epochs: about 30 min (estimated
# from 4-5 s per process and the compile and eager modes' known epoch times, not timed).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m benchmarks.overhead "$@"
