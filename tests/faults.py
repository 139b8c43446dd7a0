"""Deterministic faults for subprocess tests: die at the N-th file replacement.

Every file deepracer writes in a run (metrics, simtraces, checkpoints, models, the
evaluations) goes through a temporary file and ``os.replace``. Run as::

    python -m tests.faults N before|after -- <deepracer arguments>

it counts ``os.replace`` calls and SIGKILLs its own process just before (the
temporary file is complete, the target still old) or just after (the target new,
nothing later written) the N-th one; ``N = 0`` never kills but prints the count when
the command ends, so a test can draw its moments from the real range. Unlike a kill
after a sleep, the same N always lands on the same write.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def main(argv: list[str]) -> int:
    count, when, separator, *command = argv
    assert separator == "--" and when in ("before", "after")
    target = int(count)
    real = os.replace
    calls = 0

    def replace(src: Any, dst: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == target and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst, **kwargs)
        if calls == target and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)

    os.replace = replace  # type: ignore[assignment]
    from deepracer.cli import main as cli

    status = cli(command)
    if target == 0:
        print(f"REPLACES {calls}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
