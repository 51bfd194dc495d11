"""Prints 'ready', then sleeps until killed (the default SIGTERM action ends it)."""
import time

print("ready", flush=True)
while True:
    time.sleep(0.05)
