import argparse

import pytest

import nsml
import nsml.testing
from nsml._hparam_types import Refused, convert_like, parse_value


@pytest.mark.parametrize("text, value", [
    ("0.01", 0.01), ("3", 3), ("true", True), ("null", None), ("[1, 2]", [1, 2]),
    ('{"a": 1}', {"a": 1}), ("adam", "adam"), ("1e-3", 0.001), ('"quoted"', "quoted"),
])
def test_set_values_are_json_when_they_parse_else_text(text, value):
    assert parse_value(text) == value


@pytest.mark.parametrize("current, text, value", [
    (0.1, ".5", 0.5), (0.1, "5e-1", 0.5), (0.1, "1", 1.0), (0.1, " 2 ", 2.0), (0.1, "-inf", float("-inf")),
    (0.1, 1, 1.0), (3, "3", 3), (3, "-7", -7), (3, "3.0", 3), (3, "1e3", 1000), (3, 4, 4),
    (True, "false", False), (False, "TRUE", True), (False, "1", True), (True, "0", False),
    (False, "yes", True), (True, "no", False), (True, "off", False),
    ([1], "[1, 2]", [1, 2]), ((1, 2), "[3, 4]", (3, 4)), ({"a": 1}, '{"b": 2}', {"b": 2}),
    ("sgd", "adam", "adam"), ("sgd", "0.5", "0.5"), ("sgd", '"q"', '"q"'),
    (None, "0.5", 0.5), (None, "[1]", [1]), (None, "adam", "adam"), (b"x", "null", None),
])
def test_a_set_value_takes_the_type_of_the_current_value(current, text, value):
    got = convert_like("x", current, text)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("current, text, message", [
    (0.1, "abc", 'lr is a float (current 0.1); "abc" is not a number'),
    (0.1, "true", 'lr is a float (current 0.1); "true" is not a number'),
    (3, "3.5", 'lr is an int (current 3); "3.5" is not a whole number'),
    (3, "three", 'lr is an int (current 3); "three" is not a number'),
    (3, "inf", 'lr is an int (current 3); "inf" is not a whole number'),
    (True, "maybe", 'lr is a bool (current True); "maybe" is not one of true/false, 1/0, yes/no, on/off'),
    ([1], "1,2", 'lr is a list (current [1]); "1,2" is not JSON; write it as JSON, e.g. [1, 2]'),
    ([1], '{"a": 1}', 'lr is a list (current [1]); "{\\"a\\": 1}" is JSON of another kind; write it like [1, 2]'),
    ({"a": 1}, "[1]", 'lr is a dict (current {\'a\': 1}); "[1]" is JSON of another kind; write it like {"a": 1}'),
])
def test_a_value_that_does_not_convert_is_refused_naming_type_current_value_and_text(current, text, message):
    with pytest.raises(Refused) as info:
        convert_like("lr", current, text)
    assert str(info.value) == message


def test_one_bad_value_refuses_the_whole_set_with_no_change_and_no_callback():
    args = argparse.Namespace(lr=0.1, epochs=3, name="a")
    nsml.hparams.update(args)
    seen = []
    nsml.on_change("epochs")(seen.append)
    with nsml.testing.capture() as cap:
        ident = cap.command("set", values={"epochs": "5", "lr": "abc", "name": "b"})
        nsml.report(step=1, a=1.0)
        result = cap.result(ident)
        assert cap.events == []
    assert result["ok"] is False and result["error"]["code"] == "NSML_E_INVALID_ARGUMENT"
    assert result["error"]["message"] == 'lr is a float (current 0.1); "abc" is not a number; nothing was changed'
    assert (args.lr, args.epochs, args.name) == (0.1, 3, "a") and nsml.hparams.epochs == 3 and seen == []
    lr = nsml.hparams.lr
    lr += 0.5  # the script keeps running with numbers
    assert lr == 0.6


def test_set_changes_the_value_runs_callbacks_updates_argparse_and_is_an_event():
    args = argparse.Namespace(lr=0.1, optimizer="sgd")
    nsml.hparams.update(args)
    seen = []
    nsml.on_change("lr")(seen.append)
    with nsml.testing.capture() as cap:
        ident = cap.command("set", values={"lr": "0.01", "optimizer": "adam"})
        nsml.report(step=42, loss=1.0)
        result = cap.result(ident)
        events = cap.events
    assert result == {"type": "result", "id": ident, "ok": True, "step": 42, "value": {"lr": 0.01, "optimizer": "adam"}}
    assert seen == [0.01] and args.lr == 0.01 and nsml.hparams.lr == 0.01
    assert [(e["kind"], e["name"], e["old"], e["value"], e["step"]) for e in events] == [
        ("set", "lr", 0.1, 0.01, 42), ("set", "optimizer", "sgd", "adam", 42)]


def test_an_integer_given_for_a_float_stays_a_float():
    nsml.hparams["lr"] = 0.1
    with nsml.testing.capture() as cap:
        cap.command("set", values={"lr": "1"})
        nsml.poll()
    assert nsml.hparams["lr"] == 1.0 and isinstance(nsml.hparams["lr"], float)


def test_setting_an_unknown_hyperparameter_is_refused_listing_the_known_ones():
    nsml.hparams.update(lr=0.1, batch=32)
    with nsml.testing.capture() as cap:
        ident = cap.command("set", values={"lr": "0.5", "momentum": "0.9"})
        nsml.poll()
        result = cap.result(ident)
        assert cap.events == []
    assert result["ok"] is False
    assert result["error"]["message"] == "unknown hyperparameter 'momentum'; known: batch, lr"
    assert nsml.hparams["lr"] == 0.1


