import os
import pickle

import pytest

import nsml
import nsml.testing
from conftest import torch_module
from nsml import _save_path

TORCH = torch_module()


def write_file(path, **kwargs):  # 2018 scripts: pickle.dump to exactly the path
    with open(path, "wb") as f:
        pickle.dump({"w": 1, **kwargs}, f)


def read_file(path, **kwargs):
    with open(path, "rb") as f:
        return pickle.load(f)


def write_dir(dir_name):  # 2019+ scripts: the directory is not created by the script
    with open(os.path.join(dir_name, "model.pt"), "w") as f:
        f.write("weights")


def read_dir(dir_name):
    with open(os.path.join(dir_name, "model.pt")) as f:
        return f.read()


def keras_like(dir_name):  # model.save(dir): creates the directory itself, without exist_ok
    os.makedirs(dir_name)
    for part in ("saved_model.pb", "variables.index"):
        with open(os.path.join(dir_name, part), "w") as f:
            f.write(part)


def torch_file_save(filename, *args):  # NAVER's 2018 baselines: torch.save(checkpoint, filename)
    TORCH.save({"model": {"w": [1.0, 2.0]}}, filename)


def torch_file_load(filename, *args):
    return TORCH.load(filename)


def torch_dir_save(dir_name, **kwargs):  # 2019+: torch.save(state, os.path.join(dir_name, 'model.pt'))
    TORCH.save({"model": {"w": [3.0]}}, os.path.join(dir_name, "model.pt"))


def torch_dir_load(dir_name, **kwargs):
    return TORCH.load(os.path.join(dir_name, "model.pt"))


SHAPES = [
    (write_file, read_file, {"w": 1}, ["model"]),
    (write_dir, read_dir, "weights", ["model/model.pt"]),
    (keras_like, lambda d: sorted(os.listdir(d)), ["saved_model.pb", "variables.index"],
     ["model/saved_model.pb", "model/variables.index"]),
    (torch_file_save, torch_file_load, {"model": {"w": [1.0, 2.0]}}, ["model"]),
    (torch_dir_save, torch_dir_load, {"model": {"w": [3.0]}}, ["model/model.pt"]),
]


@pytest.mark.parametrize("save_fn, load_fn, expected, files", SHAPES)
def test_every_nsml_shape_saves_and_loads_back_the_same_shape(save_fn, load_fn, expected, files):
    with nsml.testing.capture() as cap:
        nsml.bind(save=save_fn, load=load_fn)
        nsml.save(1)
        nsml.save(2)  # the learned shape is used directly the second time
        assert cap.checkpoints["1"].files == files
        assert cap.checkpoints["2"].files == files
        assert nsml.load(1) == expected


def test_numpy_save_writes_a_sibling_and_load_hands_back_the_same_path():
    np = pytest.importorskip("numpy")
    with nsml.testing.capture() as cap:
        nsml.bind(save=lambda path: np.save(path, np.arange(4)), load=lambda path: np.load(path + ".npy").tolist())
        nsml.save("n")
        assert cap.checkpoints["n"].files == ["model.npy"]
        assert nsml.load("n") == [0, 1, 2, 3]


def test_a_file_style_save_is_called_once_and_a_directory_style_save_is_retried_once():
    calls = []

    def file_style(path):
        calls.append(("file", os.path.isdir(path)))
        TORCH.save({}, path)

    def dir_style(path):
        calls.append(("dir", os.path.isdir(path)))
        TORCH.save({}, os.path.join(path, "m.pt"))

    with nsml.testing.capture():
        for name in ("a", "b"):
            nsml.save(name, save_fn=file_style)
            nsml.save(name, save_fn=dir_style)
    assert calls == [("file", False), ("dir", False), ("dir", True), ("file", False), ("dir", True)]
    assert _save_path._LEARNED[file_style.__code__] == _save_path.AS_ABSENT
    assert _save_path._LEARNED[dir_style.__code__] == _save_path.AS_DIRECTORY


def test_bind_keyword_arguments_reach_the_callbacks_and_the_latest_bind_wins():
    seen = {}
    with nsml.testing.capture():
        nsml.bind(save=lambda p, **kw: seen.setdefault("first", kw))
        nsml.bind(save=lambda p, **kw: (seen.setdefault("second", kw), write_file(p)), model="m", opt="o")
        nsml.save("x")
    assert seen == {"second": {"model": "m", "opt": "o"}}


def test_iteration_is_accepted_for_checkpoint_and_names_are_strings():
    with nsml.testing.capture() as cap:
        nsml.bind(save=write_file, load=read_file)
        nsml.save(iteration=5)
        nsml.save(7)
        assert nsml.load(iteration="5") == {"w": 1}
        assert sorted(cap.checkpoints) == ["5", "7"]
        with pytest.raises(TypeError):
            nsml.save(1, iteration=2)


