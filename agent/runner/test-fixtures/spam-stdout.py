"""Prints argv[1] lines (default 5000) as fast as it can; every 100th goes to stderr."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
for i in range(1, n + 1):
    if i % 100 == 0:
        sys.stderr.write("err %d\n" % i)
        sys.stderr.flush()
    else:
        sys.stdout.write("line %d\n" % i)
    sys.stdout.flush()
