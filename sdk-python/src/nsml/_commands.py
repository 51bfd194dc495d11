"""Operator commands: applied at the next ``report()`` or ``poll()``; each result travels back.

A command is ``{"type": "command", "id": ID, "name": NAME, "args": {...}}`` (proto/sdk-bridge.md):
``set {values}``, ``get {name}``, ``save {name}``, ``load {name, session?}``, ``call {name, args?}``,
``stop {}``.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Optional, TypeVar, Union, overload

from . import _checkpoint, _report
from ._errors import INVALID_ARGUMENT, NOT_FOUND, NsmlError
from ._hparams import HPARAMS
from ._runtime import RUNTIME
from ._user_trace import user_traceback
from ._wire import to_json_value

F = TypeVar("F", bound=Callable[..., Any])

COMMANDS: Dict[str, Callable[..., Any]] = {}
_MAX_TRACE = 4096


class _Stop(Exception):
    """Raised inside the applier after ``stop`` was answered."""


@overload
def command(name: F) -> F: ...
@overload
def command(name: Optional[str] = None) -> Callable[[F], F]: ...


def command(name: Union[str, F, None] = None) -> Any:
    """Decorator: an operator may call this function with ``call NAME [JSON]``.

    A JSON list is passed as positional arguments, an object as keyword arguments, any other
    value as the one argument. The return value travels back as JSON (``repr`` when it has no
    JSON form). ``@nsml.command`` uses the function's name; ``@nsml.command('name')`` another.
    """
    if callable(name):
        COMMANDS[name.__name__] = name
        return name

    def register(fn: F) -> F:
        COMMANDS[name or fn.__name__] = fn
        return fn

    return register


def poll() -> int:
    """Applies pending operator commands where the script has no ``report()`` call; returns how many."""
    return apply_pending(None)


_applying = False


def apply_pending(step: Any) -> int:
    """Applies every pending command in arrival order, answering each; ``stop`` exits after answering.

    A command with ``at_step`` (the platform gives one to a ``set``, ``load`` or ``stop`` sent to
    every rank of a gang) waits, with every command after it, until the step reaches it, so that
    all ranks apply it at the same step.
    """
    global _applying
    queue = _report.pending()
    if _applying or not queue:
        return 0
    _applying = True
    applied = 0
    stop = False
    try:
        at = step if step is not None else RUNTIME.flusher.current_step()
        while queue:
            if _waits(queue[0], at):
                break
            cmd = queue.popleft()
            applied += 1
            if _apply_one(cmd, at):
                stop = True
                break
    finally:
        _applying = False
    if stop:
        raise SystemExit(0)
    return applied


def _waits(cmd: Dict[str, Any], step: Any) -> bool:
    """True while the command names a later step than ``step`` (``args.at_step``)."""
    args = cmd.get("args")
    at_step = args.get("at_step") if isinstance(args, dict) else None
    numbers = (int, float)
    return (isinstance(at_step, numbers) and not isinstance(at_step, bool) and isinstance(step, numbers)
            and not isinstance(step, bool) and step < at_step)


def _apply_one(cmd: Dict[str, Any], step: Any) -> bool:
    ident = cmd.get("id", "")
    name = str(cmd.get("name", ""))
    args = cmd.get("args") if isinstance(cmd.get("args"), dict) else {}
    handler = _HANDLERS.get(name)
    try:
        if handler is None:
            raise NsmlError(INVALID_ARGUMENT, f"unknown command {name!r}; known: {', '.join(sorted(_HANDLERS))}")
        value, events = handler(args)
    except _Stop:
        _answer(ident, step, True, value={"stopping": True})
        _event(step, {"kind": "stop"})
        return True
    except BaseException as err:  # noqa: BLE001 - a user function may raise anything, even SystemExit
        if isinstance(err, KeyboardInterrupt):
            raise
        _answer(ident, step, False, error=_error(err, name == "call"))
        return False
    _answer(ident, step, True, value=value)
    for event in events:
        _event(step, event)
    return False


def _answer(ident: Any, step: Any, ok: bool, value: Any = None, error: Optional[Dict[str, Any]] = None) -> None:
    message: Dict[str, Any] = {"type": "result", "id": ident, "ok": ok, "step": step}
    if ok:
        message["value"] = to_json_value(value)
    else:
        message["error"] = error
    RUNTIME.send(message)


def _event(step: Any, body: Dict[str, Any]) -> None:
    RUNTIME.send({"type": "event", "ts_ms": int(time.time() * 1000), "step": step, **body})


def _error(err: BaseException, with_trace: bool) -> Dict[str, Any]:
    out: Dict[str, Any] = {"type": type(err).__name__, "message": str(err) or type(err).__name__}
    if isinstance(err, NsmlError):
        out["code"] = err.code
        out["message"] = err.message
    # The package's own refusals (no such function, bad arguments) say all there is to say; a
    # traceback is for what the user's function raised.
    if with_trace and not isinstance(err, NsmlError):
        out["traceback"] = user_traceback(err, _MAX_TRACE)
    return out


# ---- the commands ----

def _set(args: Dict[str, Any]) -> Any:
    values = args.get("values")
    if not isinstance(values, dict) or not values:
        raise NsmlError(INVALID_ARGUMENT, "set needs values, e.g. set lr=0.01")
    changes = HPARAMS.apply(values)
    events = [{"kind": "set", "name": n, "value": to_json_value(new), "old": to_json_value(old)} for n, old, new in changes]
    return {n: new for n, _old, new in changes}, events


def _get(args: Dict[str, Any]) -> Any:
    return resolve(str(args.get("name", ""))), []


def _save(args: Dict[str, Any]) -> Any:
    name = args.get("name")
    _checkpoint.save(name)
    return {"checkpoint": str(name) if name is not None else None}, [{"kind": "save", "name": name}]


def _load(args: Dict[str, Any]) -> Any:
    name, session = args.get("name"), args.get("session")
    _checkpoint.load(name, session=session)
    return {"checkpoint": name, "session": session}, [{"kind": "load", "name": name, "session": session}]


def _call(args: Dict[str, Any]) -> Any:
    name = str(args.get("name", ""))
    fn = COMMANDS.get(name)
    if fn is None:
        known = ", ".join(sorted(COMMANDS)) or "none (decorate functions with @nsml.command)"
        raise NsmlError(NOT_FOUND, f"no command function {name!r}; known: {known}")
    if "args" not in args or args["args"] is None:
        value = fn()
    elif isinstance(args["args"], list):
        value = fn(*args["args"])
    elif isinstance(args["args"], dict):
        value = fn(**args["args"])
    else:
        value = fn(args["args"])
    return value, [{"kind": "call", "name": name}]


def _stop(args: Dict[str, Any]) -> Any:
    raise _Stop()


_HANDLERS: Dict[str, Callable[[Dict[str, Any]], Any]] = {
    "set": _set, "get": _get, "save": _save, "load": _load, "call": _call, "stop": _stop,
}


def resolve(path: str) -> Any:
    """``get NAME``: a variable of the last scope (``a.b`` reads attributes or keys), else a hyperparameter."""
    if not path:
        raise NsmlError(INVALID_ARGUMENT, "get needs a variable name, e.g. get lr")
    head, *rest = path.split(".")
    scope = _report.STATE.scope
    if scope is not None and head in scope:
        value = scope[head]
    elif head in HPARAMS:
        value = HPARAMS[head]
    else:
        raise NsmlError(NOT_FOUND, _missing(head, scope))
    for part in rest:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            raise NsmlError(NOT_FOUND, f"{path}: {type(value).__name__} has no attribute or key {part!r}")
    return value


def _missing(head: str, scope: Optional[Dict[str, Any]]) -> str:
    if scope is None:
        where = "no scope was given yet (pass scope=locals() to nsml.report() or nsml.paused())"
    else:
        names = sorted(k for k in scope if not k.startswith("__"))
        shown = ", ".join(names[:50]) + (f" and {len(names) - 50} more" if len(names) > 50 else "")
        where = f"the last scope has: {shown or 'nothing'}"
    known = ", ".join(sorted(HPARAMS)) or "none"
    return f"no variable {head!r}: {where}; hyperparameters: {known}"


RUNTIME.apply_pending = apply_pending
