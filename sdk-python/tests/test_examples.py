"""The examples are real training scripts: they must run offline with plain ``python3 main.py``."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import script_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tiny-digits" / "main.py"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/ is not in this checkout")
def test_tiny_digits_learns_saves_and_resumes(tmp_path):
    env = script_env({"NSML_SESSION": "alice/tiny-digits/1"})
    run = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "3"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    session = tmp_path / ".nsml" / "sessions" / "alice" / "tiny-digits" / "1"
    lines = [json.loads(line) for line in (session / "metrics.jsonl").read_text().splitlines()]
    losses = [r["values"]["train/loss"] for r in lines if "train/loss" in r.get("values", {})]
    epochs = [r["values"] for r in lines if r.get("summary")]
    assert len(epochs) == 3
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 * 0.5  # the loss falls
    assert epochs[-1]["val/acc"] > 0.5  # ten classes: chance is 0.1
    assert sorted(p.name for p in (session / "checkpoints").iterdir()) == ["0", "1", "2", "best"]
    assert (session / "checkpoints" / "best" / "data" / "model" / "model.json").exists()
    resumed = subprocess.run([sys.executable, str(EXAMPLE), "--epochs", "0", "--pause", "1", "--iteration", "best"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "loaded the model from" in resumed.stdout
