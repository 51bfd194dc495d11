"""Prints 'started', sleeps argv[1] seconds, prints 'finished', exits with argv[2] (default 0)."""
import sys
import time

print("started", flush=True)
time.sleep(float(sys.argv[1]))
print("finished", flush=True)
sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
