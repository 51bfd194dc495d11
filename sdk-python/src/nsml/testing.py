"""Test doubles for scripts that use nsml: capture reports, checkpoints and command results.

    import nsml, nsml.testing

    def test_training_reports_loss():
        with nsml.testing.capture() as cap:
            train(epochs=2)
        assert [r.step for r in cap.reports_of("loss")] == [0, 1]
        assert "1" in cap.checkpoints

    def test_lr_can_be_changed():
        with nsml.testing.capture() as cap:
            nsml.hparams.update(lr=0.1)
            ident = cap.command("set", values={"lr": "0.01"})
            nsml.poll()
            assert cap.result(ident)["ok"] and nsml.hparams["lr"] == 0.01
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional

from . import _report
from ._errors import CheckpointNotFoundError
from ._runtime import RUNTIME
from ._transport import Transport

__all__ = ["capture", "Capture", "Report", "Checkpoint"]


@dataclass(frozen=True)
class Report:
    """One record as the platform receives it (keys with ``/``, a step, the wall time in ms)."""

    step: Any
    values: Dict[str, Any]
    summary: bool
    ts_ms: int


@dataclass
class Checkpoint:
    """A checkpoint saved during the capture; ``path`` is a copy that lives until the capture ends."""

    name: str
    path: str
    summary: Dict[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> List[str]:
        """Paths of the files in it, relative to ``path`` (e.g. ``model`` or ``model/w.pt``)."""
        out = []
        for folder, _dirs, names in os.walk(self.path):
            for n in names:
                out.append(os.path.relpath(os.path.join(folder, n), self.path))
        return sorted(out)


class _MemoryTransport(Transport):
    def __init__(self, root: str, session: str) -> None:
        self.root = root
        self.session_name = session
        self.records: List[Dict[str, Any]] = []
        self.messages: List[Dict[str, Any]] = []
        self.dropped = 0
        self.checkpoints: Dict[str, Checkpoint] = {}
        self.lock = threading.Lock()

    def send_metrics(self, records: List[Dict[str, Any]], dropped: int) -> int:
        with self.lock:
            self.records.extend(records)
            self.dropped += dropped
        return len(records)

    def send_message(self, message: Dict[str, Any]) -> None:
        with self.lock:
            self.messages.append(message)

    def new_staging(self) -> str:
        root = os.path.join(self.root, "staging", uuid.uuid4().hex)
        os.makedirs(root)
        return root

    def discard_staging(self, root: str) -> None:
        shutil.rmtree(root, ignore_errors=True)

    def save_checkpoint(self, name: str, root: str, summary: Dict[str, Any]) -> Dict[str, Any]:
        final = os.path.join(self.root, "checkpoints", uuid.uuid4().hex)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.rename(root, final)
        self.checkpoints[name] = Checkpoint(name, final, dict(summary))
        return {"name": name}

    def load_checkpoint(self, session: Optional[str], name: str) -> str:
        if session is None and name in self.checkpoints:
            return self.checkpoints[name].path
        raise CheckpointNotFoundError(
            f"checkpoint {name!r} was not saved during this capture; existing: {', '.join(self.checkpoints) or 'none'}",
            list(self.checkpoints), session or self.session_name)

    def close(self, timeout: float) -> None:
        pass


class Capture:
    """What the code under test sent to the platform while the capture was active."""

    def __init__(self, transport: _MemoryTransport) -> None:
        self._t = transport
        self._ids = itertools.count(1)

    @property
    def reports(self) -> List[Report]:
        """Every record so far, flushed first."""
        RUNTIME.flush()
        with self._t.lock:
            return [Report(r["step"], dict(r["values"]), bool(r.get("summary")), r["ts_ms"]) for r in self._t.records]

    def reports_of(self, key: str) -> List[Report]:
        """Records that carry ``key`` (in stored form: ``train/loss``)."""
        return [r for r in self.reports if key in r.values]

    def values(self, key: str) -> List[Any]:
        """The values of ``key`` in order."""
        return [r.values[key] for r in self.reports_of(key)]

    @property
    def dropped(self) -> int:
        RUNTIME.flush()
        return self._t.dropped

    @property
    def checkpoints(self) -> Dict[str, Checkpoint]:
        return dict(self._t.checkpoints)

    @property
    def events(self) -> List[Dict[str, Any]]:
        RUNTIME.flush()
        return [m for m in self._t.messages if m.get("type") == "event"]

    @property
    def results(self) -> List[Dict[str, Any]]:
        RUNTIME.flush()
        return [m for m in self._t.messages if m.get("type") == "result"]

    def command(self, name: str, /, **args: Any) -> str:
        """Queues an operator command (``set``, ``get``, ``save``, ``load``, ``call``, ``stop``) as
        the agent would; it applies at the next ``report()`` or ``poll()``. Returns its id."""
        ident = f"test-{next(self._ids)}"
        RUNTIME.receive_command({"type": "command", "id": ident, "name": name, "args": args})
        return ident

    def result(self, ident: str) -> Optional[Dict[str, Any]]:
        """The result of command ``ident``, or None when it has not been applied yet."""
        for m in self.results:
            if m.get("id") == ident:
                return m
        return None


@contextmanager
def capture() -> Iterator[Capture]:
    """Routes reports, checkpoints, events and command results into memory while active.

    Steps start afresh (as in a new session): ``report()`` without a step counts from 0.
    """
    root = tempfile.mkdtemp(prefix="nsml-capture-")
    transport = _MemoryTransport(root, RUNTIME.session_name)
    old = RUNTIME.swap_transport(transport)
    _report.pending().clear()
    RUNTIME.flusher.reset_steps()
    try:
        yield Capture(transport)
    finally:
        RUNTIME.swap_transport(old)
        _report.pending().clear()
        shutil.rmtree(root, ignore_errors=True)
