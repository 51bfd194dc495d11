"""Warnings that must not flood a training log: each kind is printed once per process."""

from __future__ import annotations

import sys
import threading
from typing import Set

_SEEN: Set[str] = set()
_LOCK = threading.Lock()


def warn_once(kind: str, message: str) -> None:
    """Prints ``nsml: message`` to stderr the first time ``kind`` is seen; never raises."""
    with _LOCK:
        if kind in _SEEN:
            return
        _SEEN.add(kind)
    try:
        sys.stderr.write(f"nsml: {message}\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - stderr closed at shutdown
        pass


def reset_warnings() -> None:
    """Forgets which warnings were printed (for tests)."""
    with _LOCK:
        _SEEN.clear()
