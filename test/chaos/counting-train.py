import atexit, os, sys, time

# Registered before nsml's own exit hook, so it runs after it: it measures the SDK's exit.
END = {}
atexit.register(lambda: END and print(f"exit took {time.monotonic() - END['t0']:.2f} s", file=sys.stderr, flush=True))

import nsml

steps = int(sys.argv[1])
sleep = float(sys.argv[2]) / 1000.0
marker = sys.argv[3] if len(sys.argv) > 3 else ""
nsml.hparams.update({"lr": 0.1})


@nsml.on_change("lr")
def lr_changed(value):
    if marker:
        open(marker, "w").write(str(value))
        while os.path.exists(marker):
            time.sleep(0.01)
    print(f"lr -> {value}", flush=True)


for step in range(1, steps + 1):
    print(f"line {step}", flush=True)
    nsml.report(step=step, train__loss=1.0 / step)
    time.sleep(sleep)
nsml.report(summary=True, step=steps, done=1)
END["t0"] = time.monotonic()
