"""The script arguments NSML reserves: ``--mode``, ``--pause`` and ``--iteration``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional, Sequence

RESERVED = ("--mode", "--pause", "--iteration")


@dataclass(frozen=True)
class ReservedArgs:
    mode: str
    pause: int
    iteration: Optional[str]


def reserved_args(argv: Sequence[str]) -> ReservedArgs:
    """Reads the reserved arguments (``--x v`` or ``--x=v``) and ignores everything else."""
    found: Dict[str, str] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        for flag in RESERVED:
            if arg == flag and i + 1 < len(argv):
                found[flag] = argv[i + 1]
                i += 1
            elif arg.startswith(flag + "="):
                found[flag] = arg[len(flag) + 1:]
        i += 1
    try:
        pause = int(found.get("--pause", "0") or 0)
    except ValueError:
        pause = 1 if found.get("--pause", "").lower() in ("true", "yes") else 0
    return ReservedArgs(mode=found.get("--mode", "train"), pause=pause, iteration=found.get("--iteration") or None)
