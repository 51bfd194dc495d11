"""``report()``: the training loop's hot path. It validates, timestamps and appends; nothing else.

A record is the call's own keyword dict with three integer keys added (they cannot clash with
metric names, which are strings): ``TS`` (wall time), ``STEP`` and, when true, ``SUMMARY``. Reusing
that dict costs no allocation, and a dict of numbers is not tracked by the garbage collector, so
a buffer of a million records costs the training loop nothing at collection time. The
background flusher turns records into wire form (key renaming, step defaults, NaN encoding).
"""

from __future__ import annotations

import operator
import time
from collections import deque
from typing import Any, Callable, Deque, Dict, Optional, Set

from ._names import check_metric_key

Record = Dict[Any, Any]
TS, STEP, SUMMARY = 0, 1, 2

#: Records waiting for the flusher. Bounded by ``_CAPACITY``; the flusher pops from the left.
_BUFFER: Deque[Record] = deque()
_CAPACITY = 1 << 18
#: Commands waiting to be applied at the next ``report()`` or ``poll()``.
_PENDING: Deque[Dict[str, Any]] = deque()
#: Metric keys already validated, and their stored form (``__`` → ``/``).
_KNOWN: Set[str] = set()
KEY_MAP: Dict[str, str] = {}
_MAX_KNOWN = 100_000
_NUMERIC = frozenset((int, float))
_now = time.time


class ReportState:
    """What ``report()`` remembers besides records: drops, the last scope, the command hook."""

    def __init__(self) -> None:
        self.dropped = 0
        self.scope: Optional[Dict[str, Any]] = None
        self.apply_pending: Callable[[Any], None] = lambda step: None


STATE = ReportState()


def report(summary: bool = False, scope: Optional[Dict[str, Any]] = None, step: Any = None, **metrics: Any) -> None:
    """Records metrics for this step; returns at once and never raises a transport error.

    ``train__loss=0.3`` is stored as ``train/loss``; the wall time is recorded; ``step`` defaults
    to the last step given (or to the number of earlier calls when none ever was). Values must
    be numbers (NaN and inf are kept): anything else raises ``TypeError`` naming the key.
    ``summary=True`` values show in ``nsml ps`` and in the checkpoint list. ``scope`` (e.g.
    ``locals()``) is where an operator's ``get NAME`` reads. Pending operator commands are
    applied here, after the record is taken.
    """
    if _KNOWN.issuperset(metrics):
        try:
            fast = type(sum(metrics.values())) in _NUMERIC
        except TypeError:
            fast = False
        if not fast:
            metrics = _checked(metrics)
    else:
        metrics = _checked(metrics)
    metrics[0] = _now()  # TS
    metrics[1] = step  # STEP
    if summary:
        metrics[2] = True  # SUMMARY
    if len(_BUFFER) < _CAPACITY:
        _BUFFER.append(metrics)
    else:
        STATE.dropped += 1
    if scope is not None:
        STATE.scope = scope
    if _PENDING:
        STATE.apply_pending(step)


def _checked(metrics: Dict[str, Any]) -> Dict[str, Any]:
    """The slow path: new keys are validated and remembered; odd numeric types converted."""
    for key in metrics:
        if key not in _KNOWN:
            stored = check_metric_key(key)
            if len(_KNOWN) < _MAX_KNOWN:
                _KNOWN.add(key)
                KEY_MAP[key] = stored
    converted: Optional[Dict[str, Any]] = None
    for key, value in metrics.items():
        kind = type(value)
        if kind is float or kind is int:
            continue
        number = to_number(key, value)
        if converted is None:
            converted = dict(metrics)
        converted[key] = number
    return converted if converted is not None else metrics


def to_number(key: str, value: Any) -> Any:
    """Converts bools, numpy scalars and one-element tensors; raises ``TypeError`` otherwise."""
    kind = type(value)
    if kind is bool:
        return int(value)
    if value is None or isinstance(value, (str, bytes, bytearray, complex)):
        raise _not_a_number(key, value)
    if hasattr(kind, "__index__"):
        try:
            return operator.index(value)
        except Exception:  # noqa: BLE001 - e.g. a float tensor: try float() next
            pass
    if hasattr(kind, "__float__"):
        try:
            return float(value)
        except Exception as err:  # noqa: BLE001 - a tensor of many elements, a broken __float__
            raise _not_a_number(key, value) from err
    raise _not_a_number(key, value)


def _not_a_number(key: str, value: Any) -> TypeError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return TypeError(
        f"nsml.report: metric {key!r} must be a number (int or float), got {type(value).__name__} {shown}"
    )


def set_capacity(records: int) -> None:
    """Sets the buffer bound (``NSML_BUFFER_RECORDS``)."""
    global _CAPACITY
    _CAPACITY = max(16, int(records))


def capacity() -> int:
    return _CAPACITY


def pending() -> Deque[Dict[str, Any]]:
    return _PENDING


def buffer() -> Deque[Record]:
    return _BUFFER
