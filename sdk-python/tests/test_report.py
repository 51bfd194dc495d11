import math
from decimal import Decimal
from fractions import Fraction

import pytest

import nsml
import nsml.testing
from nsml import _report
from nsml._transport import TransportError


class FloatLike:
    """Stands in for a numpy scalar or a one-element tensor."""

    def __init__(self, v):
        self.v = v

    def __float__(self):
        return float(self.v)


class ManyElements:
    def __float__(self):
        raise ValueError("only one element tensors can be converted to Python scalars")


def test_keys_are_renamed_and_time_is_recorded():
    with nsml.testing.capture() as cap:
        nsml.report(step=3, train__loss=0.5, acc=1)
        [r] = cap.reports
    assert r.values == {"train/loss": 0.5, "acc": 1}
    assert r.step == 3 and r.summary is False and r.ts_ms > 1_600_000_000_000


@pytest.mark.parametrize("value, stored", [
    (True, 1),
    (FloatLike(2.5), 2.5),
    (Decimal("1.5"), 1.5),
    (Fraction(1, 4), 0.25),
    (10 ** 30, 10 ** 30),
])
def test_numbers_of_other_types_are_converted(value, stored):
    with nsml.testing.capture() as cap:
        nsml.report(step=0, x=value, y=0.5)
        assert cap.values("x") == [stored]


@pytest.mark.parametrize("value", ["0.5", None, [1, 2], {"a": 1}, b"1", 1j, ManyElements(), object()])
def test_a_value_that_is_not_a_number_raises_naming_the_key(value):
    with nsml.testing.capture() as cap:
        with pytest.raises(TypeError, match="'bad_key'"):
            nsml.report(step=0, ok=1.0, bad_key=value)
        assert cap.reports == []


def test_nan_and_inf_are_kept():
    with nsml.testing.capture() as cap:
        nsml.report(step=0, a=float("nan"), b=float("inf"), c=-float("inf"))
        [r] = cap.reports
    assert math.isnan(r.values["a"]) and r.values["b"] == math.inf and r.values["c"] == -math.inf


@pytest.mark.parametrize("key", ["x" * 257, "a\nb"])
def test_invalid_keys_raise_at_the_call(key):
    with pytest.raises(ValueError, match="metric name"):
        nsml.report(**{key: 1.0})


def test_a_long_but_valid_key_is_kept():
    with nsml.testing.capture() as cap:
        nsml.report(step=0, **{"k" * 256: 1.0})
        assert cap.values("k" * 256) == [1.0]


def test_ten_thousand_distinct_keys_in_one_call_and_across_calls():
    keys = {f"layer{i}__grad_norm": float(i) for i in range(10_000)}
    with nsml.testing.capture() as cap:
        nsml.report(step=0, **keys)
        for i in range(10_000):
            nsml.report(step=1, **{f"k{i}": i})
        reports = cap.reports
    first = {}
    for r in reports:
        if r.step == 0:
            first.update(r.values)
    assert len(first) == 10_000 and first["layer9999/grad_norm"] == 9999.0
    assert sum(1 for r in reports if r.step == 1) == 10_000


def test_step_defaults_to_the_last_step_given_or_the_call_count():
    with nsml.testing.capture() as cap:
        nsml.report(a=1)
        nsml.report(a=2)
        nsml.report(step=10, a=3)
        nsml.report(b=4)
        nsml.report(step=2.0, a=5)
        assert [r.step for r in cap.reports] == [0, 1, 10, 10, 2]


def test_summary_values_are_marked_and_attached_to_checkpoints():
    with nsml.testing.capture() as cap:
        nsml.report(summary=True, step=1, val__acc=0.9)
        nsml.save("s")
        assert cap.reports[0].summary is True
        assert cap.checkpoints["s"].summary == {"val/acc": 0.9}


def test_overflow_drops_are_counted_and_reported(monkeypatch):
    monkeypatch.setattr(_report, "_CAPACITY", 100)
    with nsml.testing.capture() as cap:
        with nsml._RUNTIME.flusher._lock:  # hold the flusher off while the buffer fills
            for i in range(150):
                nsml.report(step=i, a=1.0)
        assert len(cap.reports) == 100
        assert cap.dropped == 50


class Unreachable(nsml._RUNTIME.transport.__class__.__mro__[-2]):  # Transport
    session_name = "x/scratch/1"

    def __init__(self):
        self.calls = 0

    def send_metrics(self, records, dropped):
        self.calls += 1
        raise TransportError("agent gone")

    def send_message(self, message):
        raise TransportError("agent gone")


def test_report_never_raises_a_transport_error_and_keeps_the_data():
    t = Unreachable()
    old = nsml._RUNTIME.swap_transport(t)
    try:
        for i in range(10):
            nsml.report(step=i, a=1.0)
        assert nsml._RUNTIME.flush() is False
        assert t.calls >= 1
        assert len(nsml._RUNTIME.flusher.pending_records()) == 10
    finally:
        with nsml.testing.capture() as cap:
            pass
        nsml._RUNTIME.swap_transport(old)
    # the kept records were delivered to whichever transport came next
    assert len(cap._t.records) >= 10


def test_scope_is_remembered_for_get():
    with nsml.testing.capture() as cap:
        loss_now = 0.25
        nsml.report(step=0, a=1.0, scope=locals())
        ident = cap.command("get", name="loss_now")
        nsml.poll()
        assert cap.result(ident)["value"] == 0.25
