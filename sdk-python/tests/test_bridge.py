"""The script's side of the bridge against a fake agent speaking proto/sdk-bridge.md."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from conftest import script_env


class FakeAgent:
    """Accepts connections, records every message, answers requests like the real agent."""

    def __init__(self, path, loads=None, commands=None):
        self.path = path
        self.messages = []
        self.loads = loads or {}
        self.commands = list(commands or [])  # sent once, right after the first welcome
        self.garbage_first = False
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(path)
        self._server.listen(8)
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        f = conn.makefile("rb")
        with conn:
            for line in f:
                msg = json.loads(line)
                self.messages.append(msg)
                if msg["type"] == "hello":
                    if self.garbage_first:
                        self.garbage_first = False
                        conn.sendall(b"this is not json\n")
                        return
                    self._send(conn, {"type": "welcome", "v": 1, "session": "alice/mnist/3", "max_line_bytes": 4194304})
                    for command in self.commands:
                        self._send(conn, {"type": "command", **command})
                    self.commands = []
                elif msg["type"] == "save":
                    ok = not msg["name"].startswith("fail")
                    error = {"code": "NSML_E_TOO_LARGE", "message": "checkpoint over quota"}
                    self._send(conn, {"type": "reply", "id": msg["id"], "ok": ok, "result": {"files": 1}, "error": error})
                elif msg["type"] == "load":
                    if msg["name"] in self.loads:
                        self._send(conn, {"type": "reply", "id": msg["id"], "ok": True, "result": {"dir": self.loads[msg["name"]]}})
                    else:
                        error = {"code": "NSML_E_NOT_FOUND", "message": "checkpoint missing; existing: a, b",
                                 "details": {"existing": ["a", "b"], "session": "alice/mnist/3"}}
                        self._send(conn, {"type": "reply", "id": msg["id"], "ok": False, "error": error})
                elif msg["type"] == "bye":
                    self._send(conn, {"type": "reply", "id": msg["id"], "ok": True, "result": {}})

    @staticmethod
    def _send(conn, message):
        conn.sendall(json.dumps(message).encode() + b"\n")

    def of(self, kind):
        return [m for m in self.messages if m["type"] == kind]

    def records(self):
        return [r for m in self.of("metrics") for r in m["records"]]

    def close(self):
        self._stop.set()
        self._thread.join()
        self._server.close()


@pytest.fixture
def sock_path(tmp_path):
    path = f"/tmp/nsml-test-{os.getpid()}-{time.monotonic_ns()}.sock"
    yield path
    if os.path.exists(path):
        os.unlink(path)


def online_env(path, tmp_path):
    return script_env({"NSML_AGENT_SOCKET": path, "NSML_SESSION": "alice/mnist/3", "NSML_RANK": "2",
                       "NSML_CHECKPOINT_DIR": str(tmp_path / "ckpt"), "NSML_DATASET_PATH": "/data/mnist",
                       "NSML_DATASET_NAME": "mnist", "NSML_GPU_NUM": "2"})


def run(code, tmp_path, env, timeout=60):
    (tmp_path / "s.py").write_text(code)
    return subprocess.run([sys.executable, str(tmp_path / "s.py")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_hello_metrics_and_bye(sock_path, tmp_path):
    agent = FakeAgent(sock_path)
    try:
        code = ("import nsml\nprint(nsml.IS_ON_NSML, nsml.DATASET_PATH, nsml.GPU_NUM, nsml.SESSION_NAME)\n"
                "for i in range(1000):\n    nsml.report(step=i, val__loss=float('nan'))\n")
        out = run(code, tmp_path, online_env(sock_path, tmp_path))
    finally:
        agent.close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "/data/mnist", "2", "alice/mnist/3"]
    hello = agent.messages[0]
    assert hello["type"] == "hello" and hello["v"] == 1 and hello["rank"] == 2 and hello["sdk"].startswith("nsml-python/")
    records = agent.records()
    assert [r["step"] for r in records] == list(range(1000))
    assert records[0]["values"] == {"val/loss": "NaN"}
    assert agent.messages[-1]["type"] == "bye"


def test_metrics_wait_for_an_agent_that_starts_late(sock_path, tmp_path):
    code = ("import time, nsml\nfor i in range(100):\n    nsml.report(step=i, a=1.0)\n"
            "print('reported', flush=True)\ntime.sleep(1.5)\nnsml.report(step=100, a=1.0)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, env=online_env(sock_path, tmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "reported"
    agent = FakeAgent(sock_path)
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        agent.close()
    assert proc.returncode == 0, err
    assert [r["step"] for r in agent.records()] == list(range(101))


def test_save_and_load_errors_reach_the_script(sock_path, tmp_path):
    (tmp_path / "got" / "model").mkdir(parents=True)
    (tmp_path / "got" / "model" / "w").write_text("w")
    agent = FakeAgent(sock_path, loads={"good": str(tmp_path / "got")})
    code = """
