"""Checkpoint, session and metric-key names, validated where the script hands them over."""

from __future__ import annotations

import re
import time
from typing import Any, Optional

from ._errors import INVALID_NAME, NsmlError

MAX_CHECKPOINT_NAME = 200
MAX_KEY_CHARS = 256

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SESSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}/[a-z0-9][a-z0-9_-]{0,63}/[1-9][0-9]{0,9}$")


def checkpoint_name(checkpoint: Any) -> str:
    """``str(checkpoint)``; ``None`` means the current local time, e.g. ``20240131-235959``."""
    if checkpoint is None:
        return time.strftime("%Y%m%d-%H%M%S")
    name = str(checkpoint)
    bad = (
        not name
        or len(name) > MAX_CHECKPOINT_NAME
        or "/" in name
        or "\\" in name
        or _CONTROL.search(name) is not None
        or name in (".", "..")
    )
    if bad:
        raise NsmlError(
            INVALID_NAME,
            f"invalid checkpoint name {name[:80]!r}: use 1 to {MAX_CHECKPOINT_NAME} characters "
            'without "/", "\\" or control characters, and not "." or ".."',
        )
    return name


def session_name(session: Any, current: Optional[str]) -> str:
    """A full ``USER/DATASET/N``; a bare ``N`` means that number for this session's user and dataset."""
    text = str(session).strip()
    if text.isdigit() and current and _SESSION.match(current):
        user, dataset, _ = current.split("/")
        text = f"{user}/{dataset}/{int(text)}"
    if not _SESSION.match(text):
        raise NsmlError(
            INVALID_NAME,
            f"invalid session name {text[:80]!r}: a session is named USER/DATASET/N, e.g. alice/mnist/3 "
            "(or just N for a session of the same user and dataset)",
        )
    return text


def check_metric_key(key: str) -> str:
    """Validates a ``report`` keyword and returns it as stored: ``__`` becomes ``/``."""
    if not key or len(key) > MAX_KEY_CHARS or _CONTROL.search(key) is not None:
        shown = key[:60] + ("..." if len(key) > 60 else "")
        raise ValueError(
            f"nsml.report: metric name {shown!r} ({len(key)} characters) is invalid: "
            f"use 1 to {MAX_KEY_CHARS} characters without control characters"
        )
    return key.replace("__", "/")
