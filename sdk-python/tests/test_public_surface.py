import inspect
from pathlib import Path

import nsml
import nsml.constants
import nsml.testing

EXPECTED = {
    "IS_ON_NSML", "DATASET_PATH", "DATASET_NAME", "HAS_DATASET", "GPU_NUM", "SESSION_NAME", "NSML_NFS_OUTPUT",
    "bind", "save", "load", "infer", "paused", "report",
    "hparams", "on_change", "command", "poll", "cache", "Visdom",
    "NsmlError", "CheckpointNotFoundError", "AgentUnavailableError",
    "constants", "__version__", "PROTOCOL_VERSION",
}


def test_the_public_surface_is_pinned():
    assert set(nsml.__all__) == EXPECTED
    for name in nsml.__all__:
        assert hasattr(nsml, name), name


def test_constants_are_importable_from_both_places():
    for name in nsml.constants.__all__:
        assert getattr(nsml, name) == getattr(nsml.constants, name)
    assert nsml.IS_ON_NSML is False
    assert nsml.HAS_DATASET is False and nsml.DATASET_PATH is None
    assert nsml.SESSION_NAME.count("/") == 2


def test_every_public_callable_has_a_docstring_and_hints():
    for name in ["bind", "save", "load", "infer", "paused", "report", "command", "poll", "on_change", "cache", "Visdom"]:
        fn = getattr(nsml, name)
        assert inspect.getdoc(fn), name
    for name in ["capture"]:
        assert inspect.getdoc(getattr(nsml.testing, name))


def test_the_package_is_typed():
    assert (Path(nsml.__file__).parent / "py.typed").exists()


def test_nsml_signatures_match_nsml():
    assert list(inspect.signature(nsml.bind).parameters)[:3] == ["save", "load", "infer"]
    assert list(inspect.signature(nsml.save).parameters)[:2] == ["checkpoint", "save_fn"]
    assert list(inspect.signature(nsml.load).parameters)[:3] == ["checkpoint", "load_fn", "session"]
    assert list(inspect.signature(nsml.report).parameters)[:3] == ["summary", "scope", "step"]
    assert list(inspect.signature(nsml.paused).parameters) == ["scope"]
    assert list(inspect.signature(nsml.cache).parameters)[:2] == ["preprocess_fn", "output_path"]
    assert list(inspect.signature(nsml.Visdom).parameters)[:1] == ["visdom"]


def test_an_unknown_attribute_is_an_attribute_error():
    assert not hasattr(nsml, "no_such_thing")
