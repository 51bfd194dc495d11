"""nsml.Visdom: plots become metrics; unknown or unreadable calls never raise."""

import pytest

import nsml
import nsml.testing
from nsml import _warn


class Tensorish:
    """What torch tensors and numpy arrays offer the stand-in: ``tolist()``."""

    def __init__(self, data):
        self.data = data

    def tolist(self):
        return self.data


@pytest.fixture
def viz():
    import types

    _warn.reset_warnings()
    return nsml.Visdom(visdom=types.ModuleType("visdom"))


def test_line_points_are_metrics_under_the_title_at_step_x(viz):
    with nsml.testing.capture() as cap:
        viz.line(Y=[0.9], X=[1], win="loss", opts=dict(title="train loss"), update="append")
        viz.line(Y=Tensorish([0.7]), X=Tensorish([2]), win="loss", opts=dict(title="train loss"), update="append")
        viz.line(Y=[[0.5, 0.6], [0.4, 0.5]], X=[[3, 3], [4, 4]], win="acc")
        viz.line(Y=[0.1], X=[5], win="lr", name="group0")
        assert [(r.step, r.values) for r in cap.reports_of("train_loss")] == [(1, {"train_loss": 0.9}), (2, {"train_loss": 0.7})]
        assert [(r.step, r.values) for r in cap.reports_of("acc/0")] == [(3, {"acc/0": 0.5, "acc/1": 0.6}),
                                                                         (4, {"acc/0": 0.4, "acc/1": 0.5})]
        assert cap.values("lr/group0") == [0.1]


def test_scatter_points_are_y_at_step_x(viz):
    with nsml.testing.capture() as cap:
        viz.scatter(X=[[1, 0.25], [2, 0.5]], opts={"title": "margin"})
        assert [(r.step, r.values["margin"]) for r in cap.reports_of("margin")] == [(1, 0.25), (2, 0.5)]


def test_numpy_arrays_are_read(viz):
    np = pytest.importorskip("numpy")
    with nsml.testing.capture() as cap:
        viz.line(Y=np.array([0.5, 0.25]), X=np.array([1, 2]), opts={"title": "np"})
        assert [(r.step, r.values["np"]) for r in cap.reports_of("np")] == [(1, 0.5), (2, 0.25)]


def test_images_text_and_other_plots_are_counted_per_title(viz):
    with nsml.testing.capture() as cap:
        nsml.report(step=7, loss=1.0)
        viz.images(Tensorish([[[0.0]]]), opts=dict(title="Original_1"))
        viz.images(Tensorish([[[0.0]]]), opts=dict(title="Original_1"))
        viz.text("epoch 1 done", win="log")
        viz.histogram(X=[1, 2, 3], opts={"title": "weights"})
        viz.heatmap(X=[[1, 2], [3, 4]])
        assert cap.values("visdom/images/Original_1") == [1, 2]
        assert cap.values("visdom/text/log") == [1]
        assert cap.values("visdom/histogram/weights") == [1] and cap.values("visdom/heatmap/heatmap") == [1]
        assert cap.reports_of("visdom/text/log")[0].step == 7


def test_unknown_calls_and_unreadable_values_warn_once_and_never_raise(viz, capsys):
    with nsml.testing.capture() as cap:
        assert viz.check_connection() is True
        assert viz.properties([{"type": "number"}], win="p") is None
        assert viz.properties([], win="p") is None
        viz.line(Y=["not a number"], X=[1], win="bad")
        viz.line(Y=[object()], X=[2], win="bad")
        viz.close(win="loss")
        assert cap.reports == []
    err = capsys.readouterr().err
    assert err.count("nsml.Visdom.properties: not recorded") == 1
    assert err.count("nsml.Visdom.line: could not record") == 1
    assert "close" not in err
