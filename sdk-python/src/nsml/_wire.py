"""JSON as it travels on the bridge and into local files: strict JSON, one object per line.

Non-finite floats have no JSON form; they travel as the strings ``"NaN"``, ``"Infinity"`` and
``"-Infinity"`` (see proto/sdk-bridge.md). Objects JSON cannot encode fall back to a number
(``float(x)``), a list (``x.tolist()``) or their ``repr``.
"""

from __future__ import annotations

import json
import math
from typing import Any, List

#: No line on the bridge may be longer than this (bytes, newline excluded).
MAX_LINE_BYTES = 4 * 1024 * 1024
#: Metric batches are cut so that each line stays under this.
TARGET_LINE_BYTES = 1024 * 1024
#: A value returned to an operator (``get``, ``call``) is cut to this many characters of JSON.
MAX_VALUE_CHARS = 64 * 1024


def _fallback(value: Any) -> Any:
    if hasattr(value, "tolist"):
        try:
            return value.tolist()
        except Exception:  # noqa: BLE001
            pass
    if hasattr(type(value), "__float__"):
        try:
            return float(value)
        except Exception:  # noqa: BLE001
            pass
    if isinstance(value, (set, frozenset)):
        return list(value)
    return repr(value)


_ENCODER = json.JSONEncoder(allow_nan=True, separators=(",", ":"), ensure_ascii=False, default=_fallback)


def finite(value: Any) -> Any:
    """Replaces non-finite floats, at any depth, with their string names."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Strict JSON text (no NaN tokens), compact."""
    text = _ENCODER.encode(value)
    if "NaN" in text or "Infinity" in text:
        text = _ENCODER.encode(finite(json.loads(text)))
    return text


def encode_line(value: Any) -> bytes:
    return dumps(value).encode("utf-8") + b"\n"


def encode_lines(values: List[Any]) -> bytes:
    """Many values as JSON Lines, encoded in one pass when none holds a non-finite float."""
    text = "\n".join(map(_ENCODER.encode, values))
    if "NaN" in text or "Infinity" in text:
        text = "\n".join(dumps(v) for v in values)
    return text.encode("utf-8") + b"\n"


def to_json_value(value: Any, limit: int = MAX_VALUE_CHARS) -> Any:
    """A JSON-ready form of any value handed to an operator, cut to ``limit`` characters."""
    try:
        text = dumps(value)
    except Exception:  # noqa: BLE001 - recursion, a broken __repr__
        text = json.dumps(_safe_repr(value))
    if len(text) > limit:
        return {"truncated": True, "repr": _safe_repr(value)[:limit]}
    return json.loads(text)


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001
        return f"<{type(value).__name__} without a repr>"
