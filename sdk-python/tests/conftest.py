"""Tests run the package offline, with its local store in a temp dir, before anything imports it."""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Dict, List, Optional

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
#: Holds ``torch/``, an imitation of torch 2.x's save/load; child scripts get it on PYTHONPATH.
FAKES = str(Path(__file__).resolve().parent / "fakes")
_STORE = tempfile.mkdtemp(prefix="nsml-pytest-store-")
atexit.register(shutil.rmtree, _STORE, True)
#: ``NSML_TEST_REAL_TORCH=1``: checkpoint tests use the real torch of the running Python.
REAL_TORCH = os.environ.get("NSML_TEST_REAL_TORCH") == "1"
for _key in [k for k in os.environ if k.startswith("NSML_")]:
    del os.environ[_key]
os.environ["NSML_LOCAL_DIR"] = _STORE
os.environ["NSML_FLUSH_INTERVAL_MS"] = "50"
if SRC not in sys.path:
    sys.path.insert(0, SRC)


def script_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """An environment for a child Python that imports this checkout's package."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NSML_")}
    env["PYTHONPATH"] = SRC
    env["PYTHONUNBUFFERED"] = "1"
    env["NSML_FLUSH_INTERVAL_MS"] = "50"
    env.update(extra or {})
    return env


def run_script(code: str, cwd: Path, args: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None,
               timeout: float = 60) -> "subprocess.CompletedProcess[str]":
    """Runs ``code`` as a script in ``cwd`` with the package on the path."""
    path = cwd / "script.py"
    path.write_text(code)
    return subprocess.run([sys.executable, str(path), *(args or [])], cwd=cwd, env=script_env(env),
                          capture_output=True, text=True, timeout=timeout)


def torch_module() -> ModuleType:
    """The imitation of torch 2.x (tests/fakes/torch), or the real torch when
    ``NSML_TEST_REAL_TORCH=1`` (run the tests with a Python that has it)."""
    if REAL_TORCH:
        return importlib.import_module("torch")
    spec = importlib.util.spec_from_file_location("nsml_fake_torch", os.path.join(FAKES, "torch", "__init__.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_torch_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Environment additions for a child script whose ``import torch`` must find the imitation
    (with ``NSML_TEST_REAL_TORCH=1``, the real one on this process's ``PYTHONPATH``)."""
    env = dict(extra or {})
    env["PYTHONPATH"] = os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "") if REAL_TORCH else FAKES])
    return env


@pytest.fixture(autouse=True)
def _fresh_bindings():
    import nsml
    from nsml import _commands, _report, _resume

    nsml.bind()
    _resume.reset()
    nsml.hparams.clear_all()
    _commands.COMMANDS.clear()
    _report.STATE.scope = None
    yield
    nsml.bind()
