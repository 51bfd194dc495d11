"""The path a save callback writes to, for the shapes NSML scripts use, told apart by the file
system alone (never by an exception's text).

* 2018 scripts write one file at exactly the path they get (``torch.save(state, filename)``,
  ``pickle.dump``), or siblings of it (``numpy.save(path)`` writes ``path.npy``).
* Keras-style scripts create a directory at that path themselves (``model.save(dir_name)``).
* 2019+ scripts write files into it as a directory they do not create
  (``torch.save(state, os.path.join(dir_name, 'model.pt'))``).

The callback gets ``ROOT/model``, first with nothing there. If it returns, whatever it created
(a file, a directory, siblings, or nothing) is the checkpoint. If it raised and created nothing,
it is called once more with ``ROOT/model`` as an empty directory; if that works, the callback
wants a directory. The shape that worked is remembered per function, so later saves take it at
once (and fall back to the other the same way). ``load`` hands back ``ROOT/model`` as the save
left it; see ``payload_for_load``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict

from ._transport import PAYLOAD

AS_DIRECTORY = "directory"
AS_ABSENT = "absent"

_LEARNED: Dict[Any, str] = {}


def _key(fn: Callable[..., Any]) -> Any:
    return getattr(fn, "__code__", None) or id(fn)


def _untouched(root: str, path: str, shape: str) -> bool:
    """Did the callback leave ``root`` as it was handed over?"""
    entries = os.listdir(root)
    if shape == AS_DIRECTORY:
        return entries == [PAYLOAD] and os.path.isdir(path) and not os.listdir(path)
    return not entries


def _prepare(path: str, shape: str) -> None:
    if shape == AS_DIRECTORY:
        os.mkdir(path)
    elif os.path.isdir(path):
        os.rmdir(path)


def _other(shape: str) -> str:
    return AS_ABSENT if shape == AS_DIRECTORY else AS_DIRECTORY


def _wanted_a_directory(err: BaseException, path: str) -> bool:
    """An OSError naming a path inside ``ROOT/model`` (a file the callback meant to put there)."""
    filename = getattr(err, "filename", None)
    return isinstance(err, OSError) and isinstance(filename, str) and filename.startswith(path + os.sep)


def run_save_callback(fn: Callable[..., Any], root: str, kwargs: Dict[str, Any]) -> str:
    """Calls ``fn(ROOT/model, **kwargs)`` in the shape it needs; returns the shape used.

    When both shapes fail without writing anything, the exception raised is the second one if
    the first only says a file inside ``ROOT/model`` could not be opened, else the first (a
    2018 callback's own error rather than what a directory did to it).
    """
    path = os.path.join(root, PAYLOAD)
    shape = _LEARNED.get(_key(fn), AS_ABSENT)
    _prepare(path, shape)
    try:
        fn(path, **kwargs)
        _LEARNED[_key(fn)] = shape
        return shape
    except Exception as first:  # noqa: BLE001 - re-raised unless the callback left no trace
        if not _untouched(root, path, shape):
            raise
        other = _other(shape)
        _prepare(path, other)
        try:
            fn(path, **kwargs)
        except Exception as second:
            if not _untouched(root, path, other):
                raise
            if shape == AS_ABSENT and _wanted_a_directory(first, path):
                raise
            raise first from None
        _LEARNED[_key(fn)] = other
        return other


def payload_for_load(root: str) -> str:
    """``ROOT/model`` for a load callback, in the shape the save left it.

    A file or directory there is handed back as is; with siblings only (``model.npy``) the path
    stays absent, as the save callback saw it. An empty checkpoint gets an empty directory, so
    that a callback reading files from it gets a plain "no such file" from its own open.
    """
    path = os.path.join(root, PAYLOAD)
    if os.path.lexists(path):
        return path
    try:
        empty = not os.listdir(root)
    except OSError:
        return path
    if empty:
        try:
            os.mkdir(path)
        except OSError:
            pass
    return path
