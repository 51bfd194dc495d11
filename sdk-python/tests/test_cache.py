"""nsml.cache: once per dataset version, function and plain arguments on a node; real files,
real child processes for concurrent ranks."""

import dataclasses
import os
import pickle
import subprocess
import sys

import pytest

import nsml
from conftest import script_env
from nsml._runtime import RUNTIME


@pytest.fixture
def node(tmp_path, monkeypatch):
    """A node cache directory and a dataset pinned at version 1; the script's cwd is a temp dir."""
    cache_dir = tmp_path / "node-cache"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    env = dataclasses.replace(RUNTIME.env, cache_dir=str(cache_dir), dataset_name="movie", dataset_version="1")
    monkeypatch.setattr(RUNTIME, "env", env)
    return cache_dir


RUNS = []


def train_data_loader(data_path, img_size, output_path):  # the shape NAVER's scripts use
    RUNS.append((data_path, tuple(img_size)))
    with open(output_path[0], "wb") as f:
        pickle.dump([data_path] * 3, f)
    with open(output_path[1], "wb") as f:
        pickle.dump(list(img_size), f)


def read(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def test_the_preprocessing_runs_once_and_later_calls_get_copies_of_its_outputs(node):
    RUNS.clear()
    outputs = ["./img_list.pkl", "./label_list.pkl"]
    for _ in range(2):
        nsml.cache(train_data_loader, data_path="/data/train", img_size=(224, 224), output_path=outputs)
        assert read(outputs[0]) == ["/data/train"] * 3 and read(outputs[1]) == [224, 224]
        os.remove(outputs[0])
        os.remove(outputs[1])
    assert RUNS == [("/data/train", (224, 224))]
    [entry] = [p for p in node.iterdir() if p.is_dir()]
    assert sorted(p.name for p in entry.iterdir()) == ["0", "1", "entry.json"]


@pytest.mark.parametrize("change", ["version", "argument", "dataset"])
def test_another_dataset_version_dataset_or_plain_argument_runs_it_again(node, monkeypatch, change):
    RUNS.clear()
    outputs = ["./a.pkl", "./b.pkl"]
    nsml.cache(train_data_loader, data_path="/d", img_size=(8, 8), output_path=outputs)
    size = (8, 8)
    if change == "version":
        monkeypatch.setattr(RUNTIME, "env", dataclasses.replace(RUNTIME.env, dataset_version="2"))
    elif change == "dataset":
        monkeypatch.setattr(RUNTIME, "env", dataclasses.replace(RUNTIME.env, dataset_name="other"))
    else:
        size = (16, 16)
    nsml.cache(train_data_loader, data_path="/d", img_size=size, output_path=outputs)
    assert len(RUNS) == 2


def test_an_object_argument_counts_by_its_type_and_another_function_is_another_entry(node):
    calls = []

    class Loader:
        pass

    def first(output_path, data):
        calls.append("first")
        with open(output_path[0], "w") as f:
            f.write("1")

    def second(output_path, data):
        calls.append("second")
        with open(output_path[0], "w") as f:
            f.write("2")

    nsml.cache(first, output_path=["./p"], data=Loader())
    nsml.cache(first, output_path=["./p"], data=Loader())  # a new object of the same type: a hit
    nsml.cache(second, output_path=["./p"], data=Loader())
    assert calls == ["first", "second"]
    assert open("./p").read() == "2"


def test_the_default_output_path_and_directory_outputs(node):
    def to_dir(output_path):
        os.makedirs(output_path[0])
        with open(os.path.join(output_path[0], "part-0"), "w") as f:
            f.write("rows")

    assert nsml.cache(to_dir) == ["./processed"]
    os.rename("./processed", "./moved")
    nsml.cache(to_dir)
    assert open("./processed/part-0").read() == "rows"


def test_a_function_that_fails_or_writes_nothing_caches_nothing(node):
    def broken(output_path):
        raise MemoryError("too big")

    def lazy(output_path):
        return None

    with pytest.raises(MemoryError):
        nsml.cache(broken, output_path=["./x"])
    with pytest.raises(nsml.NsmlError) as info:
        nsml.cache(lazy, output_path=["./x"])
    assert info.value.code == "NSML_E_INVALID_ARGUMENT" and "output_path[0] './x'" in info.value.message
    assert [p for p in node.iterdir() if p.is_dir()] == []


@pytest.mark.parametrize("fn, output_path", [(None, None), ("not callable", None), (len, []), (len, [3])])
def test_bad_arguments_are_refused(node, fn, output_path):
    with pytest.raises(nsml.NsmlError) as info:
        nsml.cache(fn, output_path=output_path)
    assert info.value.code == "NSML_E_INVALID_ARGUMENT"


RANK = """
import os, sys, time, nsml
def preprocess(output_path, data_path):
    with open(os.environ["RUNS_LOG"], "a") as log:
        log.write(os.environ["NSML_RANK"] + "\\n")
    time.sleep(0.3)  # widens the window in which other ranks arrive; the lock decides, not the time
    with open(output_path[0], "w") as f:
        f.write("features of " + data_path)
print("waiting", flush=True)
sys.stdin.readline()
nsml.cache(preprocess, output_path=["./features.txt"], data_path="/data")
print(open("./features.txt").read())
"""


def test_concurrent_ranks_of_one_node_run_it_once(tmp_path):
    (tmp_path / "rank.py").write_text(RANK)
    procs = []
    for rank in range(4):
        cwd = tmp_path / f"rank{rank}"
        cwd.mkdir()
        env = script_env({"NSML_CACHE_DIR": str(tmp_path / "cache"), "NSML_DATASET_NAME": "movie",
                          "NSML_DATASET_VERSION": "3", "NSML_RANK": str(rank), "RUNS_LOG": str(tmp_path / "runs"),
                          "NSML_LOCAL_DIR": str(cwd / ".nsml")})
        procs.append(subprocess.Popen([sys.executable, str(tmp_path / "rank.py")], cwd=cwd, env=env, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for proc in procs:
        assert proc.stdout.readline().strip() == "waiting"
    for proc in procs:  # all four are past import; release them together
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outs = [proc.communicate(timeout=60) for proc in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _out, err in outs]
    assert [out.strip() for out, _err in outs] == ["features of /data"] * 4
    assert len((tmp_path / "runs").read_text().split()) == 1
