# -*- coding: utf-8 -*-
"""A script shaped like NAVER's 2018 movie-review baseline (missions/examples/movie-review):
the same NSML calls in the same places, with a small pure-Python regression instead of a
torch model, so it runs anywhere. `torch` is only used for torch.save / torch.load, with the
2018 file-style save (one file at exactly the path it gets)."""

import argparse
import os

import torch

import nsml
from dataset import MovieReviewDataset, preprocess
from nsml import DATASET_PATH, HAS_DATASET, GPU_NUM, IS_ON_NSML


class Regression:
    """Score = bias + mean of per-character weights (characters hashed into `size` buckets)."""

    def __init__(self, size: int, max_length: int):
        self.size, self.max_length = size, max_length
        self.w = [0.0] * size
        self.b = 5.5

    def state_dict(self):
        return {'w': list(self.w), 'b': self.b}

    def load_state_dict(self, state):
        self.w, self.b = list(state['w']), state['b']

    def fingerprint(self):
        return round(self.b + sum(i * v for i, v in enumerate(self.w)), 9)

    def __call__(self, data):
        return [self.b + sum(self.w[c] for c in row) / max(1, len(row)) for row in data]

    def step(self, data, labels, lr):
        out = self(data)
        loss = 0.0
        for row, y, p in zip(data, labels, out):
            g = 2 * (p - y) / len(data)
            loss += (p - y) ** 2 / len(data)
            self.b -= lr * g
            for c in row:
                self.w[c] -= lr * g / max(1, len(row))
        return loss


# DONOTCHANGE: They are reserved for nsml
def bind_model(model, config):
    def save(filename, *args):
        checkpoint = {
            'model': model.state_dict()
        }
        torch.save(checkpoint, filename)
        print('saved', model.fingerprint())

    def load(filename, *args):
        checkpoint = torch.load(filename)
        model.load_state_dict(checkpoint['model'])
        print('Model loaded', model.fingerprint())

    def infer(raw_data, **kwargs):
        preprocessed_data = preprocess(raw_data, config.strmaxlen, model.size)
        point = model(preprocessed_data)
        return list(zip([0.0] * len(point), point))

    nsml.bind(save=save, load=load, infer=infer)


if __name__ == '__main__':
    args = argparse.ArgumentParser()
    # DONOTCHANGE: They are reserved for nsml
    args.add_argument('--mode', type=str, default='train')
    args.add_argument('--pause', type=int, default=0)
    args.add_argument('--iteration', type=str, default='0')

    # User options
    args.add_argument('--epochs', type=int, default=3)
    args.add_argument('--batch', type=int, default=8)
    args.add_argument('--strmaxlen', type=int, default=200)
    args.add_argument('--buckets', type=int, default=64)
    args.add_argument('--lr', type=float, default=0.5)
    config = args.parse_args()

    if not HAS_DATASET and not IS_ON_NSML:  # It is not running on nsml
        DATASET_PATH = '../sample_data/movie_review/'

    model = Regression(config.buckets, config.strmaxlen)
    if GPU_NUM:
        print('GPUs:', GPU_NUM)

    # DONOTCHANGE: Reserved for nsml use
    bind_model(model, config)

    # DONOTCHANGE: They are reserved for nsml
    if config.pause:
        nsml.paused(scope=locals())

    if config.mode == 'train':
        dataset = MovieReviewDataset(DATASET_PATH, config.strmaxlen, config.buckets)
        batches = [(dataset.reviews[i:i + config.batch], dataset.labels[i:i + config.batch])
                   for i in range(0, len(dataset), config.batch)]
        total_batch = len(batches)
        for epoch in range(config.epochs):
            avg_loss = 0.0
            for i, (data, labels) in enumerate(batches):
                loss = model.step(data, labels, config.lr)
                avg_loss += loss
            print('epoch:', epoch, ' train_loss:', float(avg_loss / total_batch))
            nsml.report(summary=True, scope=locals(), epoch=epoch, epoch_total=config.epochs,
                        train__loss=float(avg_loss / total_batch), step=epoch)
            # DONOTCHANGE (You can decide how often you want to save the model)
            nsml.save(epoch)

    elif config.mode == 'test_local':
        with open(os.path.join(DATASET_PATH, 'train/train_data'), 'rt', encoding='utf-8') as f:
            reviews = f.readlines()
        res = nsml.infer(reviews)
        print(res)
