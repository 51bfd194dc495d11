"""The rank's telemetry journal (``NSML_TELEMETRY_FILE``): an append-only file of bridge lines.

Metrics, timeline events and command results are appended here instead of being sent over the
socket, and the agent ships the file. The data is on disk as soon as ``os.write`` returns, so
it outlives the agent (restarted, upgraded or killed) and the script never waits for one at
exit. Each entry is written as ``\\n{json}\\n`` in one append: a line that a failed write (a
full disk) cut short is closed by the next entry's leading newline and damages only itself;
the caller keeps the data and writes it again whole.
"""

from __future__ import annotations

import os
import threading
from typing import Optional

from ._transport import TransportError


class Journal:
    """Appends whole entries; safe across threads and across forked processes (O_APPEND)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: Optional[int] = None
        self._pid = -1
        self._lock = threading.Lock()

    def append(self, data: bytes) -> None:
        """Writes ``data`` (one or more ``\\n``-ended lines) as one entry or raises ``TransportError``."""
        with self._lock:
            fd = self._open()
            view = memoryview(b"\n" + data)
            try:
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
            except OSError as err:
                raise TransportError(f"cannot write the telemetry journal {self.path}: {err.strerror or err}") from err

    def _open(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._pid != pid:
            try:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o640)
            except OSError as err:
                raise TransportError(f"cannot open the telemetry journal {self.path}: {err.strerror or err}") from err
            self._pid = pid
        return self._fd

    def close(self) -> None:
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                try:
                    os.close(self._fd)
                except OSError:
                    pass
            self._fd = None
