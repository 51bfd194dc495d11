"""The agent's side of a session, seen from the script: newline-delimited JSON over the Unix
socket named by ``NSML_AGENT_SOCKET`` (proto/sdk-bridge.md).

One thread owns the connection: it connects (and reconnects with backoff), says ``hello``, and
reads what the agent sends: replies to requests and operator commands. Any thread may send.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from ._env import Environment
from ._errors import TOO_LARGE, AgentUnavailableError, NsmlError, from_wire
from ._journal import Journal
from ._transport import Transport, TransportError
from ._version import PROTOCOL_VERSION, __version__
from ._warn import warn_once
from ._wire import MAX_LINE_BYTES, TARGET_LINE_BYTES, encode_line

_FIRST_CONNECT_WAIT_S = 2.0
_IO_TIMEOUT_S = 10.0
_MAX_BACKOFF_S = 2.0


class _Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: Optional[Dict[str, Any]] = None
        self.lost = False


class ConnectionLost(Exception):
    pass


class BridgeTransport(Transport):
    """Talks to the agent. Connection problems never reach ``report()``: sends raise
    ``TransportError`` (the flusher retries); requests wait for a connection up to a deadline."""

    def __init__(self, env: Environment, on_command: Callable[[Dict[str, Any]], None]) -> None:
        self._env = env
        self._path = str(env.socket)
        self._on_command = on_command
        self.session_name = env.session or ""
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._sock: Optional[socket.socket] = None
        self._waiters: Dict[int, _Waiter] = {}
        self._ids = itertools.count(1)
        self._closed = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.welcome: Dict[str, Any] = {}
        self.connects = 0
        #: Where metrics, events and results go when the agent named a journal (else the socket).
        self._journal = Journal(env.telemetry_file) if env.telemetry_file else None

    # ---- connection ----

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="nsml-bridge", daemon=True)
        self._thread.start()

    def _hello(self) -> Dict[str, Any]:
        return {
            "type": "hello",
            "v": PROTOCOL_VERSION,
            "sdk": f"nsml-python/{__version__}",
            "python": sys.version.split()[0],
            "pid": os.getpid(),
            "rank": self._env.rank,
            "session": self._env.session or "",
        }

    def _run(self) -> None:
        delay = 0.05
        while not self._closed.is_set():
            sock: Optional[socket.socket] = None
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(_IO_TIMEOUT_S)
                sock.connect(self._path)
                sock.sendall(encode_line(self._hello()))
                pending = bytearray()
                welcome = self._read_line(sock, pending)
                self._accept_welcome(welcome)
                with self._cond:
                    self._sock = sock
                    self.connects += 1
                    self._cond.notify_all()
                delay = 0.05
                self._read_loop(sock, pending)
            except (OSError, ConnectionLost, NsmlError, ValueError) as err:
                if not self._closed.is_set():
                    warn_once("bridge-connect", f"the agent socket {self._path} is unavailable ({err}); retrying")
            finally:
                self._disconnected(sock)
            self._closed.wait(delay)
            delay = min(delay * 2, _MAX_BACKOFF_S)

    def _accept_welcome(self, line: bytes) -> None:
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ConnectionLost("the agent's first message is not an object")
        if message.get("type") == "error":
            raise NsmlError(str(message.get("code", "NSML_E_INVALID_ARGUMENT")), str(message.get("message", "")))
        if message.get("type") != "welcome":
            raise ConnectionLost(f"expected welcome from the agent, got {str(message.get('type'))[:40]!r}")
        self.welcome = message
        if isinstance(message.get("session"), str) and message["session"]:
            self.session_name = message["session"]

    def _read_line(self, sock: socket.socket, pending: bytearray) -> bytes:
        while True:
            i = pending.find(b"\n")
            if i >= 0:
                line = bytes(pending[:i])
                del pending[: i + 1]
                return line
            if len(pending) > MAX_LINE_BYTES:
                raise ConnectionLost(f"the agent sent a line longer than {MAX_LINE_BYTES} bytes")
            try:
                chunk = sock.recv(1 << 16)
            except socket.timeout:
                if self._closed.is_set():
                    raise ConnectionLost("closed") from None
                continue
            if not chunk:
                raise ConnectionLost("the agent closed the connection")
            pending += chunk

    def _read_loop(self, sock: socket.socket, pending: bytearray) -> None:
        while not self._closed.is_set():
            line = self._read_line(sock, pending)
            if line.strip():
                self._dispatch(json.loads(line))

    def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise ConnectionLost("the agent sent a message that is not an object")
        kind = message.get("type")
        if kind == "reply":
            waiter = self._waiters.pop(message.get("id"), None)  # type: ignore[arg-type]
            if waiter is not None:
                waiter.reply = message
                waiter.event.set()
        elif kind == "command":
            self._on_command(message)
        elif kind == "error":
            warn_once("bridge-error", f"the agent reported: {message.get('message')}")
        # Unknown types are ignored so an older SDK keeps working with a newer agent.

    def _disconnected(self, sock: Optional[socket.socket]) -> None:
        with self._cond:
            if self._sock is sock:
                self._sock = None
            waiters, self._waiters = self._waiters, {}
        for waiter in waiters.values():
            waiter.lost = True
            waiter.event.set()
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass

    # ---- sending ----

    def _send(self, message: Dict[str, Any], write: Optional[Callable[[bytes], None]] = None) -> None:
        """Encodes one message and writes it to the socket, or with ``write`` (the journal)."""
        line = encode_line(message)
        if len(line) > MAX_LINE_BYTES:
            raise NsmlError(TOO_LARGE, f"a {message.get('type')} message of {len(line)} bytes exceeds the bridge limit of {MAX_LINE_BYTES}")
        (write or self._send_line)(line)

    def _send_line(self, line: bytes) -> None:
        self.start()
        if self.connects == 0:
            # The first batch usually comes before the connect thread has said hello: give it a
            # moment (this runs on the flusher thread, never on the training loop's).
            try:
                self._wait_connected(time.monotonic() + _FIRST_CONNECT_WAIT_S, "deliver")
            except AgentUnavailableError:
                pass
        with self._send_lock:
            sock = self._sock
            if sock is None:
                raise TransportError(f"not connected to the agent at {self._path}")
            try:
                sock.sendall(line)
            except OSError as err:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                raise TransportError(f"sending to the agent failed: {err}") from err

    def send_metrics(self, records: List[Dict[str, Any]], dropped: int) -> int:
        write = self._journal.append if self._journal is not None else self._send_line
        sent = 0
        for count, line in _chunks(records, dropped):
            try:
                write(line)
            except TransportError:
                if sent == 0:
                    raise
                return sent
            sent += count
        return sent

    def send_message(self, message: Dict[str, Any]) -> None:
        to_journal = self._journal is not None and message.get("type") in ("event", "result")
        self._send(message, self._journal.append if to_journal else None)  # type: ignore[union-attr]

    def request(self, message: Dict[str, Any], timeout: float) -> Dict[str, Any]:
        """Sends a request and waits for its reply; retried once per reconnection. While the agent
        never answered at all, waits at most ``connect_timeout_s`` for it (not the whole timeout)."""
        deadline = time.monotonic() + timeout
        first_contact = min(deadline, time.monotonic() + self._env.connect_timeout_s)
        while True:
            self._wait_connected(deadline if self.connects > 0 else first_contact, str(message.get("type")))
            waiter = _Waiter()
            ident = next(self._ids)
            with self._cond:
                self._waiters[ident] = waiter
            try:
                self._send(dict(message, id=ident))
            except TransportError:
                self._waiters.pop(ident, None)
                continue
            if not waiter.event.wait(max(0.0, deadline - time.monotonic())):
                self._waiters.pop(ident, None)
                raise AgentUnavailableError(f"the agent did not answer {message.get('type')} within {timeout:.0f} s")
            if waiter.lost:
                continue
            reply = waiter.reply or {}
            if reply.get("ok") is True:
                result = reply.get("result")
                return result if isinstance(result, dict) else {}
            raise from_wire(reply.get("error"))

    def wait_ready(self, timeout: float) -> bool:
        if self._journal is not None:
            # Delivery is a file write: nothing to wait for but the disk (retried by the caller).
            return True
        try:
            self._wait_connected(time.monotonic() + timeout, "deliver")
            return True
        except AgentUnavailableError:
            return False

    def _wait_connected(self, deadline: float, what: str) -> None:
        self.start()
        with self._cond:
            while self._sock is None:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed.is_set():
                    raise AgentUnavailableError(self._unreachable(what))
                self._cond.wait(min(left, 0.5))

    def _unreachable(self, what: str) -> str:
        if self.connects == 0 and not os.path.exists(self._path):
            return (
                f"cannot {what}: no agent serves NSML_AGENT_SOCKET={self._path} (the socket does not exist); "
                "the agent that started this script is gone, or the variable was set outside nsml: unset it to run offline"
            )
        return f"cannot {what}: the agent socket {self._path} is not reachable; is the agent running?"

    # ---- checkpoints ----

    def new_staging(self) -> str:
        base = self._env.checkpoint_dir
        if base:
            parent = os.path.join(base, ".nsml")
            os.makedirs(parent, exist_ok=True)
            return tempfile.mkdtemp(prefix="save-", dir=parent)
        return tempfile.mkdtemp(prefix="nsml-save-")

    def discard_staging(self, root: str) -> None:
        shutil.rmtree(root, ignore_errors=True)

    def save_checkpoint(self, name: str, root: str, summary: Dict[str, Any]) -> Dict[str, Any]:
        return self.request({"type": "save", "name": name, "dir": root, "summary": summary}, self._env.save_timeout_s)

    def load_checkpoint(self, session: Optional[str], name: str) -> str:
        message: Dict[str, Any] = {"type": "load", "name": name}
        if session:
            message["session"] = session
        result = self.request(message, self._env.save_timeout_s)
        directory = result.get("dir")
        if not isinstance(directory, str) or not os.path.isdir(directory):
            raise NsmlError("NSML_E_INTERNAL", f"the agent answered load with a directory that does not exist: {directory!r}")
        return directory

    def forked(self) -> "Transport":
        return BridgeTransport(self._env, self._on_command)

    def close(self, timeout: float) -> None:
        try:
            if self._sock is not None:
                self.request({"type": "bye"}, timeout)
        except NsmlError:
            pass
        finally:
            self._closed.set()
            if self._journal is not None:
                self._journal.close()
            sock = self._sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            thread = self._thread
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout)


def _chunks(records: List[Dict[str, Any]], dropped: int) -> List["tuple[int, bytes]"]:
    """Encodes records into ``metrics`` lines under the target size; splits batches that are not."""
    out: List["tuple[int, bytes]"] = []
    pending = [records]
    first = True
    while pending:
        part = pending.pop(0)
        message: Dict[str, Any] = {"type": "metrics", "records": part}
        if first and dropped:
            message["dropped"] = dropped
        line = encode_line(message)
        if len(line) > TARGET_LINE_BYTES and len(part) > 1:
            half = len(part) // 2
            pending[0:0] = [part[:half], part[half:]]
            continue
        first = False
        out.append((len(part), line))
    return out
