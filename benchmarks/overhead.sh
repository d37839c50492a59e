#!/usr/bin/env bash
# Harness overhead: steady epoch time of each bench trainer vs the bare loop of its mode, over
# rounds of fresh processes on the CPU cases' core (1 thread), the side that goes first
# alternating each round; per mode the median over rounds with its 95% interval, the ratio
# trainer/bare with its interval and a verdict; every round's values go to a JSON file.
# Usage: bash benchmarks/overhead.sh [--rounds 5] [--epochs 10] [--modes MODE ...] [--json PATH]
#        bash benchmarks/overhead.sh --summarize PATH     # the table again from a saved run
# Details: benchmarks/overhead.py. All 7 modes, 5 rounds, 10 epochs: about 20 min (estimated).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m benchmarks.overhead "$@"
