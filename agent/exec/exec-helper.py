"""Runs one `nsml exec` / `nsml attach` command for the agent, under a pseudo-terminal or pipes.

Usage: python3 -S exec-helper.py   (frames on stdin and stdout)

Every message either way is a frame: one type byte, the payload's length as a big-endian
uint32, then the payload.

From the agent:
  c  the command, first and once: JSON {"argv": [...], "cwd": "...", "env": {...},
     "user": {"name", "uid", "gid"} or null, "tty": bool, "rows": int, "cols": int}
  i  bytes for the command's stdin (with a TTY: typed keys; Ctrl-C is \\x03)
  E  no more stdin (pipes: stdin is closed; TTY: the terminal's end-of-file character)
  w  the terminal's new size: rows and cols as two big-endian uint16
  k  a signal name ("SIGINT", ...) for the command's process group
To the agent:
  o  bytes the command wrote to stdout (with a TTY: everything the terminal shows)
  e  bytes it wrote to stderr (pipes only)
  x  the end, last: JSON {"exitCode": int or null, "signal": name or null, "message": str}

The command runs in a session of its own (with a TTY, the terminal is its controlling one);
with "user" it runs as that account, with no other group and no way to gain privileges.
When the agent goes away (stdin closes), the command's process group gets SIGHUP, then SIGKILL.
Standard library only; Python 3.8 or later.
"""

import errno
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "run-as"))
from become_user import become, checked_user, load_libc  # noqa: E402 - agent/run-as, beside this folder

HEADER = struct.Struct(">cI")
SIZE = struct.Struct(">HH")
READ_BYTES = 65536
MAX_FRAME = 16 * 1024 * 1024
MAX_PENDING_STDIN = 1024 * 1024
KILL_AFTER_S = 1.0
SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2", "SIGWINCH")


def send(kind, payload):
    data = HEADER.pack(kind, len(payload)) + payload
    view = memoryview(data)
    while view:
        try:
            n = os.write(1, view)
        except OSError as err:
            if err.errno == errno.EINTR:
                continue
            raise
        view = view[n:]


class FrameReader:
    """Frames from fd 0; `read()` returns the frames whole so far, None once stdin closed."""

    def __init__(self):
        self.buf = b""

    def read(self):
        chunk = os.read(0, READ_BYTES)
        if not chunk:
            return None
        self.buf += chunk
        frames = []
        while len(self.buf) >= HEADER.size:
            kind, length = HEADER.unpack_from(self.buf)
            if length > MAX_FRAME:
                raise ValueError("a frame of %d bytes is over the limit of %d" % (length, MAX_FRAME))
            if len(self.buf) < HEADER.size + length:
                break
            frames.append((kind, self.buf[HEADER.size:HEADER.size + length]))
            self.buf = self.buf[HEADER.size + length:]
        return frames


def set_size(fd, rows, cols):
    if rows > 0 and cols > 0:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def child_setup(user, tty):
    """Runs in the child between fork and exec (after setsid): the terminal, then the account."""
    libc = load_libc() if user is not None else None

    def setup():
        if tty:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        if user is not None:
            become(user, libc)

    return setup


