"""Throughput of nsml.save() into the local store (offline mode): a save callback writes one
checkpoint of --mib MiB (default 1 GiB) in 64 MiB writes, as torch.save of a large state would,
in both NSML shapes (2018: one file at the path; 2019: files inside it). Also times load's
lookup, and first writes the same bytes without nsml (the disk's own figure, which bounds any
save). Target: >= 500 MB/s for 1 GiB.

    python3 bench/report-checkpoint-save.py [--mib 1024] [--dir /path/on/the/disk/to/test]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHUNK = 64 * 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=1024)
    parser.add_argument("--dir", default=None, help="where the local store goes (default: a temp dir)")
    parser.add_argument("--fsync", action="store_true", help="fsync the file in the callback (counts the disk, not the page cache)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nsml-bench-ckpt-", dir=args.dir) as tmp:
        os.environ["NSML_LOCAL_DIR"] = tmp
        os.environ["NSML_SESSION"] = "bench/scratch/1"
        sys.path.insert(0, os.path.join(ROOT, "sdk-python", "src"))
        import nsml

        block = os.urandom(1024 * 1024) * (CHUNK // (1024 * 1024))
        total = args.mib * 1024 * 1024

        def write(path: str) -> None:
            with open(path, "wb") as f:
                left = total
                while left > 0:
                    n = min(left, CHUNK)
                    f.write(block[:n] if n < CHUNK else block)
                    left -= n
                if args.fsync:
                    f.flush()
                    os.fsync(f.fileno())

        def save_file(path: str) -> None:
            write(path)

        def save_dir(dir_name: str) -> None:
            write(os.path.join(dir_name, "model.pt"))

        print(f"nsml.save() of {args.mib} MiB into the local store at {tmp}{' (fsync)' if args.fsync else ''}")
        for attempt in (1, 2):  # the same bytes written to the same disk without nsml: the ceiling
            plain = os.path.join(tmp, f"plain-{attempt}")
            started = time.perf_counter()
            write(plain)
            took = time.perf_counter() - started
            print(f"  {'plain write, no nsml':38s} run {attempt}:  {took:6.2f} s  {total / took / 1e6:7.0f} MB/s")
            os.unlink(plain)
        for label, fn in [("2019 shape (a file inside the path)", save_dir), ("2018 shape (a file at the path)", save_file)]:
            for attempt, name in enumerate(["a", "b"]):  # the second save of a 2018 callback skips the shape probe
                started = time.perf_counter()
                nsml.save(name, save_fn=fn)
                took = time.perf_counter() - started
                print(f"  {label:38s} save {attempt + 1}: {took:6.2f} s  {total / took / 1e6:7.0f} MB/s")
            started = time.perf_counter()
            path = nsml.load("b", load_fn=lambda p: p)
            print(f"  {'':38s} load lookup: {(time.perf_counter() - started) * 1000:.1f} ms -> {os.path.relpath(path, tmp)}")
        print("  target: >= 500 MB/s for 1 GiB")


if __name__ == "__main__":
    main()
