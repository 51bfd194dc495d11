"""Reports N records with steps 0..N-1, says "ready", then exits or waits for a signal.

usage: sdk-reports.py N exit|wait|settle   (settle: wait for a few flush intervals first)
"""
import sys
import time

import nsml

n, mode = int(sys.argv[1]), sys.argv[2]
for i in range(n):
    nsml.report(step=i, train__loss=1.0 / (i + 1), odd=float("nan") if i % 2 else float("inf"))
if mode == "settle":
    time.sleep(1.0)
print("ready", flush=True)
if mode != "exit":
    while True:
        time.sleep(1)
