"""Entry point of the small process that cleans up after one case if `bench` dies first.

bench.runner starts it beside each worker, in its own session (terminal and group signals miss
it), with a pipe on its stdin. The runner writes the worker's process group there, and `done`
once the worker has ended. When the pipe closes (the runner finished, or died, even by SIGKILL)
the janitor kills a worker group still running and removes the case's temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys


def main(argv: list[str] | None = None) -> int:
    (folder,) = sys.argv[1:] if argv is None else argv
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # only the end of its pipe ends it
    print("ready", flush=True)
    group: int | None = None
    for line in sys.stdin:
        word = line.strip()
        group = int(word) if word.isdigit() else None
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
