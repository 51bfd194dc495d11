"""A small MNIST-like dataset, generated: the ten digits of a 5x7 bitmap font, each placed at a
random offset on a 7x9 canvas with some pixels flipped. Deterministic for a given seed."""

from __future__ import annotations

import random
from typing import List, Tuple

GLYPHS = {
    0: ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    1: ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
    2: ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    3: ["11111", "00010", "00100", "00010", "00001", "10001", "01110"],
    4: ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    5: ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    6: ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
    7: ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    8: ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
    9: ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
}
WIDTH, HEIGHT = 7, 9
PIXELS = WIDTH * HEIGHT
CLASSES = 10

Example = Tuple[List[float], int]


def render(digit: int, dx: int, dy: int, flip: float, rng: random.Random) -> List[float]:
    """One image as PIXELS floats in {0, 1}."""
    canvas = [0.0] * PIXELS
    for y, row in enumerate(GLYPHS[digit]):
        for x, bit in enumerate(row):
            if bit == "1":
                canvas[(y + dy) * WIDTH + (x + dx)] = 1.0
    return [1.0 - p if rng.random() < flip else p for p in canvas]


def make_split(count: int, seed: int, flip: float = 0.08) -> List[Example]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        digit = rng.randrange(CLASSES)
        out.append((render(digit, rng.randrange(3), rng.randrange(3), flip, rng), digit))
    return out


def load(seed: int, train: int = 4000, val: int = 1000) -> Tuple[List[Example], List[Example]]:
    """(train, validation): disjoint random streams of the same distribution."""
    return make_split(train, seed), make_split(val, seed + 1_000_003)


def show(pixels: List[float]) -> str:
    """The image as text, for printing predictions."""
    rows = ["".join("#" if pixels[y * WIDTH + x] > 0.5 else "." for x in range(WIDTH)) for y in range(HEIGHT)]
    return "\n".join(rows)
