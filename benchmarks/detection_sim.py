"""Detection quality on synthetic histories: the table in BENCHMARKS.md, "Regression detection".

Usage: .venv/bin/python benchmarks/detection_sim.py [--series 1000] [--seed 20261101] [--json PATH]
"""

from __future__ import annotations

import sys

from bench.analysis.simulation import main

if __name__ == "__main__":
    sys.exit(main())
