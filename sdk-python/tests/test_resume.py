"""A session the platform requeued after a preemption resumes at its first ``bind(load=...)``."""

import dataclasses
import json

import pytest

import nsml
import nsml.testing
from nsml._runtime import RUNTIME

from conftest import run_script


def write_epoch(epoch):
    def save(path):
        with open(path, "w") as f:
            json.dump({"epoch": epoch}, f)
    return save


def read_epoch(into):
    def load(path):
        with open(path) as f:
            into.append(json.load(f)["epoch"])
    return load


@pytest.fixture
def requeued(monkeypatch):
    """Makes this process look like a requeued run that resumes from checkpoint ``4``."""
    def start(checkpoint="4"):
        monkeypatch.setattr("sys.argv", ["main.py"])
        monkeypatch.setattr(RUNTIME, "env", dataclasses.replace(RUNTIME.env, resume_checkpoint=checkpoint,
                                                                resume_from=RUNTIME.session_name))
    return start


def test_the_first_bind_with_load_resumes_once_and_says_so(requeued, capsys):
    loaded = []
    with nsml.testing.capture():
        nsml.save("4", save_fn=write_epoch(4))
        requeued()
        nsml.bind(save=write_epoch(0))  # no load callback: nothing to resume with yet
        assert loaded == []
        nsml.bind(save=write_epoch(0), load=read_epoch(loaded))
        assert loaded == [4]
        nsml.bind(save=write_epoch(0), load=read_epoch(loaded))  # rebinding does not load again
        nsml.paused(scope={"model": 1})  # nor does a script that also calls paused()
        assert loaded == [4]
    assert f"nsml: resumed from 4 of {RUNTIME.session_name}" in capsys.readouterr().err


def test_paused_before_any_bind_resumes_and_a_later_bind_does_not(requeued):
    loaded = []
    with nsml.testing.capture():
        nsml.save("4", save_fn=write_epoch(4))
        requeued()
        nsml.paused(scope=None)  # nothing bound yet: loads with no callback (the path)
        nsml.bind(load=read_epoch(loaded))
    assert loaded == []


def test_a_failing_load_reaches_the_script_and_is_not_tried_again(requeued):
    def broken(path):
        raise ValueError("shape mismatch")

    with nsml.testing.capture():
        nsml.save("4", save_fn=write_epoch(4))
        requeued()
        with pytest.raises(ValueError, match="shape mismatch"):
            nsml.bind(load=broken)
        nsml.bind(load=broken)
        nsml.paused()


def test_a_first_run_binds_without_loading(monkeypatch):
    loaded = []
    monkeypatch.setattr(RUNTIME, "env", dataclasses.replace(RUNTIME.env, resume_checkpoint=None, resume_from=None))
    with nsml.testing.capture():
        nsml.bind(load=read_epoch(loaded))
    assert loaded == []


NAVER_STYLE = """
import argparse, json, sys
import nsml

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--pause", type=int, default=0)
parser.add_argument("--also-paused", action="store_true")
args = parser.parse_args()
state = {"epoch": 0}

def save(path):
    with open(path, "w") as f:
        json.dump(state, f)

def load(path):
    with open(path) as f:
        state.update(json.load(f))
    print("loaded epoch", state["epoch"], flush=True)

nsml.bind(save=save, load=load)
if args.pause or args.also_paused:
    nsml.paused(scope=locals())
start = state["epoch"]
for epoch in range(start, start + args.epochs):
    state["epoch"] = epoch + 1
    nsml.save(str(state["epoch"]))
print("from", start, "to", state["epoch"], flush=True)
"""


@pytest.mark.parametrize("extra", [[], ["--also-paused"]])
def test_an_unchanged_nsml_script_continues_where_the_preempted_run_saved(tmp_path, extra):
    env = {"NSML_LOCAL_DIR": str(tmp_path / "store"), "NSML_SESSION": "kim/scratch/3"}
    first = run_script(NAVER_STYLE, tmp_path, ["--epochs", "2"], env)
    assert first.returncode == 0, first.stderr
    assert "from 0 to 2" in first.stdout
    resumed = run_script(NAVER_STYLE, tmp_path, extra, {
        **env, "NSML_RESUME_FROM": "kim/scratch/3", "NSML_RESUME_CHECKPOINT": "2",
    })
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("loaded epoch 2") == 1
    assert "from 2 to 5" in resumed.stdout
    assert "nsml: resumed from 2 of kim/scratch/3" in resumed.stderr