def test_none_names_a_checkpoint_by_the_time():
    with nsml.testing.capture() as cap:
        nsml.save()
        [name] = cap.checkpoints
    assert len(name) == 15 and name[8] == "-"


@pytest.mark.parametrize("name", ["a/b", "..", "", "x" * 201, "a\nb"])
def test_invalid_checkpoint_names_are_refused(name):
    with pytest.raises(nsml.NsmlError, match="invalid checkpoint name"):
        nsml.save(name)


def test_the_same_name_overwrites():
    with nsml.testing.capture() as cap:
        nsml.bind(save=lambda p: open(p, "w").write("one"), load=lambda p: open(p).read())
        nsml.save("best")
        nsml.bind(save=lambda p: open(p, "w").write("two"), load=lambda p: open(p).read())
        nsml.save("best")
        assert nsml.load("best") == "two"
        assert list(cap.checkpoints) == ["best"]


def test_save_with_nothing_bound_registers_an_empty_checkpoint():
    with nsml.testing.capture() as cap:
        nsml.save("bare")
        assert cap.checkpoints["bare"].files == []
        path = nsml.load("bare")
    assert path.endswith("model")


def test_a_callback_that_raises_registers_nothing_and_the_script_sees_it():
    def broken(path):
        with open(os.path.join(path, "half"), "w") as f:
            f.write("x")
        raise RuntimeError("disk on fire")

    with nsml.testing.capture() as cap:
        nsml.bind(save=broken)
        with pytest.raises(RuntimeError, match="disk on fire"):
            nsml.save("x")
        assert cap.checkpoints == {}


def test_an_error_that_leaves_nothing_is_retried_once_and_the_callbacks_own_error_reaches_the_script():
    calls = []

    def failing(path):
        calls.append(os.path.isdir(path))
        raise KeyError("missing weight")

    with nsml.testing.capture() as cap:
        with pytest.raises(KeyError, match="missing weight"):
            nsml.save("x", save_fn=failing)
        assert cap.checkpoints == {}
    assert calls == [False, True]


def test_a_directory_style_callback_that_fails_shows_its_own_error_not_the_missing_directory():
    def dir_style_broken(path):
        if not os.path.isdir(path):
            open(os.path.join(path, "m.pt"), "wb").close()  # FileNotFoundError naming model/m.pt
        raise ValueError("state_dict has NaN")

    with nsml.testing.capture():
        with pytest.raises(ValueError, match="NaN"):
            nsml.save("x", save_fn=dir_style_broken)


def test_loading_a_missing_checkpoint_lists_those_that_exist():
    with nsml.testing.capture():
        nsml.save("1")
        nsml.save("2")
        with pytest.raises(nsml.CheckpointNotFoundError) as info:
            nsml.load("3")
    assert info.value.existing == ["1", "2"]
    assert "existing: 1, 2" in str(info.value)
    assert isinstance(info.value, LookupError) and info.value.code == "NSML_E_NOT_FOUND"


def test_infer_calls_the_bound_infer_with_the_bind_kwargs():
    nsml.bind(infer=lambda data, scale: [x * scale for x in data], scale=2)
    assert nsml.infer([1, 2]) == [2, 4]
    nsml.bind()
    with pytest.raises(nsml.NsmlError, match="nothing is bound"):
        nsml.infer([1])


def test_paused_loads_the_iteration_when_relaunched_with_pause(monkeypatch):
    loaded = []
    with nsml.testing.capture():
        nsml.bind(save=write_file, load=lambda p: loaded.append(read_file(p)))
        nsml.save("7")
        monkeypatch.setattr("sys.argv", ["main.py", "--mode", "train", "--pause", "1", "--iteration=7"])
        nsml.paused(scope={"model": 1})
        monkeypatch.setattr("sys.argv", ["main.py"])
        nsml.paused(scope={"model": 2})
    assert loaded == [{"w": 1}]


def test_paused_without_iteration_says_what_is_missing(monkeypatch):
    monkeypatch.setattr("sys.argv", ["main.py", "--pause", "1"])
    with pytest.raises(nsml.NsmlError, match="--iteration"):
        nsml.paused()


def test_a_requeued_session_resumes_from_the_checkpoint_the_platform_names(monkeypatch):
    import dataclasses

    from nsml._runtime import RUNTIME

    loaded = []
    with nsml.testing.capture():
        nsml.bind(save=write_file, load=lambda p: loaded.append(read_file(p)))
        nsml.save("5")
        monkeypatch.setattr("sys.argv", ["main.py"])
        monkeypatch.setattr(RUNTIME, "env", dataclasses.replace(RUNTIME.env, resume_checkpoint="5"))
        nsml.paused(scope={"model": 1})
        nsml.load()
    assert loaded == [{"w": 1}, {"w": 1}]
