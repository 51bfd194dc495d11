"""NSML's checkpoint calls: ``bind``, ``save``, ``load``, ``infer`` and ``paused``."""

from __future__ import annotations

import sys
from typing import Any, Callable, Dict, Optional

from . import _report, _resume
from ._args import reserved_args
from ._errors import INVALID_ARGUMENT, NOTHING_BOUND, NsmlError
from ._names import checkpoint_name, session_name
from ._runtime import RUNTIME
from ._save_path import payload_for_load, run_save_callback
from ._warn import warn_once

_UNSET: Any = object()


class Bindings:
    """What the latest ``bind`` gave: three callbacks and the keyword arguments they get."""

    def __init__(self) -> None:
        self.save: Optional[Callable[..., Any]] = None
        self.load: Optional[Callable[..., Any]] = None
        self.infer: Optional[Callable[..., Any]] = None
        self.kwargs: Dict[str, Any] = {}


BINDINGS = Bindings()


def bind(save: Optional[Callable[..., Any]] = None, load: Optional[Callable[..., Any]] = None,
         infer: Optional[Callable[..., Any]] = None, **kwargs: Any) -> None:
    """Sets the callbacks ``save``, ``load`` and ``infer`` use; the latest ``bind`` wins (all of it).

    Each callback is called with one positional argument (a path, or the data for ``infer``)
    plus the keyword arguments given here, e.g. ``bind(save=f, model=model)`` → ``f(path, model=model)``.

    In a session the platform requeued after a preemption, the first ``bind`` with a ``load``
    callback loads the checkpoint to resume from (``NSML_RESUME_CHECKPOINT`` of
    ``NSML_RESUME_FROM``) right away, once per process, and prints ``nsml: resumed from ...``.
    """
    BINDINGS.save, BINDINGS.load, BINDINGS.infer = save, load, infer
    BINDINGS.kwargs = dict(kwargs)
    if load is not None:
        _resume_after_bind()


def _first(value: Any, alias: Any, what: str) -> Any:
    if alias is not _UNSET:
        if value is not None:
            raise TypeError(f"nsml.{what}() got both checkpoint and iteration; pass one")
        return alias
    return value


def save(checkpoint: Any = None, save_fn: Optional[Callable[..., Any]] = None, *, iteration: Any = _UNSET) -> None:
    """Saves checkpoint ``str(checkpoint)`` (``None``: the current time) of this session.

    The bound save callback (or ``save_fn``) gets a path: write one file at it, or files into
    it as a directory; both work. A checkpoint of the same name is replaced. The checkpoint is
    registered only once the callback returned; if it raises, nothing is registered and the
    exception reaches the caller. With nothing bound, an empty checkpoint is registered (the
    summary metrics still show in the checkpoint list).
    """
    name = checkpoint_name(_first(checkpoint, iteration, "save"))
    fn, kwargs = (save_fn, {}) if save_fn is not None else (BINDINGS.save, BINDINGS.kwargs)
    RUNTIME.flush()
    transport = RUNTIME.transport
    root = transport.new_staging()
    try:
        if fn is None:
            warn_once("save-unbound", "nsml.save: nothing is bound (nsml.bind(save=...)); an empty checkpoint is registered")
        else:
            run_save_callback(fn, root, kwargs)
        transport.save_checkpoint(name, root, dict(RUNTIME.flusher.summary))
    finally:
        transport.discard_staging(root)


def load(checkpoint: Any = None, load_fn: Optional[Callable[..., Any]] = None, session: Any = None, *,
         iteration: Any = _UNSET) -> Any:
    """Loads checkpoint ``str(checkpoint)`` of this session, or of ``session`` (``USER/DATASET/N``
    or just ``N``) from any session the user can read.

    Calls the bound load callback (or ``load_fn``) with the checkpoint's path, in the shape the
    save callback wrote it, and returns what it returns (the path when nothing is bound).
    Rebinding and loading several sessions builds an ensemble. A missing checkpoint raises
    ``CheckpointNotFoundError`` listing the ones that exist. Without a name, a session the
    platform requeued after a preemption loads the checkpoint it resumes from
    (``NSML_RESUME_CHECKPOINT`` of ``NSML_RESUME_FROM``).
    """
    target = _first(checkpoint, iteration, "load")
    if target is None and RUNTIME.env.resume_checkpoint:
        target = RUNTIME.env.resume_checkpoint
        session = session if session not in (None, "") else RUNTIME.env.resume_from
    if target is None:
        raise TypeError("nsml.load() needs the checkpoint name, e.g. nsml.load(checkpoint='3')")
    name = checkpoint_name(target)
    other = session_name(session, RUNTIME.session_name) if session not in (None, "") else None
    if other == RUNTIME.session_name:
        other = None
    fn, kwargs = (load_fn, {}) if load_fn is not None else (BINDINGS.load, BINDINGS.kwargs)
    root = RUNTIME.transport.load_checkpoint(other, name)
    path = payload_for_load(root)
    if fn is None:
        return path
    return fn(path, **kwargs)


def _resume_after_bind() -> None:
    """``bind``'s ``load`` parameter hides this module's ``load``; here it is the module's."""
    _resume.resume_once(load)


def infer(data: Any, **kwargs: Any) -> Any:
    """Calls the bound infer callback with ``data`` (and the bind keyword arguments)."""
    if BINDINGS.infer is None:
        raise NsmlError(NOTHING_BOUND, "nsml.infer: nothing is bound; call nsml.bind(infer=...) first")
    return BINDINGS.infer(data, **{**BINDINGS.kwargs, **kwargs})


def paused(scope: Optional[Dict[str, Any]] = None) -> None:
    """Remembers ``scope`` (e.g. ``locals()``) for the operator's ``get``; when the platform
    relaunched the script with ``--pause 1`` (fork, resume), loads the checkpoint named by
    ``--iteration`` with the bound load callback, then returns. A session requeued after a
    preemption loads ``NSML_RESUME_CHECKPOINT`` the same way, without ``--pause``, unless its
    ``bind(load=...)`` already did."""
    if scope is not None:
        _report.STATE.scope = scope
    args = reserved_args(sys.argv[1:])
    if not args.pause:
        _resume.resume_once(load)
        return
    if not args.iteration:
        raise NsmlError(INVALID_ARGUMENT, "the script was started with --pause 1 but without --iteration NAME; "
                        "name the checkpoint to resume from")
    _resume.mark_done()
    load(args.iteration, session=RUNTIME.env.resume_from or _offline_source(args.iteration))


def _offline_source(name: str) -> Optional[str]:
    """Offline, a fresh run has no checkpoints: ``--iteration NAME`` then comes from the local
    session that saved ``NAME`` last (None: this run's own, or online)."""
    transport = RUNTIME.transport
    latest = getattr(transport, "latest_session_with", None)
    if latest is None or name in transport.list_checkpoints():  # type: ignore[attr-defined]
        return None
    source: Optional[str] = latest(name)
    if source is not None:
        _resume._say(f"nsml: this run has no checkpoint {name}; loading it from local session {source}")
    return source
