"""A progress bar on stderr redrawn with carriage returns, then a final line on stdout."""
import sys
import time

for pct in range(0, 101, 5):
    sys.stderr.write("\rprogress %3d%%" % pct)
    sys.stderr.flush()
    time.sleep(0.001)
sys.stderr.write("\n")
sys.stderr.flush()
print("done", flush=True)
