# -*- coding: utf-8 -*-
"""Reads DATASET_PATH/train/train_data (one review per line) and train/train_label (a score
per line), as the baseline's dataset.py does."""

import os


def preprocess(data, max_length, size):
    return [[ord(ch) % size for ch in line.strip()[:max_length]] for line in data]


class MovieReviewDataset:
    def __init__(self, dataset_path, max_length, size):
        with open(os.path.join(dataset_path, 'train', 'train_data'), 'rt', encoding='utf-8') as f:
            self.reviews = preprocess(f.readlines(), max_length, size)
        with open(os.path.join(dataset_path, 'train', 'train_label')) as f:
            self.labels = [float(x) for x in f.readlines()]

    def __len__(self):
        return len(self.reviews)
