"""The one runtime of a process: environment, transport, flusher and exit hooks."""

from __future__ import annotations

import atexit
import os
import signal
import threading
import time
from typing import Any, Callable, Dict

from . import _report
from ._bridge import BridgeTransport
from ._env import Environment, read_environment
from ._flusher import Flusher
from ._offline import OfflineTransport
from ._transport import Transport

EXIT_TIMEOUT_S = 10.0


def make_transport(env: Environment, on_command: Callable[[Dict[str, Any]], None]) -> Transport:
    """Online when ``NSML_AGENT_SOCKET`` is set, else the local store under ``./.nsml/``."""
    if env.online:
        return BridgeTransport(env, on_command)
    return OfflineTransport(env)


class Runtime:
    """Owns the background work of ``import nsml`` and everything that must happen at exit."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.transport: Transport = make_transport(env, self.receive_command)
        self.flusher = Flusher(lambda: self.transport, env.flush_interval_s)
        self.apply_pending: Callable[[Any], int] = lambda step: 0
        self.closed = False
        _report.set_capacity(env.buffer_records)
        _report.STATE.apply_pending = self._apply_pending_hook

    @property
    def session_name(self) -> str:
        return self.transport.session_name

    def start(self) -> None:
        self.transport.start()
        self.flusher.start()
        atexit.register(self.close)
        self._install_sigterm()
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._after_fork)

    def receive_command(self, command: Dict[str, Any]) -> None:
        """Called by the transport's reader: the command waits for ``report()`` or ``poll()``."""
        _report.pending().append(command)

    def _apply_pending_hook(self, step: Any) -> None:
        self.apply_pending(step)

    def flush(self) -> bool:
        """Delivers everything buffered, from the calling thread."""
        return self.flusher.flush()

    def send(self, message: Dict[str, Any]) -> None:
        """Queues an event or a command result behind the records taken so far, and flushes."""
        self.flusher.add_message(message)
        self.flusher.flush()

    def close(self, timeout: float = EXIT_TIMEOUT_S) -> None:
        """Final flush and goodbye; later reports are still kept and flushed by the next close."""
        deadline = time.monotonic() + timeout
        done = self.flusher.close(timeout)
        while not done and self.transport.wait_ready(max(0.0, deadline - time.monotonic())):
            done = self.flusher.flush()
            if not done:
                time.sleep(0.05)
            if time.monotonic() >= deadline:
                break
        self.transport.close(max(0.5, deadline - time.monotonic()))
        self.closed = True

    def swap_transport(self, transport: Transport) -> Transport:
        """Replaces the transport after flushing into the old one (used by ``nsml.testing``)."""
        self.flusher.flush()
        old, self.transport = self.transport, transport
        return old

    # ---- signals and fork ----

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            previous = signal.getsignal(signal.SIGTERM)
        except (ValueError, OSError):
            return

        def on_sigterm(signum: int, frame: Any) -> None:
            if callable(previous):
                self.flush()
                previous(signum, frame)
                return
            if previous == signal.SIG_IGN:
                self.flush()
                return
            self.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        try:
            signal.signal(signal.SIGTERM, on_sigterm)
        except (ValueError, OSError):
            pass

    def _after_fork(self) -> None:
        """A forked child (e.g. a data loader worker) starts with nothing buffered, its own
        connection (made when it first sends) and its own flusher thread."""
        _report.buffer().clear()
        _report.pending().clear()
        _report.STATE.dropped = 0
        self.transport = self.transport.forked()
        self.flusher = Flusher(lambda: self.transport, self.env.flush_interval_s)
        self.flusher.start()


RUNTIME = Runtime(read_environment())
