"""The telemetry journal (NSML_TELEMETRY_FILE): what the script appends, and how it behaves when
the agent is gone, the disk refuses a write, or the script forks."""

import errno
import json
import os
import subprocess
import sys
import time

import pytest

from conftest import script_env


def entries(path):
    """The journal's entries as the agent reads them: blank lines skipped, torn lines kept as text."""
    out = []
    with open(path, "rb") as f:
        for line in f.read().split(b"\n"):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"torn": line.decode("utf-8", "replace")})
    return out


def journal_env(tmp_path, **extra):
    # No agent serves this socket: everything the script reports must reach the journal anyway.
    return script_env({"NSML_AGENT_SOCKET": str(tmp_path / "nobody.sock"), "NSML_TELEMETRY_FILE": str(tmp_path / "telemetry.jsonl"),
                       "NSML_SESSION": "alice/scratch/1", **extra})


def test_reports_go_to_the_journal_and_exit_does_not_wait_for_an_agent(tmp_path):
    code = ("import time, nsml\nfor i in range(3000):\n    nsml.report(step=i, loss=1.0 / (i + 1))\n"
            "nsml.report(summary=True, step=3000, acc=float('inf'))\n")
    began = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=journal_env(tmp_path), capture_output=True, text=True, timeout=60)
    took = time.monotonic() - began
    assert out.returncode == 0, out.stderr
    records = [r for e in entries(tmp_path / "telemetry.jsonl") for r in e.get("records", [])]
    assert [r["step"] for r in records] == list(range(3000)) + [3000]
    assert records[-1] == {"ts_ms": records[-1]["ts_ms"], "step": 3000, "values": {"acc": "Infinity"}, "summary": True}
    # Without a journal the exit waits up to 10 s for an agent to deliver to; with one there is nothing to wait for.
    assert took < 8, f"the script took {took:.1f} s"


def test_a_failed_write_tears_only_its_own_line_and_is_written_again_whole(tmp_path):
    from nsml import _journal
    from nsml._transport import TransportError

    path = tmp_path / "telemetry.jsonl"
    journal = _journal.Journal(str(path))
    journal.append(b'{"type":"metrics","records":[],"dropped":1}\n')
    real_write = os.write
    calls = {"n": 0}

    def half_then_full(fd, data):
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data)[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    _journal.os.write = half_then_full
    try:
        with pytest.raises(TransportError, match="No space left"):
            journal.append(b'{"type":"metrics","records":[],"dropped":2}\n')
    finally:
        _journal.os.write = real_write
    journal.append(b'{"type":"metrics","records":[],"dropped":2}\n')
    journal.close()
    got = entries(path)
    assert [e.get("dropped", "torn") for e in got] == [1, "torn", 2]


def test_forked_children_append_to_the_same_journal_without_interleaving(tmp_path):
    code = (
        "import os, nsml\n"
        "pids = []\n"
        "for child in range(3):\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        for i in range(2000):\n"
        "            nsml.report(step=i, **{f'w{child}': float(i)})\n"
        "        raise SystemExit(0)  # the child's exit hooks flush what it reported\n"
        "    pids.append(pid)\n"
        "for pid in pids:\n"
        "    os.waitpid(pid, 0)\n"
        "for i in range(2000):\n"
        "    nsml.report(step=i, main=float(i))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=journal_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = entries(tmp_path / "telemetry.jsonl")
    assert not [e for e in got if "torn" in e]
    by_key = {}
    for e in got:
        for r in e.get("records", []):
            for k in r["values"]:
                by_key.setdefault(k, []).append(r["step"])
    assert sorted(by_key) == ["main", "w0", "w1", "w2"]
    for steps in by_key.values():
        assert steps == list(range(2000))
