"""On SIGTERM prints 'saving', then exits 0: a script that checkpoints when asked to stop."""
import signal
import sys
import time


def on_term(_signum, _frame):
    print("saving", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(0.05)
