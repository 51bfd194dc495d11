"""Tests run the package offline, with its local store in a temp dir, before anything imports it."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import pytest

SRC = str(Path(__file__).resolve().parents[1] / "src")
_STORE = tempfile.mkdtemp(prefix="nsml-pytest-store-")
atexit.register(shutil.rmtree, _STORE, True)
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