def test_a_callback_that_raises_is_reported():
    nsml.hparams["lr"] = 0.1

    @nsml.on_change("lr")
    def bad(value):
        raise ValueError("lr must stay below 1")

    with nsml.testing.capture() as cap:
        ident = cap.command("set", values={"lr": "2"})
        nsml.poll()
        assert cap.result(ident)["error"] == {"type": "ValueError", "message": "lr must stay below 1"}


def test_get_reads_the_scope_then_hyperparameters_and_explains_misses():
    nsml.hparams["lr"] = 0.3

    class Model:
        depth = 4

    with nsml.testing.capture() as cap:
        model = Model()
        total = {"a": [1, 2]}
        nsml.report(step=1, x=1.0, scope=locals())
        ids = [cap.command("get", name=n) for n in ["total", "model.depth", "total.a", "lr", "nope", "model"]]
        nsml.poll()
        results = [cap.result(i) for i in ids]
    assert [r["value"] for r in results[:4]] == [{"a": [1, 2]}, 4, [1, 2], 0.3]
    assert results[4]["ok"] is False and "no variable 'nope'" in results[4]["error"]["message"]
    assert "model" in results[4]["error"]["message"]
    assert "Model object" in results[5]["value"]


def test_call_passes_json_arguments_and_returns_the_value():
    @nsml.command
    def scale(x, y=1):
        return x * y

    @nsml.command("boom")
    def explode():
        raise ZeroDivisionError("boom")

    with nsml.testing.capture() as cap:
        ids = [
            cap.command("call", name="scale", args=[2, 3]),
            cap.command("call", name="scale", args={"x": 2, "y": 5}),
            cap.command("call", name="scale", args=4),
            cap.command("call", name="boom"),
            cap.command("call", name="nothing"),
        ]
        assert nsml.poll() == 5
        results = [cap.result(i) for i in ids]
    assert [r["value"] for r in results[:3]] == [6, 10, 4]
    trace = results[3]["error"]["traceback"]
    assert results[3]["error"]["type"] == "ZeroDivisionError" and "explode" in trace
    assert "src/nsml/" not in trace and trace.count('File "') == 1  # the user's frame only
    assert trace.startswith("Traceback (most recent call last):") and trace.endswith("ZeroDivisionError: boom\n")
    assert "known: boom, scale" in results[4]["error"]["message"]
    assert "traceback" not in results[4]["error"]  # the package's own refusal: no internals shown


def test_save_and_load_commands_use_the_bound_callbacks():
    loaded = []
    with nsml.testing.capture() as cap:
        nsml.bind(save=lambda p: open(p, "w").write("w"), load=lambda p: loaded.append(open(p).read()))
        save_id = cap.command("save", name="op")
        load_id = cap.command("load", name="op")
        missing_id = cap.command("load", name="none")
        nsml.poll()
        assert "op" in cap.checkpoints
        assert cap.result(save_id)["ok"] and cap.result(load_id)["ok"]
        assert "existing: op" in cap.result(missing_id)["error"]["message"]
        assert [e["kind"] for e in cap.events] == ["save", "load"]
    assert loaded == ["w"]


def test_stop_answers_then_exits():
    with nsml.testing.capture() as cap:
        ident = cap.command("stop")
        with pytest.raises(SystemExit) as info:
            nsml.report(step=9, a=1.0)
        assert info.value.code == 0
        assert cap.result(ident)["value"] == {"stopping": True}
        assert cap.events[-1]["kind"] == "stop"


def test_an_unknown_command_is_answered_with_an_error():
    with nsml.testing.capture() as cap:
        ident = cap.command("format-disk")
        nsml.poll()
        assert "unknown command 'format-disk'" in cap.result(ident)["error"]["message"]


def test_commands_apply_only_at_report_or_poll():
    nsml.hparams["lr"] = 0.1
    with nsml.testing.capture() as cap:
        ident = cap.command("set", values={"lr": "0.2"})
        assert nsml.hparams["lr"] == 0.1 and cap.result(ident) is None
        nsml.report(step=1, a=1.0)
        assert nsml.hparams["lr"] == 0.2


def test_a_set_with_at_step_waits_for_that_step_and_holds_later_commands():
    nsml.hparams["lr"] = 0.1
    with nsml.testing.capture() as cap:
        first = cap.command("set", values={"lr": "0.2"}, at_step=5)
        second = cap.command("get", name="lr")
        nsml.report(step=3, a=1.0)
        assert nsml.hparams["lr"] == 0.1 and cap.result(first) is None and cap.result(second) is None
        nsml.report(step=5, a=1.0)
        assert cap.result(first)["step"] == 5 and cap.result(first)["ok"] is True
        assert cap.result(second)["value"] == 0.2


def test_a_call_traceback_keeps_user_frames_around_an_nsml_call_and_chained_errors():
    def inner():
        raise KeyError("weights")

    @nsml.command
    def evaluate():
        try:
            inner()
        except KeyError as err:
            raise RuntimeError("evaluation failed") from err

    @nsml.command
    def checkpoint_now():
        nsml.load("missing")  # raises inside the package; only this line is the user's

    with nsml.testing.capture() as cap:
        first = cap.command("call", name="evaluate")
        second = cap.command("call", name="checkpoint_now")
        nsml.poll()
        chained = cap.result(first)["error"]["traceback"]
        through = cap.result(second)["error"]
    assert "in inner" in chained and "in evaluate" in chained and "direct cause" in chained
    assert "src/nsml/" not in chained
    assert through["code"] == "NSML_E_NOT_FOUND" and "traceback" not in through
