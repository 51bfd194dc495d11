"""Train a small classifier on generated MNIST-like digits, the NSML way, with no dependencies.

    python3 main.py --lr 0.05 --epochs 10          # offline: ./.nsml/ holds metrics and checkpoints
    nsml run -e main.py -a "--lr 0.05"              # on the platform; then, while it runs:
    nsml control SESSION set lr=0.01 | save best | call evaluate | get val_acc | stop
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

import digits
import nsml
from mlp import MLP


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lr", type=float, default=0.05, help="SGD learning rate (an operator may change it live)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--report-every", type=int, default=100, help="examples between two train/loss reports")
    # Reserved by NSML: the platform relaunches with --pause 1 --iteration NAME to fork or resume.
    p.add_argument("--mode", type=str, default="train")
    p.add_argument("--pause", type=int, default=0)
    p.add_argument("--iteration", type=str, default="0")
    return p.parse_args()


def bind_model(model: MLP) -> None:
    """2019-style callbacks: the path is a directory; the model is one JSON file in it."""

    def save(dir_name: str, **kwargs: object) -> None:
        with open(os.path.join(dir_name, "model.json"), "w") as f:
            f.write(model.dumps())

    def load(dir_name: str, **kwargs: object) -> None:
        with open(os.path.join(dir_name, "model.json")) as f:
            model.load_state(json.load(f))
        print(f"loaded the model from {dir_name}")

    def infer(images: list, **kwargs: object) -> list:
        return [model.predict(x) for x in images]

    nsml.bind(save=save, load=load, infer=infer)


def train_epoch(model: MLP, train: list, epoch: int, args: argparse.Namespace, rng: random.Random) -> float:
    order = list(range(len(train)))
    rng.shuffle(order)
    running, total = 0.0, 0.0
    for i, idx in enumerate(order, start=1):
        x, y = train[idx]
        loss = model.step(x, y, nsml.hparams["lr"])
        running += loss
        total += loss
        if i % args.report_every == 0:
            step = epoch * len(train) + i
            nsml.report(step=step, train__loss=running / args.report_every, lr=nsml.hparams["lr"])
            running = 0.0
    return total / len(train)


def main() -> None:
    args = parse_args()
    nsml.hparams.update(args)
    train, val = digits.load(args.seed)
    model = MLP(digits.PIXELS, args.hidden, digits.CLASSES, args.seed)
    bind_model(model)

    @nsml.on_change("lr")
    def lr_changed(value: float) -> None:
        print(f"learning rate changed to {value}", flush=True)

    @nsml.command
    def evaluate() -> dict:
        loss, acc = model.evaluate(val)
        return {"val_loss": loss, "val_acc": acc}

    @nsml.command
    def predict(index: int = 0) -> dict:
        x, y = val[index]
        return {"label": y, "predicted": model.predict(x), "image": digits.show(x)}

    if args.pause:
        nsml.paused(scope=locals())

    print(f"session {nsml.SESSION_NAME} ({'on nsml' if nsml.IS_ON_NSML else 'offline'}): "
          f"{len(train)} train / {len(val)} validation images, lr {args.lr}", flush=True)
    rng = random.Random(args.seed)
    best = 0.0
    for epoch in range(args.epochs):
        started = time.time()
        train_loss = train_epoch(model, train, epoch, args, rng)
        val_loss, val_acc = model.evaluate(val)
        step = (epoch + 1) * len(train)
        nsml.report(summary=True, step=step, scope=locals(), epoch=epoch, train__epoch_loss=train_loss,
                    val__loss=val_loss, val__acc=val_acc)
        nsml.save(epoch)
        if val_acc > best:
            best = val_acc
            nsml.save("best")
        print(f"epoch {epoch}: train loss {train_loss:.4f}  val loss {val_loss:.4f}  val acc {val_acc:.3f}  "
              f"({time.time() - started:.1f} s)", flush=True)
    print(f"best validation accuracy {best:.3f}")


if __name__ == "__main__":
    main()
