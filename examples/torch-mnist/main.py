"""MNIST with PyTorch, the NSML way. Uses the GPU when there is one.

    cd examples/torch-mnist
    nsml dataset push mnist ./mnist        # torchvision layout: mnist/MNIST/raw/*.gz (needs torchvision)
    nsml run -d mnist -g 1 -a "--lr 0.01 --epochs 5"
    nsml control SESSION set lr=0.001      # or: save now | call evaluate | stop

Without a dataset (or offline without ./data/MNIST), it trains on generated 28x28 digits (ten
fixed random patterns, shifted and noisy), so the script runs anywhere torch is
installed, from this folder alone.
"""

from __future__ import annotations

import argparse
import os
import random
import time

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import nsml


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--mode", type=str, default="train")
    p.add_argument("--pause", type=int, default=0)
    p.add_argument("--iteration", type=str, default="0")
    return p.parse_args()


def mnist(root: str, train: bool) -> TensorDataset:
    from torchvision import datasets  # only needed for the real dataset

    ds = datasets.MNIST(root, train=train, download=False)
    x = ds.data.float().div(255).sub(0.1307).div(0.3081).unsqueeze(1)
    return TensorDataset(x, ds.targets)


def generated(count: int, seed: int) -> TensorDataset:
    """Ten fixed 14x14 patterns (one per class, the same for every split), scaled to 28x28,
    each shifted by up to 3 pixels, with 5 % of pixels flipped."""
    templates = (torch.rand(10, 1, 14, 14, generator=torch.Generator().manual_seed(1234)) > 0.6).float()
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 10, (count,), generator=g)
    x = F.interpolate(templates[y], size=(28, 28), mode="nearest")
    shifts = torch.randint(-3, 4, (count, 2), generator=g)
    for dy, dx in shifts.unique(dim=0).tolist():
        rows = ((shifts[:, 0] == dy) & (shifts[:, 1] == dx)).nonzero().squeeze(1)
        x[rows] = torch.roll(x[rows], shifts=(dy, dx), dims=(2, 3))
    flip = torch.rand(x.shape, generator=g) < 0.05
    x = torch.where(flip, 1 - x, x)
    return TensorDataset((x - 0.5) / 0.5, y)


def datasets_for(seed: int) -> tuple:
    root = nsml.DATASET_PATH if nsml.HAS_DATASET else "./data"
    root = root[0] if isinstance(root, list) else root
    if os.path.isdir(os.path.join(root, "MNIST")):
        return mnist(root, True), mnist(root, False), "MNIST"
    return generated(20000, seed), generated(4000, seed + 1), "generated digits"


def bind_model(model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    def save(dir_name: str, **kwargs: object) -> None:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, os.path.join(dir_name, "model.pt"))

    def load(dir_name: str, **kwargs: object) -> None:
        state = torch.load(os.path.join(dir_name, "model.pt"), map_location="cpu")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        print("loaded", dir_name)

    def infer(images: torch.Tensor, **kwargs: object) -> list:
        model.eval()
        with torch.no_grad():
            return model(images.to(next(model.parameters()).device)).argmax(1).tolist()

    nsml.bind(save=save, load=load, infer=infer)


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: torch.device) -> tuple:
    model.eval()
    loss, right, n = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        out = model(x)
        loss += F.cross_entropy(out, y, reduction="sum").item()
        right += (out.argmax(1) == y).sum().item()
        n += len(y)
    model.train()
    return loss / n, right / n


def main() -> None:
    args = parse_args()
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    nsml.hparams.update(args)
    train_set, val_set, source = datasets_for(args.seed)
    train_loader = DataLoader(train_set, batch_size=args.batch, shuffle=True)
    val_loader = DataLoader(val_set, batch_size=1000)
    model = Net().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    bind_model(model, optimizer)

    @nsml.on_change("lr")
    def set_lr(value: float) -> None:
        for group in optimizer.param_groups:
            group["lr"] = value
        print(f"learning rate -> {value}", flush=True)

    @nsml.command("evaluate")
    def evaluate_now() -> dict:
        loss, acc = evaluate(model, val_loader, device)
        return {"val_loss": loss, "val_acc": acc}

    if args.pause:
        nsml.paused(scope=locals())
    print(f"{source} on {device}: {len(train_set)} train, {len(val_set)} validation; session {nsml.SESSION_NAME}", flush=True)
    step = 0
    for epoch in range(args.epochs):
        started = time.time()
        for x, y in train_loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            if step % 20 == 0:
                nsml.report(step=step, train__loss=loss.item(), lr=optimizer.param_groups[0]["lr"])
        val_loss, val_acc = evaluate(model, val_loader, device)
        nsml.report(summary=True, step=step, scope=locals(), epoch=epoch, val__loss=val_loss, val__acc=val_acc)
        nsml.save(epoch)
        print(f"epoch {epoch}: val loss {val_loss:.4f} val acc {val_acc:.4f} ({time.time() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