import os, nsml
nsml.bind(save=lambda d: open(os.path.join(d, "w"), "w").write("x"), load=lambda d: print("loaded", os.listdir(d)))
nsml.save("ok")
try:
    nsml.save("fail-quota")
except nsml.NsmlError as e:
    print("save", e.code, e.message)
nsml.load("good")
try:
    nsml.load("bad", session="4")
except nsml.CheckpointNotFoundError as e:
    print("load", e.existing)
print("staging", os.listdir(os.path.join(os.environ["NSML_CHECKPOINT_DIR"], ".nsml")))
"""
    try:
        out = run(code, tmp_path, online_env(sock_path, tmp_path))
    finally:
        agent.close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["save NSML_E_TOO_LARGE checkpoint over quota", "loaded ['w']", "load ['a', 'b']", "staging []"]
    saves = agent.of("save")
    assert saves[0]["dir"].startswith(str(tmp_path / "ckpt" / ".nsml"))
    assert agent.of("load")[1]["session"] == "alice/mnist/4"


def test_garbage_from_the_agent_makes_the_script_reconnect_not_crash(sock_path, tmp_path):
    agent = FakeAgent(sock_path)
    agent.garbage_first = True
    try:
        out = run("import nsml\nfor i in range(10):\n    nsml.report(step=i, a=1.0)\n", tmp_path, online_env(sock_path, tmp_path))
    finally:
        agent.close()
    assert out.returncode == 0, out.stderr
    assert len(agent.of("hello")) == 2
    assert [r["step"] for r in agent.records()] == list(range(10))


def test_a_request_without_an_agent_fails_clearly(tmp_path):
    env = online_env("/tmp/nsml-no-such.sock", tmp_path)
    env["NSML_SAVE_TIMEOUT_S"] = "1"
    out = run("import nsml\ntry:\n    nsml.load('a')\nexcept nsml.AgentUnavailableError as e:\n    print(e.code)\n", tmp_path, env)
    assert out.stdout.strip() == "NSML_E_AGENT_UNAVAILABLE"


def test_a_socket_that_never_appears_fails_requests_within_the_connect_timeout_and_never_report(tmp_path):
    env = online_env("/tmp/nsml-never-there.sock", tmp_path)
    env["NSML_CONNECT_TIMEOUT_MS"] = "300"  # the save timeout stays at its default (an hour)
    code = (
        "import time, nsml\n"
        "nsml.report(step=1, loss=0.5)\n"
        "began = time.monotonic()\n"
        "try:\n"
        "    nsml.load('a')\n"
        "except nsml.AgentUnavailableError as e:\n"
        "    print(e.code, round(time.monotonic() - began) < 20, 'does not exist' in e.message)\n"
        "nsml.report(step=2, loss=0.4)\n"
    )
    out = run(code, tmp_path, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == "NSML_E_AGENT_UNAVAILABLE True True"


def test_a_set_through_the_bridge_is_typed_and_a_bad_value_refuses_the_whole_set(sock_path, tmp_path):
    agent = FakeAgent(sock_path, commands=[
        {"id": "c-1", "name": "set", "args": {"values": {"epochs": "4", "lr": "abc"}}},
        {"id": "c-2", "name": "set", "args": {"values": {"lr": ".5", "epochs": "6"}}},
    ])
    code = """
import time, nsml
nsml.hparams.update(lr=0.1, epochs=3)
seen = []
nsml.on_change("lr")(seen.append)
deadline = time.monotonic() + 30
step = 0
while nsml.hparams.lr == 0.1 and time.monotonic() < deadline:
    nsml.report(step=step, a=1.0)
    step += 1
    time.sleep(0.01)
lr = nsml.hparams.lr
lr += 0.25
print(lr, nsml.hparams.epochs, seen)
"""
    try:
        out = run(code, tmp_path, online_env(sock_path, tmp_path))
    finally:
        agent.close()
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0.75", "6", "[0.5]"]
    results = {m["id"]: m for m in agent.of("result")}
    assert results["c-1"]["ok"] is False and results["c-1"]["error"]["code"] == "NSML_E_INVALID_ARGUMENT"
    assert results["c-1"]["error"]["message"] == 'lr is a float (current 0.1); "abc" is not a number; nothing was changed'
    assert results["c-2"]["ok"] is True and results["c-2"]["value"] == {"lr": 0.5, "epochs": 6}
    assert [(e["name"], e["value"]) for e in agent.of("event") if e.get("kind") == "set"] == [("lr", 0.5), ("epochs", 6)]
