"""A training loop an operator steers: prints each applied lr change; exits on stop."""
import argparse
import time

import nsml

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--steps", type=int, default=100000)
args = parser.parse_args()
nsml.hparams.update(args)
seen = []


@nsml.on_change("lr")
def lr_changed(value):
    seen.append(value)
    print(f"lr -> {value} args.lr={args.lr}", flush=True)


@nsml.command
def scale(x, y):
    return {"product": x * y}


@nsml.command("explode")
def boom():
    raise ValueError("no such thing")


nsml.bind(save=lambda path: open(path, "w").write(str(args.lr)))
for step in range(args.steps):
    loss_value = 1.0 / (step + 1)
    nsml.report(step=step, loss=loss_value, scope=locals())
    time.sleep(0.01)
