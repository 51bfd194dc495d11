"""Cost of nsml.report() in the training loop's own thread, 5 scalars per call.

Prints p50/p99 of single calls (timed with perf_counter_ns; the timer's own median cost is
shown and subtracted for the "net" figures), the mean of an untimed loop, and the rate at which
a burst is absorbed (calls/s, with the number of records dropped, which must be 0). The
background flusher runs meanwhile, as in a real script: offline by default (JSON Lines in a
temp dir), or with --online against a fake agent process that reads and discards.
Targets: p50 <= 1 us, p99 <= 20 us, burst >= 1 M calls/s.

    python3 bench/report-overhead.py [--calls 200000] [--burst 1000000] [--online]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAKE_AGENT = r"""
import json, os, socket, sys
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(1)
print("listening", flush=True)
conn, _ = srv.accept()
buf = b""
while True:
    chunk = conn.recv(1 << 20)
    if not chunk:
        break
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        if line.startswith(b'{"type":"hello"'):
            conn.sendall(b'{"type":"welcome","v":1,"session":"bench/scratch/1"}\n')
        elif line.startswith(b'{"type":"bye"'):
            conn.sendall(json.dumps({"type": "reply", "id": json.loads(line)["id"], "ok": True}).encode() + b"\n")
"""


def setup(online: bool, burst: int, tmp: str) -> "subprocess.Popen[str] | None":
    os.environ["NSML_LOCAL_DIR"] = os.path.join(tmp, "store")
    os.environ["NSML_SESSION"] = "bench/scratch/1"
    os.environ["NSML_BUFFER_RECORDS"] = str(max(burst, 1 << 18) + 10)
    sys.path.insert(0, os.path.join(ROOT, "sdk-python", "src"))
    if not online:
        return None
    path = os.path.join(tmp, "a.sock")
    agent = subprocess.Popen([sys.executable, "-c", FAKE_AGENT, path], stdout=subprocess.PIPE, text=True)
    assert agent.stdout is not None and agent.stdout.readline().strip() == "listening"
    os.environ["NSML_AGENT_SOCKET"] = path
    return agent


def percentile(sorted_ns: list, q: float) -> int:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))]


def timer_overhead(n: int) -> int:
    from time import perf_counter_ns as clock
    samples = []
    for _ in range(n):
        t0 = clock()
        samples.append(clock() - t0)
    samples.sort()
    return percentile(samples, 0.5)


def latency(report, calls: int, out: list) -> None:
    from time import perf_counter_ns as clock
    for i in range(calls):
        t0 = clock()
        report(step=i, loss=0.25, acc=0.5, lr=0.01, grad_norm=1.5, epoch=3)
        out.append(clock() - t0)


def interleaved(report, noop, calls: int, rounds: int = 20) -> tuple:
    """Single-call timings of report() and of the empty function, in alternating rounds so that
    both see the same machine (this matters on a shared one)."""
    mine: list = []
    base: list = []
    for _ in range(rounds):
        latency(noop, calls // rounds, base)
        latency(report, calls // rounds, mine)
    return sorted(mine), sorted(base)


def burst_rate(report, calls: int) -> float:
    started = time.perf_counter()
    for i in range(calls):
        report(step=i, loss=0.25, acc=0.5, lr=0.01, grad_norm=1.5, epoch=3)
    return calls / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--burst", type=int, default=1_000_000)
    parser.add_argument("--online", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nsml-bench-") as tmp:
        agent = setup(args.online, args.burst, tmp)
        import nsml
        from nsml import _report

        def noop(summary=False, scope=None, step=None, **metrics):  # the same call, doing nothing
            pass

        for _ in range(20_000):
            nsml.report(step=0, loss=0.25, acc=0.5, lr=0.01, grad_norm=1.5, epoch=3)
        nsml._RUNTIME.flush()
        overhead = timer_overhead(args.calls)
        lat, base = interleaved(nsml.report, noop, args.calls)
        nsml._RUNTIME.flush()
        mean_ns = 1e9 / burst_rate(nsml.report, args.calls)
        nsml._RUNTIME.flush()
        noop_rate = burst_rate(noop, args.burst)
        rate = burst_rate(nsml.report, args.burst)
        dropped = _report.STATE.dropped
        started = time.perf_counter()
        nsml._RUNTIME.close()
        drain = time.perf_counter() - started
        mode = "online (fake agent over the Unix socket)" if args.online else "offline (JSON Lines)"
        print(f"nsml.report(), 5 scalars + step, Python {sys.version.split()[0]}, {mode}")
        print(f"  timer overhead (median)          {overhead:6d} ns")
        print(f"  empty function, same call        p50 {percentile(base, .5) - overhead:6d} ns   p99 {percentile(base, .99) - overhead:6d} ns  (net)")
        print(f"  report() per call                p50 {percentile(lat, .5) - overhead:6d} ns   p99 {percentile(lat, .99) - overhead:6d} ns  (net)")
        print(f"  report() per call, raw           p50 {percentile(lat, .5):6d} ns   p99 {percentile(lat, .99):6d} ns   max {lat[-1] / 1000:.0f} us")
        print(f"  report() mean in a loop          {mean_ns:6.0f} ns")
        print(f"  burst of {args.burst:,} calls         {rate / 1e6:.2f} M calls/s, dropped {dropped}")
        print(f"  (the empty function, same loop   {noop_rate / 1e6:.2f} M calls/s: this machine's ceiling)")
        print(f"  flush of the burst at exit       {drain:.2f} s")
        print(f"  targets: p50 <= 1000 ns, p99 <= 20000 ns, burst >= 1.00 M calls/s")
        if agent is not None:
            agent.wait(10)


if __name__ == "__main__":
    main()
