"""``nsml.cache``: run a preprocessing function once per dataset version and node, reuse its files.

NAVER's scripts call it as ``nsml.cache(preprocess_fn, output_path=[...], **kwargs)``; the function
is called as ``preprocess_fn(output_path=..., **kwargs)`` and must write every path of
``output_path`` (default ``['./processed']``), which the script then reads. The written files (or
directories) are copied into the node's cache directory (``NSML_CACHE_DIR``, set by the agent;
offline ``./.nsml/cache``) under a key made of:

* the dataset: ``NSML_DATASET_NAME`` and its pinned version (``NSML_DATASET_VERSION``), or, when
  no version is given, the names and sizes of the files under ``NSML_DATASET_PATH``;
* the function's source code;
* the keyword arguments that are plain data (strings, numbers, booleans, None, and lists, tuples
  and dicts of them up to 1,000 items); any other value (a loaded array, a data loader) counts
  by its type only, a longer container by its length;
* how many outputs there are.

A later call with the same key copies the cached outputs to ``output_path`` instead of running the
function. Ranks of one node that call it at once take a file lock: one runs it, the others wait
and copy. Outputs are copied, never linked, so a script that rewrites them leaves the cache as it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import os
import shutil
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from ._env import Environment
from ._errors import INVALID_ARGUMENT, NsmlError
from ._runtime import RUNTIME
from ._warn import warn_once

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no cross-process lock
    fcntl = None  # type: ignore[assignment]

DEFAULT_OUTPUT = ["./processed"]
_MAX_FINGERPRINT_FILES = 100_000


def cache(preprocess_fn: Optional[Callable[..., Any]] = None,
          output_path: Union[str, Sequence[str], None] = None, **kwargs: Any) -> List[str]:
    """Runs ``preprocess_fn(output_path=..., **kwargs)`` unless this node already ran it for this
    dataset version, function and arguments; then copies its cached outputs to ``output_path``.

    Returns the output paths. An exception of the function reaches the caller and caches nothing;
    a function that returns without writing an output raises ``NsmlError`` (NSML_E_INVALID_ARGUMENT).
    """
    if preprocess_fn is None or not callable(preprocess_fn):
        raise NsmlError(INVALID_ARGUMENT, "nsml.cache needs the preprocessing function, e.g. "
                        "nsml.cache(preprocess, output_path=['./data.pkl'], data_path=DATASET_PATH); "
                        f"got {type(preprocess_fn).__name__}")
    outputs = _outputs(output_path)
    passed: Any = output_path if output_path is not None else list(outputs)
    env = RUNTIME.env
    key = cache_key(preprocess_fn, len(outputs), kwargs, env)
    root = env.cache_dir or os.path.join(env.local_dir, "cache")
    os.makedirs(root, exist_ok=True)
    entry = os.path.join(root, key)
    name = getattr(preprocess_fn, "__qualname__", repr(preprocess_fn))
    with _locked(entry + ".lock"):
        if os.path.isdir(entry):
            _restore(entry, outputs)
            warn_once(f"cache-{key}", f"nsml.cache: {name}: reused its outputs from {entry}")
        else:
            preprocess_fn(output_path=passed, **kwargs)
            _store(outputs, entry, name)
            warn_once(f"cache-{key}", f"nsml.cache: {name} ran; its {len(outputs)} output(s) are cached in {entry}")
    return outputs


def _outputs(output_path: Union[str, Sequence[str], None]) -> List[str]:
    if output_path is None:
        return list(DEFAULT_OUTPUT)
    paths = [output_path] if isinstance(output_path, (str, os.PathLike)) else list(output_path)
    if not paths or not all(isinstance(p, (str, os.PathLike)) and os.fspath(p) for p in paths):
        raise NsmlError(INVALID_ARGUMENT, f"nsml.cache: output_path must be a path or a list of paths, "
                        f"e.g. ['./img_list.pkl', './label_list.pkl']; got {output_path!r}")
    return [os.fspath(p) for p in paths]


# ---- the key ----

def _plain(value: Any) -> Any:
    """``value`` as plain data for the key: other objects, and containers past 1,000 items, by kind."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple, dict)) and len(value) > 1000:
        return f"<{type(value).__name__} of {len(value)}>"
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return f"<{type(value).__name__}>"


def _source(fn: Callable[..., Any]) -> str:
    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        if code is None:
            return getattr(fn, "__qualname__", type(fn).__name__)
        return code.co_code.hex() + repr(code.co_consts)


def _dataset_identity(env: Environment) -> Dict[str, Any]:
    names = env.dataset_name if isinstance(env.dataset_name, list) else [env.dataset_name or ""]
    if env.dataset_version:
        return {"names": names, "version": env.dataset_version}
    paths = env.dataset_path if isinstance(env.dataset_path, list) else [env.dataset_path] if env.dataset_path else []
    return {"names": names, "files": [_fingerprint(p) for p in paths]}


def _fingerprint(path: str) -> str:
    """Names and sizes of the files under ``path`` (for a dataset without a pinned version)."""
    digest = hashlib.sha256()
    count = 0
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for f in sorted(files):
            full = os.path.join(folder, f)
            try:
                size = os.path.getsize(full)
            except OSError:
                continue
            digest.update(f"{os.path.relpath(full, path)}\0{size}\n".encode("utf-8", "surrogateescape"))
            count += 1
            if count >= _MAX_FINGERPRINT_FILES:
                return digest.hexdigest()
    return digest.hexdigest()


def cache_key(fn: Callable[..., Any], outputs: int, kwargs: Dict[str, Any], env: Environment) -> str:
    """The cache entry's name: a hash of the dataset, the function's source and plain arguments."""
    identity = {
        "dataset": _dataset_identity(env),
        "function": _source(fn),
        "arguments": {k: _plain(v) for k, v in sorted(kwargs.items())},
        "outputs": outputs,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:32]


# ---- the entry ----

@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    with open(path, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _copy(src: str, dst: str) -> None:
    """Copies a file or a directory to ``dst`` through a temporary name, replacing what is there."""
    parent = os.path.dirname(os.path.abspath(dst))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(dst)}.nsml-{uuid.uuid4().hex[:8]}")
    if os.path.isdir(src):
        shutil.copytree(src, tmp)
        if os.path.isdir(dst) and not os.path.islink(dst):
            shutil.rmtree(dst)
    else:
        shutil.copy2(src, tmp)
    os.replace(tmp, dst)


def _store(outputs: List[str], entry: str, name: str) -> None:
    staging = f"{entry}.staging-{uuid.uuid4().hex}"
    os.mkdir(staging)
    try:
        for i, out in enumerate(outputs):
            if not os.path.exists(out):
                raise NsmlError(INVALID_ARGUMENT, f"nsml.cache: {name} returned without writing output_path[{i}] "
                                f"{out!r}; the function must write every path it gets in output_path")
            _copy(out, os.path.join(staging, str(i)))
        with open(os.path.join(staging, "entry.json"), "w") as f:
            json.dump({"function": name, "outputs": outputs}, f)
        os.rename(staging, entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _restore(entry: str, outputs: List[str]) -> None:
    for i, out in enumerate(outputs):
        _copy(os.path.join(entry, str(i)), out)
