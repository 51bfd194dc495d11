"""Runs one nsml session process, outliving the agent that started it.

Usage: python3 supervisor.py SESSION_DIR

Reads SESSION_DIR/launch.json ({"argv": [...], "cwd": "...", "env": {...}, "user": {...}?}) and:
  1. writes supervisor.json ({"pid", "startTicks"}) so that a restarted agent can tell this
     process from another one that later got the same pid;
  2. starts the command in a process group of its own, stdin from /dev/null, stdout and
     stderr to pipes; the command is killed if this supervisor dies (PR_SET_PDEATHSIG);
     with "user" ({"name", "uid", "gid"}), the command runs as that account, with no other
     group and no way to gain privileges (PR_SET_NO_NEW_PRIVS), while this supervisor keeps
     its own uid (root): the files it writes here (supervisor.json, child.json, output.log,
     exit.json, all mode 600) are beyond the command's reach, so the agent can trust them;
  3. writes child.json ({"pid", "pgid", "startTicks"});
  4. copies everything the command writes to output.log as frames: a 13-byte header
     (stream b"o" or b"e", milliseconds since the epoch as uint64, length as uint32, all
     big-endian) followed by the bytes, so that one file keeps the order in which the two
     streams were read and the time each piece arrived;
  5. forwards SIGTERM, SIGINT and SIGHUP to the command's process group;
  6. once the command has exited, kills what is left of its process group, and writes
     exit.json ({"exitCode": int or null, "signal": name or null, "endedMs"}) atomically.
     exit.json is written only after output.log is complete.
A full disk (ENOSPC, EDQUOT) loses nothing: output that cannot be written waits in memory (up
to PENDING_MAX bytes; beyond, it is dropped and a frame says how much) and is written once
there is room; exit.json is retried until it is written, the supervisor living on until then,
so the command's exit status reaches the agent whenever space returns.
Standard library only; Python 3.8 or later.
"""

import json
import os
import select
import signal
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "run-as"))
from become_user import become, checked_user, load_libc  # noqa: E402 - agent/run-as, beside this folder

