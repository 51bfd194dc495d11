"""NAVER's 2018 baseline pattern (movie-review main.py) runs offline unchanged: file-style
torch.save/torch.load (torch 2.x's behaviour, imitated by tests/fakes/torch, or the real torch
with NSML_TEST_REAL_TORCH=1), reserved --mode/--pause/--iteration, paused(scope=locals()) under
``if config.pause``, report(summary=True, scope=locals(), ...), save(epoch) and test_local → infer."""

import json
import zipfile

from conftest import fake_torch_env, run_script

MAIN = """
import argparse
import os

import torch

import nsml
from nsml import DATASET_PATH, HAS_DATASET, GPU_NUM, IS_ON_NSML


class Regression:
    def __init__(self):
        self.w = [0.0]

    def state_dict(self):
        return {"w": list(self.w)}

    def load_state_dict(self, state):
        self.w = list(state["w"])

    def __call__(self, data):
        return [len(x) * self.w[0] for x in data]


def bind_model(model, config):
    def save(filename, *args):
        checkpoint = {
            'model': model.state_dict()
        }
        torch.save(checkpoint, filename)

    def load(filename, *args):
        checkpoint = torch.load(filename)
        model.load_state_dict(checkpoint['model'])
        print('Model loaded')

    def infer(raw_data, **kwargs):
        point = model(raw_data)
        return list(zip([0.0] * len(point), point))

    nsml.bind(save=save, load=load, infer=infer)


if __name__ == '__main__':
    args = argparse.ArgumentParser()
    args.add_argument('--mode', type=str, default='train')
    args.add_argument('--pause', type=int, default=0)
    args.add_argument('--iteration', type=str, default='0')
    args.add_argument('--epochs', type=int, default=3)
    config = args.parse_args()

    if not HAS_DATASET and not IS_ON_NSML:
        DATASET_PATH = './sample_data/movie_review/'

    model = Regression()
    bind_model(model, config)

    if config.pause:
        nsml.paused(scope=locals())

    if config.mode == 'train':
        for epoch in range(config.epochs):
            model.w[0] += 1.0
            avg_loss = 1.0 / (epoch + 1)
            nsml.report(summary=True, scope=locals(), epoch=epoch, epoch_total=config.epochs,
                        train__loss=float(avg_loss), step=epoch)
            nsml.save(epoch)
    elif config.mode == 'test_local':
        with open(os.path.join(DATASET_PATH, 'train/train_data'), 'rt', encoding='utf-8') as f:
            reviews = f.readlines()
        res = nsml.infer(reviews)
        print(res)
"""


def test_the_2018_baseline_pattern_trains_saves_resumes_and_infers_offline(tmp_path):
    data = tmp_path / "sample_data" / "movie_review" / "train"
    data.mkdir(parents=True)
    (data / "train_data").write_text("good\nbad movie\n")
    env = fake_torch_env({"NSML_USER": "alice"})

    train = run_script(MAIN, tmp_path, env=env)
    assert train.returncode == 0, train.stderr
    [session] = list((tmp_path / ".nsml" / "sessions" / "alice" / "scratch").iterdir())
    checkpoints = session / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["0", "1", "2"]
    payload = checkpoints / "2" / "data" / "model"
    assert payload.is_file() and zipfile.is_zipfile(payload)  # the file torch.save wrote, at the path
    records = [json.loads(line) for line in (session / "metrics.jsonl").read_text().splitlines()]
    summaries = [(r["step"], r["values"]) for r in records if r.get("summary")]
    assert summaries[-1] == (2, {"epoch": 2, "epoch_total": 3, "train/loss": 1 / 3})

    local = run_script(MAIN, tmp_path, args=["--mode", "test_local", "--pause", "1", "--iteration", "2"], env=env)
    assert local.returncode == 0, local.stderr
    assert f"loading it from local session alice/scratch/{session.name}" in local.stderr
    assert local.stdout.splitlines() == ["Model loaded", "[(0.0, 15.0), (0.0, 30.0)]"]  # w = 3.0 after 3 epochs

    missing = run_script(MAIN, tmp_path, args=["--pause", "1", "--iteration", "9"], env=env)
    assert missing.returncode != 0
    assert "CheckpointNotFoundError" in missing.stderr and "existing: none" in missing.stderr
