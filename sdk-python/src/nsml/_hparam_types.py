"""An operator's ``set NAME=TEXT``, converted to the type of the hyperparameter's current value.

| current value | accepted text | refused |
|---|---|---|
| ``bool`` | ``true/false``, ``1/0``, ``yes/no``, ``on/off`` (any case) | anything else |
| ``int`` | ``3``, ``-2``, and a whole number written as a float (``3.0``, ``1e3``) | ``3.5``, ``abc`` |
| ``float`` | what ``float()`` reads: ``.5``, ``5e-1``, ``1``, ``inf``, ``nan`` | ``abc``, ``true`` |
| ``list``/``tuple``/``dict`` | JSON of that kind (``[1,2]``, ``{"a":1}``); a tuple gets a tuple | other JSON, bad JSON |
| ``str`` | the text as typed | nothing |
| ``None`` or another type | JSON when it parses, else the text | nothing |

A value that arrives already typed (not a string) is written as JSON first, so ``1`` for a float
becomes ``1.0`` the same way.
"""

from __future__ import annotations

import json
import math
from typing import Any, Tuple

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class Refused(ValueError):
    """The text does not convert; the message names the hyperparameter, its type and the text."""


def parse_value(text: Any) -> Any:
    """JSON when the text parses as JSON (``0.01``, ``true``, ``[1,2]``), else the text itself."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(name: str, kind: str, current: Any, text: str, why: str) -> Refused:
    quoted = json.dumps(text if len(text) <= 60 else text[:57] + "...")
    return Refused(f"{name} is {kind} (current {_shown(current)}); {quoted} {why}")


def _to_bool(name: str, current: bool, text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _refuse(name, "a bool", current, text, "is not one of true/false, 1/0, yes/no, on/off")


def _to_float(name: str, current: Any, text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise _refuse(name, "a float", current, text, "is not a number") from None


def _to_int(name: str, current: int, text: str) -> int:
    stripped = text.strip()
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        raise _refuse(name, "an int", current, text, "is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise _refuse(name, "an int", current, text, "is not a whole number")
    return int(number)


def _to_container(name: str, current: Any, text: str) -> Any:
    kind = type(current)
    wanted = dict if isinstance(current, dict) else list
    label = {dict: "a dict", list: "a list"}.get(kind, "a tuple" if isinstance(current, tuple) else f"a {kind.__name__}")
    example = '{"a": 1}' if wanted is dict else "[1, 2]"
    try:
        value = json.loads(text)
    except ValueError:
        raise _refuse(name, label, current, text, f"is not JSON; write it as JSON, e.g. {example}") from None
    if not isinstance(value, wanted):
        raise _refuse(name, label, current, text, f"is JSON of another kind; write it like {example}")
    if isinstance(current, tuple):
        return tuple(value)
    return value


def convert_like(name: str, current: Any, value: Any) -> Any:
    """``value`` (an operator's text) as the type of ``current``; raises ``Refused`` if it is not one."""
    text = _as_text(value)
    if isinstance(current, bool):
        return _to_bool(name, current, text)
    if isinstance(current, int):
        return _to_int(name, current, text)
    if isinstance(current, float):
        return _to_float(name, current, text)
    if isinstance(current, (list, tuple, dict)):
        return _to_container(name, current, text)
    if isinstance(current, str):
        return text
    return parse_value(text)


def convert_all(current: Any, values: Any) -> Tuple[dict, list]:
    """Converts every ``name=value`` against ``current`` (a mapping); returns the converted values
    and the refusals, so that a caller can refuse the whole set before anything changes."""
    converted, refusals = {}, []
    for name, value in values.items():
        try:
            converted[name] = convert_like(name, current[name], value)
        except Refused as err:
            refusals.append(str(err))
    return converted, refusals
