"""Prints N numbered lines (argv[1], default 3), then raises: a traceback on stderr, exit code 1."""
import sys

for i in range(1, int(sys.argv[1] if len(sys.argv) > 1 else 3) + 1):
    print("step %d" % i, flush=True)
raise RuntimeError("crashed on purpose")
