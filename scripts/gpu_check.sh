#!/usr/bin/env bash
# The GPU check (benchmarks/gpu_check): `--prepare` here, no option on the GPU machine,
# `--dry-run` here on cpu (the test suite runs it). Runs bench from this checkout through
# PYTHONPATH and installs nothing (the GPU machine's Python 3.12 is outside bench's range).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${PYTHON:-}" ]; then
  if [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python
  else  # the GPU machine: the first Python that has torch
    for candidate in python3 python; do
      if "$candidate" -c "import importlib.util as u, sys; sys.exit(not u.find_spec('torch'))" \
          2>/dev/null; then
        PYTHON=$candidate
        break
      fi
    done
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec "${PYTHON:?no Python with torch found; set PYTHON}" -m benchmarks.gpu_check "$@"
