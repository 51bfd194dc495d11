"""Where records, events and checkpoints go: the agent's socket, local files, or a test capture."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

#: The file or directory a save callback writes, inside a checkpoint's directory.
PAYLOAD = "model"


class TransportError(Exception):
    """A delivery that failed for now; the flusher keeps the data and tries again."""


class Transport:
    """The interface the runtime needs. Metric and message sends raise ``TransportError``
    when the data must be kept for a later try; checkpoint calls raise ``NsmlError``."""

    #: The session's name as the platform (or the local store) knows it.
    session_name: str = ""

    def start(self) -> None:
        """Begins background work (connecting); called once by the runtime."""

    def send_metrics(self, records: List[Dict[str, Any]], dropped: int) -> int:
        """Delivers records in order; returns how many were delivered (a prefix)."""
        raise NotImplementedError

    def send_message(self, message: Dict[str, Any]) -> None:
        """Delivers one ``event`` or ``result`` message."""
        raise NotImplementedError

    def new_staging(self) -> str:
        """Creates an empty directory for a checkpoint being written; returns its path."""
        raise NotImplementedError

    def discard_staging(self, root: str) -> None:
        """Removes what ``new_staging`` created, if it is still there."""
        raise NotImplementedError

    def save_checkpoint(self, name: str, root: str, summary: Dict[str, Any]) -> Dict[str, Any]:
        """Registers the finished directory ``root`` as checkpoint ``name``; blocks until done."""
        raise NotImplementedError

    def load_checkpoint(self, session: Optional[str], name: str) -> str:
        """Returns a local directory holding checkpoint ``name`` of ``session`` (None: this one)."""
        raise NotImplementedError

    def wait_ready(self, timeout: float) -> bool:
        """Waits until sends can succeed (the agent is connected); False after ``timeout`` seconds."""
        return True

    def forked(self) -> "Transport":
        """The transport a forked child process uses (it must not share sockets)."""
        return self

    def close(self, timeout: float) -> None:
        """Says goodbye once everything sent was received, within ``timeout`` seconds."""