HEADER = struct.Struct(">cQI")
READ_BYTES = 65536
LINGER_S = 1.0
RETRY_S = 0.5
PENDING_MAX = 64 * 1024 * 1024
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def write_json(path, value):
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(value, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def warn(text):
    """To supervisor.log, which may itself be on a full disk: never raises."""
    try:
        sys.stderr.write("nsml supervisor: %s\n" % text)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def write_json_until_written(path, value, before=None):
    """Retries until the file is written (the disk may be full for a while)."""
    warned = False
    while True:
        try:
            if before is not None:
                before()
            write_json(path, value)
            return
        except OSError as err:
            if not warned:
                warn("cannot write %s yet (%s); retrying every %.1f s" % (os.path.basename(path), err, RETRY_S))
                warned = True
            time.sleep(RETRY_S)


def start_ticks(pid):
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()[19]


PR_SET_PDEATHSIG = 1


def child_setup(user, libc):
    """What the child does between fork and exec: a process group of its own; the account's uid
    and gid with no other group, no way back, no new privileges; then PR_SET_PDEATHSIG, which a
    change of uid clears, so it comes last."""

    def setup():
        os.setpgid(0, 0)
        if user is not None:
            become(user, libc)
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return setup


class Relay:
    """Appends frames to output.log, never blocking the command. Bytes that cannot be written
    (a full disk) wait in memory, in order, and are written by `flush()` once there is room; past
    PENDING_MAX the newest output is dropped and a frame saying how much takes its place."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.pending = bytearray()
        self.dropped = 0
        self.failing = False

    def frame(self, stream, data):
        if len(self.pending) + len(data) > PENDING_MAX:
            self.dropped += len(data)
            return
        self.pending += HEADER.pack(stream, int(time.time() * 1000), len(data)) + data
        self.flush()

    def flush(self):
        """Writes what waits; True when nothing is left. Raises nothing."""
        if self.dropped and len(self.pending) < PENDING_MAX // 2:
            note = ("nsml: %d bytes of output were dropped: the disk was full\n" % self.dropped).encode()
            self.pending += HEADER.pack(b"e", int(time.time() * 1000), len(note)) + note
            self.dropped = 0
        while self.pending:
            try:
                n = os.write(self.fd, self.pending)
            except OSError as err:
                if not self.failing:
                    warn("cannot write output.log (%s); keeping output in memory until there is room" % err)
                    self.failing = True
                return False
            del self.pending[:n]
        self.failing = False
        return not self.dropped

    def flush_or_raise(self):
        if not self.flush():
            raise OSError("output.log is not complete yet")


class Supervisor:
    def __init__(self, session_dir):
        self.dir = session_dir
        self.proc = None
        self.pending = []
        for sig in FORWARDED:
            signal.signal(sig, self.on_signal)

    def path(self, name):
        return os.path.join(self.dir, name)

    def on_signal(self, signum, _frame):
        if self.proc is None:
            self.pending.append(signum)
            return
        try:
            os.killpg(self.proc.pid, signum)
        except OSError:
            pass

    def run(self):
        log = os.open(self.path("supervisor.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        write_json(self.path("supervisor.json"), {"pid": os.getpid(), "startTicks": start_ticks(os.getpid())})
        self.child_info = None
        with open(self.path("launch.json")) as f:
            launch = json.load(f)
        relay = Relay(self.path("output.log"))
        try:
            user = checked_user(launch.get("user"))
        except ValueError as err:
            relay.frame(b"e", ("nsml: %s\n" % err).encode())
            self.finish(127, None, str(err), relay)
            return
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                launch["argv"], cwd=launch["cwd"], env=launch["env"], stdin=subprocess.DEVNULL,
                stdout=out_w, stderr=err_w, preexec_fn=child_setup(user, load_libc()), close_fds=True,
            )
        except (OSError, subprocess.SubprocessError) as err:
            who = "" if user is None else " as %s (uid %d)" % (user["name"], user["uid"])
            why = getattr(err, "strerror", None) or err
            relay.frame(b"e", ("nsml: cannot start %s%s: %s\n" % (launch["argv"][0], who, why)).encode())
            self.finish(127, None, "cannot start %s%s: %s" % (launch["argv"][0], who, why), relay)
            return
        finally:
            os.close(out_w)
            os.close(err_w)
        pid = self.proc.pid
        self.child_info = {"pid": pid, "pgid": pid, "startTicks": start_ticks(pid)}
        self.write_child_info()
        for signum in self.pending:
            self.on_signal(signum, None)
        code = self.relay({out_r: b"o", err_r: b"e"}, relay)
        if code < 0:
            self.finish(None, signal.Signals(-code).name, "", relay)
        else:
            self.finish(code, None, "", relay)

    def write_child_info(self):
        """child.json, retried from the relay loop while the disk is full."""
        if self.child_info is None:
            return
        try:
            write_json(self.path("child.json"), self.child_info)
            self.child_info = None
        except OSError as err:
            if not getattr(self, "child_warned", False):
                warn("cannot write child.json yet (%s); retrying" % err)
                self.child_warned = True

    def relay(self, fds, relay):
        exited_at = None
        killed_at = None
        while fds:
            ready, _, _ = select.select(list(fds), [], [], 0.2)
            if relay.pending or relay.dropped:
                relay.flush()
            self.write_child_info()
            for fd in ready:
                data = os.read(fd, READ_BYTES)
                if data:
                    relay.frame(fds[fd], data)
                else:
                    os.close(fd)
                    del fds[fd]
            now = time.monotonic()
            if exited_at is None and self.proc.poll() is not None:
                exited_at = now
            elif exited_at is not None and killed_at is None and now - exited_at > LINGER_S:
                self.kill_group()
                killed_at = now
            elif killed_at is not None and now - killed_at > LINGER_S:
                break  # something left the group and still holds the pipes
        code = self.proc.wait()
        self.kill_group()
        return code

    def kill_group(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass

    def finish(self, code, signame, message, relay):
        """exit.json once output.log is complete; both retried until the disk has room."""
        value = {"exitCode": code, "signal": signame, "message": message, "endedMs": int(time.time() * 1000)}
        write_json_until_written(self.path("exit.json"), value, before=relay.flush_or_raise)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: supervisor.py SESSION_DIR\n")
        return 2
    Supervisor(argv[1]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