class Command:
    def __init__(self, config):
        self.tty = bool(config.get("tty"))
        user = checked_user(config.get("user"))
        self.master = None
        self.stdin_fd = None
        self.outputs = {}
        self.pending = b""
        self.eof_wanted = False
        if self.tty:
            master, slave = os.openpty()
            set_size(master, int(config.get("rows") or 0), int(config.get("cols") or 0))
            stdio = {"stdin": slave, "stdout": slave, "stderr": slave}
        else:
            stdio = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        try:
            self.proc = subprocess.Popen(
                config["argv"], cwd=config.get("cwd") or None, env=config.get("env") or {},
                start_new_session=True, preexec_fn=child_setup(user, self.tty), close_fds=True, **stdio
            )
        finally:
            if self.tty:
                os.close(slave)
        if self.tty:
            self.master = master
            self.stdin_fd = master
            self.outputs = {master: b"o"}
        else:
            self.stdin_fd = self.proc.stdin.fileno()
            self.outputs = {self.proc.stdout.fileno(): b"o", self.proc.stderr.fileno(): b"e"}
        os.set_blocking(self.stdin_fd, False)

    def on_frame(self, kind, payload):
        if kind == b"i":
            self.pending += payload
        elif kind == b"E":
            self.eof_wanted = True
            if self.tty:
                self.pending += bytes(termios.tcgetattr(self.master)[6][termios.VEOF])
        elif kind == b"w" and self.tty and len(payload) == SIZE.size:
            set_size(self.master, *SIZE.unpack(payload))
        elif kind == b"k":
            name = payload.decode("ascii", "replace")
            if name in SIGNALS:
                self.signal_group(getattr(signal, name))

    def signal_group(self, signum):
        try:
            os.killpg(self.proc.pid, signum)
        except OSError:
            pass

    def flush_stdin(self):
        if self.stdin_fd is None:
            return
        while self.pending:
            try:
                n = os.write(self.stdin_fd, self.pending)
            except BlockingIOError:
                return
            except OSError:
                self.pending = b""  # the command closed its stdin
                break
            self.pending = self.pending[n:]
        if self.eof_wanted and not self.tty:
            self.proc.stdin.close()
            self.stdin_fd = None

    def read_output(self, fd):
        try:
            data = os.read(fd, READ_BYTES)
        except OSError as err:
            if err.errno != errno.EIO:  # EIO: every holder of the terminal closed it
                raise
            data = b""
        if data:
            send(self.outputs[fd], data)
            return
        del self.outputs[fd]
        if fd == self.master:
            self.stdin_fd = None

    def hang_up(self):
        self.signal_group(signal.SIGHUP)
        self.signal_group(signal.SIGCONT)
        deadline = time.time() + KILL_AFTER_S
        while self.proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        self.signal_group(signal.SIGKILL)
        self.proc.wait()

    def run(self, reader):
        agent_open = True
        while self.outputs or self.proc.poll() is None:
            if self.proc.poll() is not None and self.tty:
                # The shell ended: what is still queued on the terminal comes out, then no more.
                drain_tty(self)
                break
            read_fds = list(self.outputs)
            if agent_open and len(self.pending) < MAX_PENDING_STDIN:
                read_fds.append(0)
            write_fds = [self.stdin_fd] if self.pending and self.stdin_fd is not None else []
            readable, writable, _ = select.select(read_fds, write_fds, [], 0.1)
            if writable:
                self.flush_stdin()
            for fd in readable:
                if fd == 0:
                    frames = reader.read()
                    if frames is None:
                        agent_open = False
                        self.hang_up()
                        return
                    for kind, payload in frames:
                        self.on_frame(kind, payload)
                    self.flush_stdin()
                elif fd in self.outputs:
                    self.read_output(fd)
        code = self.proc.wait()
        if code < 0:
            result = {"exitCode": None, "signal": signal.Signals(-code).name, "message": ""}
        else:
            result = {"exitCode": code, "signal": None, "message": ""}
        send(b"x", json.dumps(result).encode())


def drain_tty(cmd):
    while cmd.master in cmd.outputs:
        readable, _, _ = select.select([cmd.master], [], [], 0.05)
        if not readable:
            return
        cmd.read_output(cmd.master)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    reader = FrameReader()
    config = None
    early = []  # frames that came with the command, before it started
    while config is None:
        frames = reader.read()
        if frames is None:
            return 0
        for kind, payload in frames:
            if kind == b"c" and config is None:
                config = json.loads(payload.decode("utf-8"))
            elif config is not None:
                early.append((kind, payload))
    try:
        cmd = Command(config)
    except (OSError, ValueError, subprocess.SubprocessError) as err:
        code = 127 if isinstance(err, FileNotFoundError) else 126
        message = "cannot run %s: %s" % (json.dumps(config.get("argv", [])[:1]), err)
        send(b"x", json.dumps({"exitCode": code, "signal": None, "message": message}).encode())
        return 0
    for kind, payload in early:
        cmd.on_frame(kind, payload)
    cmd.run(reader)
    return 0


if __name__ == "__main__":
    sys.exit(main())
