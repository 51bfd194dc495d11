"""Resuming a session the platform requeued after a preemption.

The platform starts such a run with ``NSML_RESUME_CHECKPOINT`` (the newest checkpoint) and
``NSML_RESUME_FROM`` (the session it belongs to). Scripts written for NAVER's NSML call
``nsml.paused()`` only under ``if args.pause:``, so the SDK resumes them itself: the first
``nsml.bind(load=...)`` of the process loads that checkpoint right after binding. It happens
once per process, whichever comes first of that ``bind`` and a ``paused()``.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable, Optional

from ._runtime import RUNTIME


class _State:
    def __init__(self) -> None:
        self.done = False
        self.lock = threading.Lock()


STATE = _State()


def wanted() -> Optional[str]:
    """The checkpoint this run still has to resume from; None when none (or already done)."""
    return None if STATE.done else RUNTIME.env.resume_checkpoint


def mark_done() -> None:
    """Nothing resumes any more in this process (e.g. ``paused()`` loaded ``--iteration``)."""
    STATE.done = True


def resume_once(load: Callable[..., Any]) -> bool:
    """Loads the checkpoint to resume from with ``load(name, session=...)`` the first time it is
    called in a process where the platform named one; True when it loaded. An exception of the
    load callback reaches the caller (and it is not tried again)."""
    with STATE.lock:
        checkpoint = wanted()
        if checkpoint is None:
            return False
        STATE.done = True
    session = RUNTIME.env.resume_from or RUNTIME.session_name
    load(checkpoint, session=RUNTIME.env.resume_from)
    _say(f"nsml: resumed from {checkpoint} of {session}")
    return True


def _say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except Exception:  # noqa: BLE001 - stderr closed
        pass


def reset() -> None:
    """Forgets that this process resumed (for tests)."""
    STATE.done = False
