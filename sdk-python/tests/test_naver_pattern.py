"""NAVER's 2018 baseline pattern runs offline unchanged. The script is the repository's
movie-review-shaped workspace (test/fixtures/movie-review-like, also run on a local cluster by
test/e2e/movie-review.test.ts): file-style torch.save/torch.load (torch 2.x's behaviour,
imitated by tests/fakes/torch, or the real torch with NSML_TEST_REAL_TORCH=1), reserved
--mode/--pause/--iteration, paused(scope=locals()) under ``if config.pause``,
report(summary=True, scope=locals(), ...), save(epoch) and test_local → infer."""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import fake_torch_env, script_env

EXAMPLE = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "movie-review-like"


def _workspace(tmp_path: Path) -> Path:
    example = tmp_path / "example"
    shutil.copytree(EXAMPLE, example)
    data = tmp_path / "sample_data" / "movie_review" / "train"  # the script's offline DATASET_PATH: ../sample_data/movie_review/
    data.mkdir(parents=True)
    (data / "train_data").write_text("good movie\nbad movie\ngreat\n")
    (data / "train_label").write_text("9\n2\n10\n")
    return example


def _run(example: Path, *args: str) -> "subprocess.CompletedProcess[str]":
    env = script_env(fake_torch_env({"NSML_USER": "alice"}))
    return subprocess.run([sys.executable, "main.py", *args], cwd=example, env=env, capture_output=True, text=True, timeout=60)


def test_the_2018_baseline_pattern_trains_saves_resumes_and_infers_offline(tmp_path):
    example = _workspace(tmp_path)
    train = _run(example)
    assert train.returncode == 0, train.stderr
    saved = [line.split()[1] for line in train.stdout.splitlines() if line.startswith("saved ")]
    assert len(saved) == 3
    [session] = list((example / ".nsml" / "sessions" / "alice" / "scratch").iterdir())
    checkpoints = session / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["0", "1", "2"]
    payload = checkpoints / "2" / "data" / "model"
    assert payload.is_file() and zipfile.is_zipfile(payload)  # the file torch.save wrote, at the path
    records = [json.loads(line) for line in (session / "metrics.jsonl").read_text().splitlines()]
    summaries = [(r["step"], r["values"]) for r in records if r.get("summary")]
    assert [s for s, _ in summaries] == [0, 1, 2]
    assert set(summaries[-1][1]) == {"epoch", "epoch_total", "train/loss"}
    assert summaries[-1][1]["train/loss"] < summaries[0][1]["train/loss"]

    local = _run(example, "--mode", "test_local", "--pause", "1", "--iteration", "2")
    assert local.returncode == 0, local.stderr
    assert f"loading it from local session alice/scratch/{session.name}" in local.stderr
    lines = local.stdout.splitlines()
    assert lines[0] == f"Model loaded {saved[2]}"
    assert lines[1].startswith("[(0.0, ") and lines[1].count("(0.0, ") == 3

    missing = _run(example, "--pause", "1", "--iteration", "9")
    assert missing.returncode != 0
    assert "CheckpointNotFoundError" in missing.stderr and "existing: none" in missing.stderr
