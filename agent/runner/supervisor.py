"""Runs one nsml session process, outliving the agent that started it.

Usage: python3 supervisor.py SESSION_DIR

Reads SESSION_DIR/launch.json ({"argv": [...], "cwd": "...", "env": {...}}) and:
  1. writes supervisor.json ({"pid", "startTicks"}) so that a restarted agent can tell this
     process from another one that later got the same pid;
  2. starts the command in a process group of its own, stdin from /dev/null, stdout and
     stderr to pipes; the command is killed if this supervisor dies (PR_SET_PDEATHSIG);
  3. writes child.json ({"pid", "pgid", "startTicks"});
  4. copies everything the command writes to output.log as frames: a 13-byte header
     (stream b"o" or b"e", milliseconds since the epoch as uint64, length as uint32, all
     big-endian) followed by the bytes, so that one file keeps the order in which the two
     streams were read and the time each piece arrived;
  5. forwards SIGTERM, SIGINT and SIGHUP to the command's process group;
  6. once the command has exited, kills what is left of its process group, and writes
     exit.json ({"exitCode": int or null, "signal": name or null, "endedMs"}) atomically.
     exit.json is written only after output.log is complete.
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

HEADER = struct.Struct(">cQI")
READ_BYTES = 65536
LINGER_S = 1.0
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def start_ticks(pid):
    """Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()[19]


def die_with_parent():
    os.setpgid(0, 0)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class Relay:
    """Appends frames to output.log. If the disk fills up, output is dropped rather than the
    command being blocked or killed: the run matters more than its log."""

    def __init__(self, path):
        self.out = open(path, "ab", buffering=0)
        self.dropped = 0

    def frame(self, stream, data):
        if self.dropped:
            self.dropped += len(data)
            return
        try:
            self.out.write(HEADER.pack(stream, int(time.time() * 1000), len(data)) + data)
        except OSError as err:
            self.dropped = len(data)
            sys.stderr.write("nsml supervisor: cannot write output.log (%s); dropping output\n" % err)


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
        log = os.open(self.path("supervisor.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        write_json(self.path("supervisor.json"), {"pid": os.getpid(), "startTicks": start_ticks(os.getpid())})
        with open(self.path("launch.json")) as f:
            launch = json.load(f)
        relay = Relay(self.path("output.log"))
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                launch["argv"], cwd=launch["cwd"], env=launch["env"], stdin=subprocess.DEVNULL,
                stdout=out_w, stderr=err_w, preexec_fn=die_with_parent, close_fds=True,
            )
        except OSError as err:
            relay.frame(b"e", ("nsml: cannot start %s: %s\n" % (launch["argv"][0], err.strerror or err)).encode())
            self.finish(127, None, "cannot start %s: %s" % (launch["argv"][0], err.strerror or err))
            return
        finally:
            os.close(out_w)
            os.close(err_w)
        pid = self.proc.pid
        write_json(self.path("child.json"), {"pid": pid, "pgid": pid, "startTicks": start_ticks(pid)})
        for signum in self.pending:
            self.on_signal(signum, None)
        code = self.relay({out_r: b"o", err_r: b"e"}, relay)
        if code < 0:
            self.finish(None, signal.Signals(-code).name, "")
        else:
            self.finish(code, None, "")

    def relay(self, fds, relay):
        exited_at = None
        killed_at = None
        while fds:
            ready, _, _ = select.select(list(fds), [], [], 0.2)
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

    def finish(self, code, signame, message):
        write_json(self.path("exit.json"), {
            "exitCode": code, "signal": signame, "message": message, "endedMs": int(time.time() * 1000),
        })


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: supervisor.py SESSION_DIR\n")
        return 2
    Supervisor(argv[1]).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
