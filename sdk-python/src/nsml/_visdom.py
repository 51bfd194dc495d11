"""``nsml.Visdom``: NSML's stand-in for a Visdom client; plots become metrics of the session.

Scripts create it as ``Visdom(visdom=visdom)`` and call it like ``visdom.Visdom``. Nothing is
drawn; what a chart would show is recorded with ``report``:

* ``line(Y, X)`` and ``scatter(X, Y)``: every point is a metric value at step ``X`` (or the
  next step when no ``X`` is given), under the window's title (``opts={'title': ...}``, else
  ``win``, else ``line``/``scatter``); several lines (columns of ``Y``, or ``name=``) get
  ``TITLE/NAME`` (``TITLE/0``, ``TITLE/1`` when unnamed).
* ``image``, ``images``, ``text``, ``histogram``, ``heatmap``, ``bar``, ``matplot``, ...: the
  picture itself is not kept; each call counts under ``visdom/KIND/TITLE`` (the number of such
  calls so far), so they show in the metrics with their step.

Values may be numbers, nested lists, or arrays and tensors (anything with ``tolist()``). A call
this stand-in does not know, or one it cannot read, warns once and returns ``None``; it never
raises into the training loop.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ._report import report
from ._warn import warn_once

_SPACE = re.compile(r"\s+")
_COUNTED = ("image", "images", "text", "histogram", "heatmap", "bar", "matplot", "svg", "video", "audio",
            "boxplot", "surf", "contour", "quiver", "stem", "pie", "mesh", "plotlyplot", "embeddings")
_NO_OPS = ("close", "save", "get_window_data", "win_exists", "delete_env", "update_window_opts",
           "register_event_handler", "clear_event_handlers")


def _plain(value: Any) -> Any:
    """Numbers and nested lists from arrays, tensors and sequences."""
    tolist = getattr(value, "tolist", None)
    if callable(tolist) and not isinstance(value, (list, tuple)):
        value = tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _rows(value: Any) -> List[List[float]]:
    """A vector or an N×K matrix as N rows of K numbers."""
    plain = _plain(value)
    if not isinstance(plain, list):
        plain = [plain]
    return [[float(x) for x in (row if isinstance(row, list) else [row])] for row in plain]


def _title(win: Any, opts: Any, kind: str) -> str:
    title = None
    if isinstance(opts, dict):
        title = opts.get("title")
    title = str(title if title not in (None, "") else (win if win not in (None, "") else kind))
    return _SPACE.sub("_", title.strip())[:200] or kind


def _step(x: Any) -> Any:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else x


class Visdom:
    """A Visdom client whose plots are recorded as the session's metrics (see the module doc)."""

    def __init__(self, visdom: Any = None, *args: Any, **kwargs: Any) -> None:
        self._counts: Dict[str, int] = {}

    def check_connection(self, *args: Any, **kwargs: Any) -> bool:
        """Always ``True``: the plots go to the session's metrics, not to a server."""
        return True

    # ---- scalars ----

    def line(self, Y: Any = None, X: Any = None, win: Any = None, env: Any = None, opts: Any = None,
             update: Any = None, name: Any = None, **kwargs: Any) -> Any:
        """Records each point of ``Y`` (one or several lines) at step ``X``; returns the window name."""
        title = _title(win, opts, "line")
        self._guard("line", lambda: self._points(title, _rows(Y), None if X is None else _rows(X), name))
        return win if win is not None else title

    def scatter(self, X: Any = None, Y: Any = None, win: Any = None, env: Any = None, opts: Any = None,
                update: Any = None, name: Any = None, **kwargs: Any) -> Any:
        """Records each point ``(x, y)`` of ``X`` (an N×2 array) as value ``y`` at step ``x``."""
        title = _title(win, opts, "scatter")

        def record() -> None:
            points = _rows(X)
            xs = [[p[0]] for p in points]
            ys = [[p[1] if len(p) > 1 else p[0]] for p in points]
            self._points(title, ys, xs, name)

        self._guard("scatter", record)
        return win if win is not None else title

    def _points(self, title: str, ys: List[List[float]], xs: Optional[List[List[float]]], name: Any) -> None:
        for i, row in enumerate(ys):
            x = xs[i][0] if xs is not None and i < len(xs) and xs[i] else None
            if len(row) == 1:
                keys = [f"{title}/{name}" if name not in (None, "") else title]
            else:
                keys = [f"{title}/{name}/{j}" if name not in (None, "") else f"{title}/{j}" for j in range(len(row))]
            report(step=_step(x), **dict(zip(keys, row)))

    # ---- everything else: counted ----

    def _count(self, kind: str, win: Any, opts: Any) -> Any:
        title = _title(win, opts, kind)
        key = f"visdom/{kind}/{title}"
        self._counts[key] = self._counts.get(key, 0) + 1
        report(**{key: self._counts[key]})
        return win if win is not None else title

    def _guard(self, kind: str, fn: Any) -> None:
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - a plot must never stop training
            warn_once(f"visdom-{kind}", f"nsml.Visdom.{kind}: could not record this plot ({type(err).__name__}: {err}); "
                      "later ones of this kind are skipped the same way without a warning")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in _COUNTED:
            def counted(*args: Any, win: Any = None, opts: Any = None, **kwargs: Any) -> Any:
                result: List[Any] = []
                self._guard(name, lambda: result.append(self._count(name, win, opts)))
                return result[0] if result else win
            return counted
        if name not in _NO_OPS:
            warn_once(f"visdom-unknown-{name}", f"nsml.Visdom.{name}: not recorded by nsml; the call is ignored")

        def ignored(*args: Any, **kwargs: Any) -> Any:
            return None
        return ignored
