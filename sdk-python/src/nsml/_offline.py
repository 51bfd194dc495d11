"""Offline mode: the same script with no platform. Everything lands under ``./.nsml/``::

    .nsml/sessions/USER/DATASET/N/metrics.jsonl          records, events and results, one per line
    .nsml/sessions/USER/DATASET/N/checkpoints/NAME/data/  what the save callback wrote
    .nsml/sessions/USER/DATASET/N/checkpoints/NAME/meta.json
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from typing import IO, Any, Dict, List, Optional

from ._env import Environment
from ._errors import CheckpointNotFoundError
from ._names import session_name
from ._transport import Transport, TransportError
from ._warn import warn_once
from ._wire import encode_line, encode_lines


def _listdir(path: str) -> List[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


class OfflineTransport(Transport):
    """Writes to the local store; a run gets the next free session number unless
    ``NSML_SESSION`` names one (then it continues that session's directory)."""

    def __init__(self, env: Environment) -> None:
        self.root = os.path.join(env.local_dir, "sessions")
        self._fixed = env.session is not None
        if env.session is not None:
            self.session_name = session_name(env.session, None)
        else:
            dataset = (env.first_dataset or "scratch").lower()
            self.session_name = f"{env.user}/{dataset}/{self._next_number(env.user, dataset)}"
        self._claimed = False
        self._lock = threading.Lock()
        self._file: Optional[IO[bytes]] = None

    # ---- the session directory ----

    def _next_number(self, user: str, dataset: str) -> int:
        parent = os.path.join(self.root, user, dataset)
        try:
            numbers = [int(n) for n in os.listdir(parent) if n.isdigit()]
        except OSError:
            numbers = []
        return max(numbers, default=0) + 1

    def session_dir(self, session: Optional[str] = None) -> str:
        return os.path.join(self.root, *(session or self.session_name).split("/"))

    def _claim(self) -> str:
        """Creates this run's directory on first use; another run that took the number first
        moves this one to the next."""
        with self._lock:
            while not self._claimed:
                path = self.session_dir()
                os.makedirs(os.path.dirname(path), exist_ok=True)
                try:
                    os.mkdir(path)
                except FileExistsError:
                    if not self._fixed:
                        user, dataset, n = self.session_name.split("/")
                        self.session_name = f"{user}/{dataset}/{int(n) + 1}"
                        warn_once("renumbered", f"local session number taken; this run is {self.session_name}")
                        continue
                self._claimed = True
            return self.session_dir()

    # ---- metrics ----

    def _append(self, lines: List[bytes]) -> None:
        try:
            if self._file is None:
                self._file = open(os.path.join(self._claim(), "metrics.jsonl"), "ab")
            self._file.write(b"".join(lines))
            self._file.flush()
        except OSError as err:
            raise TransportError(f"cannot write the local metrics file: {err}") from err

    def send_metrics(self, records: List[Dict[str, Any]], dropped: int) -> int:
        lines = [encode_lines(records)] if records else []
        if dropped:
            lines.append(encode_line({"ts_ms": int(time.time() * 1000), "dropped": dropped}))
        self._append(lines)
        return len(records)

    def send_message(self, message: Dict[str, Any]) -> None:
        body = {k: v for k, v in message.items() if k != "type"}
        self._append([encode_line({str(message.get("type", "message")): body})])

    # ---- checkpoints ----

    def new_staging(self) -> str:
        root = os.path.join(self._claim(), "staging", uuid.uuid4().hex, "data")
        os.makedirs(root)
        return root

    def discard_staging(self, root: str) -> None:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)

    def save_checkpoint(self, name: str, root: str, summary: Dict[str, Any]) -> Dict[str, Any]:
        staged = os.path.dirname(root)
        meta = {"name": name, "session": self.session_name, "ts_ms": int(time.time() * 1000), "summary": summary}
        with open(os.path.join(staged, "meta.json"), "wb") as f:
            f.write(encode_line(meta))
        folder = os.path.join(self._claim(), "checkpoints")
        os.makedirs(folder, exist_ok=True)
        final = os.path.join(folder, name)
        old = None
        if os.path.lexists(final):
            old = os.path.join(self.session_dir(), "staging", f"old-{uuid.uuid4().hex}")
            os.rename(final, old)
        os.rename(staged, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return {"name": name, "session": self.session_name, "path": os.path.join(final, "data")}

    def list_checkpoints(self, session: Optional[str] = None) -> List[str]:
        """Names of a session's checkpoints, oldest first."""
        folder = os.path.join(self.session_dir(session), "checkpoints")
        try:
            names = [n for n in os.listdir(folder) if os.path.isdir(os.path.join(folder, n, "data"))]
        except OSError:
            return []
        return sorted(names, key=lambda n: (os.path.getmtime(os.path.join(folder, n)), n))

    def load_checkpoint(self, session: Optional[str], name: str) -> str:
        target = session or self.session_name
        data = os.path.join(self.session_dir(target), "checkpoints", name, "data")
        if os.path.isdir(data):
            return data
        existing = self.list_checkpoints(target)
        shown = ", ".join(existing[-50:]) if existing else "none"
        raise CheckpointNotFoundError(
            f"checkpoint {name!r} of local session {target} does not exist under {self.root}; "
            f"existing: {shown}. Save it first with nsml.save({name!r}) or pick one that exists",
            existing,
            target,
        )

    def latest_session_with(self, name: str) -> Optional[str]:
        """The other local session that saved checkpoint ``name`` most recently; None when none did.
        (``--pause 1 --iteration NAME`` in a fresh offline run loads from there.)"""
        best: Optional[tuple] = None
        for user in _listdir(self.root):
            for dataset in _listdir(os.path.join(self.root, user)):
                for number in _listdir(os.path.join(self.root, user, dataset)):
                    session = f"{user}/{dataset}/{number}"
                    if not number.isdigit() or session == self.session_name:
                        continue
                    folder = os.path.join(self.root, user, dataset, number, "checkpoints", name)
                    if os.path.isdir(os.path.join(folder, "data")):
                        found = (os.path.getmtime(folder), session)
                        best = found if best is None or found > best else best
        return best[1] if best else None

    def read_meta(self, name: str, session: Optional[str] = None) -> Dict[str, Any]:
        path = os.path.join(self.session_dir(session), "checkpoints", name, "meta.json")
        with open(path, "rb") as f:
            return dict(json.loads(f.read()))

    def forked(self) -> "Transport":
        self._file = None
        self._lock = threading.Lock()
        return self

    def close(self, timeout: float) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None
