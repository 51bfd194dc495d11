"""``hparams``: the live hyperparameters an operator may read and change while the script runs."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Mapping, MutableMapping, Tuple

from ._errors import INVALID_ARGUMENT, NsmlError
from ._hparam_types import convert_all, parse_value

__all__ = ["HPARAMS", "HyperParameters", "parse_value"]

Callback = Callable[[Any], Any]


class HyperParameters(MutableMapping[str, Any]):
    """A mapping seeded by the script (``nsml.hparams.update(vars(args))``).

    An operator's ``set lr=0.01`` changes the value here and then runs the ``on_change('lr')``
    callbacks with the new value. Values seeded from an ``argparse.Namespace`` are also written
    back to it, so ``args.lr`` follows. Names read as attributes too: ``nsml.hparams.lr``.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_callbacks", {})
        object.__setattr__(self, "_namespaces", [])

    # ---- the mapping ----

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __setitem__(self, name: str, value: Any) -> None:
        self._values[str(name)] = value

    def __delitem__(self, name: str) -> None:
        del self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"nsml.hparams({self._values!r})"

    def __getattr__(self, name: str) -> Any:
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(f"no hyperparameter {name!r}; known: {', '.join(self._values) or 'none'}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def update(self, other: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Like ``dict.update``; also accepts an ``argparse.Namespace`` (or any object with ``vars``)."""
        if other is not None and not isinstance(other, Mapping) and hasattr(other, "__dict__") and not isinstance(other, (list, tuple)):
            self._namespaces.append(other)
            other = dict(vars(other))
        super().update(other, **kwargs)

    def clear_all(self) -> None:
        """Forgets values, callbacks and namespaces (for tests)."""
        self._values.clear()
        self._callbacks.clear()
        del self._namespaces[:]

    # ---- callbacks ----

    def on_change(self, name: str) -> Callable[[Callback], Callback]:
        """Decorator: ``f(value)`` runs when an operator changes hyperparameter ``name``."""
        if not isinstance(name, str) or not name:
            raise TypeError("nsml.on_change needs the hyperparameter name, e.g. @nsml.on_change('lr')")

        def register(fn: Callback) -> Callback:
            self._callbacks.setdefault(name, []).append(fn)
            return fn

        return register

    # ---- operator changes ----

    def apply(self, texts: Mapping[str, Any]) -> List[Tuple[str, Any, Any]]:
        """Applies an operator's ``set``: every name must be known and every value must convert to
        the type of the current value (``_hparam_types``), else nothing changes and no callback runs.

        Returns ``(name, old, new)`` per change. A callback that raises stops here with its
        exception; the value stays set.
        """
        unknown = [n for n in texts if n not in self._values]
        if unknown:
            known = ", ".join(sorted(self._values)) or "none (seed them with nsml.hparams.update(vars(args)))"
            raise NsmlError(INVALID_ARGUMENT, f"unknown hyperparameter {', '.join(repr(n) for n in unknown)}; known: {known}")
        converted, refusals = convert_all(self._values, texts)
        if refusals:
            raise NsmlError(INVALID_ARGUMENT, "; ".join(refusals) + "; nothing was changed")
        changes = []
        for name, new in converted.items():
            old = self._values[name]
            self._values[name] = new
            for ns in self._namespaces:
                if hasattr(ns, name):
                    setattr(ns, name, new)
            changes.append((name, old, new))
        for name, _old, new in changes:
            for fn in self._callbacks.get(name, []):
                fn(new)
        return changes

    def snapshot(self) -> Dict[str, Any]:
        return dict(self._values)


HPARAMS = HyperParameters()
