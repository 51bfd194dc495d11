"""A stand-in for PyTorch 2.x's ``torch.save``/``torch.load`` with the same file-system behaviour.

``save(obj, path)`` opens a zip archive writer on exactly ``path`` and fails the way torch 2.x
fails: a RuntimeError ``[enforce fail at inline_container.cc:…] . open file failed with
strerror: Is a directory`` for a directory, and ``Parent directory … does not exist.`` when
the parent is missing. ``load`` opens the path with ``open`` (so a directory or a missing file
raises ``IsADirectoryError``/``FileNotFoundError``). The archive holds ``<stem>/data.pkl``,
``<stem>/version`` and ``<stem>/byteorder``, as torch's does. Tests put the folder above this
package on ``PYTHONPATH`` so that a script's ``import torch`` finds it.
"""

import io
import os
import pickle
import sys
import zipfile

__version__ = "2.5.0+fake"
IS_FAKE = True


def _open_writer(name):
    if os.path.isdir(name):
        raise RuntimeError("[enforce fail at inline_container.cc:746] . open file failed with strerror: Is a directory")
    parent = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(parent):
        raise RuntimeError(f"Parent directory {os.path.dirname(name) or parent} does not exist.")
    return open(name, "wb")


def _write(obj, f, stem):
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(f"{stem}/data.pkl", pickle.dumps(obj, protocol=2))
        z.writestr(f"{stem}/byteorder", sys.byteorder)
        z.writestr(f"{stem}/version", "3\n")


def save(obj, f, pickle_module=pickle, pickle_protocol=2, _use_new_zipfile_serialization=True):
    """Writes ``obj`` as a zip archive at the path ``f`` (or into the open binary file ``f``)."""
    if isinstance(f, (str, os.PathLike)):
        name = os.fspath(f)
        stem = os.path.splitext(os.path.basename(name))[0] or "archive"
        with _open_writer(name) as out:
            _write(obj, out, stem)
        return
    _write(obj, f, "archive")


def load(f, map_location=None, pickle_module=pickle, weights_only=None, **kwargs):
    """Reads what ``save`` wrote."""
    if isinstance(f, (str, os.PathLike)):
        with open(os.fspath(f), "rb") as opened:
            data = opened.read()
    else:
        data = f.read()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        [entry] = [n for n in z.namelist() if n.endswith("/data.pkl")]
        return pickle.loads(z.read(entry))
