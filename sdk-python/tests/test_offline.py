"""Offline mode, end to end: real scripts in child processes, the local store under ./.nsml/."""

import json
import signal
import subprocess
import sys
import time

from conftest import run_script, script_env

TRAIN = """
import os, nsml
nsml.bind(save=lambda p: open(p, "w").write(nsml.SESSION_NAME), load=lambda p: print("loaded", open(p).read()))
for epoch in range(3):
    nsml.report(step=epoch, summary=True, train__loss=1.0 / (epoch + 1))
    nsml.save(epoch)
print(nsml.SESSION_NAME, nsml.IS_ON_NSML)
"""


def metrics(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_script_runs_offline_and_its_runs_are_numbered(tmp_path):
    first = run_script(TRAIN, tmp_path)
    second = run_script(TRAIN, tmp_path, env={"NSML_USER": first.stdout.split("/")[0]})
    assert first.returncode == 0, first.stderr
    assert first.stdout.split() == [first.stdout.split()[0], "False"]
    n1 = int(first.stdout.split()[0].split("/")[2])
    n2 = int(second.stdout.split()[0].split("/")[2])
    assert n2 == n1 + 1
    session = tmp_path / ".nsml" / "sessions" / first.stdout.split()[0]
    lines = metrics(session / "metrics.jsonl")
    assert [(r["step"], r["values"]["train/loss"], r["summary"]) for r in lines] == [(0, 1.0, True), (1, 0.5, True), (2, 1 / 3, True)]
    assert sorted(p.name for p in (session / "checkpoints").iterdir()) == ["0", "1", "2"]
    meta = json.loads((session / "checkpoints" / "2" / "meta.json").read_text())
    assert meta["summary"] == {"train/loss": 1 / 3}


def test_load_finds_checkpoints_of_another_local_session(tmp_path):
    first = run_script(TRAIN, tmp_path, env={"NSML_USER": "alice"})
    name = first.stdout.split()[0]
    loader = """
import sys, nsml
nsml.bind(load=lambda p: print("loaded", open(p).read()))
nsml.load(2, session=sys.argv[1])
nsml.load(1, session=sys.argv[1].split("/")[2])
try:
    nsml.load(9, session=sys.argv[1])
except nsml.CheckpointNotFoundError as e:
    print("missing", e.existing)
"""
    out = run_script(loader, tmp_path, args=[name], env={"NSML_USER": "alice"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [f"loaded {name}", f"loaded {name}", "missing ['0', '1', '2']"]


def test_nsml_session_continues_a_named_local_session(tmp_path):
    env = {"NSML_SESSION": "bob/mnist/7"}
    run_script("import nsml\nnsml.report(step=0, a=1)\n", tmp_path, env=env)
    run_script("import nsml\nnsml.report(step=1, a=2)\n", tmp_path, env=env)
    lines = metrics(tmp_path / ".nsml" / "sessions" / "bob" / "mnist" / "7" / "metrics.jsonl")
    assert [r["step"] for r in lines] == [0, 1]


LOOP = """
import sys, time, nsml
n = int(sys.argv[1])
for i in range(n):
    nsml.report(step=i, a=float(i))
if sys.argv[2] == "settle":
    time.sleep(0.5)
print("ready", flush=True)
time.sleep(60)
"""


def start_loop(tmp_path, n, mode, extra_code=""):
    (tmp_path / "loop.py").write_text(extra_code + LOOP)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "loop.py"), str(n), mode], cwd=tmp_path,
                            env=script_env({"NSML_SESSION": "u/scratch/1"}), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def steps(tmp_path):
    path = tmp_path / ".nsml" / "sessions" / "u" / "scratch" / "1" / "metrics.jsonl"
    return [r["step"] for r in metrics(path) if "values" in r]


def test_sigterm_loses_no_metric_and_the_process_dies_by_it(tmp_path):
    proc = start_loop(tmp_path, 50_000, "now")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == -signal.SIGTERM
    proc.stdout.close()
    assert steps(tmp_path) == list(range(50_000))


def test_sigterm_chains_to_the_script_handler(tmp_path):
    handler = "import signal, sys\nsignal.signal(signal.SIGTERM, lambda s, f: sys.exit(7))\n"
    proc = start_loop(tmp_path, 1000, "now", extra_code=handler)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 7
    proc.stdout.close()
    assert steps(tmp_path) == list(range(1000))


def test_sigkill_loses_at_most_the_last_flush_interval(tmp_path):
    proc = start_loop(tmp_path, 20_000, "settle")
    proc.kill()
    proc.wait(60)
    proc.stdout.close()
    assert steps(tmp_path) == list(range(20_000))


def test_normal_exit_flushes_everything(tmp_path):
    code = "import nsml\nfor i in range(30000):\n    nsml.report(step=i, a=1.0)\n"
    out = run_script(code, tmp_path, env={"NSML_SESSION": "u/scratch/1", "NSML_FLUSH_INTERVAL_MS": "60000"})
    assert out.returncode == 0, out.stderr
    assert len(steps(tmp_path)) == 30_000


def test_a_forked_child_reports_into_the_same_session(tmp_path):
    code = """
import os, nsml
nsml.report(step=0, parent=1.0)
pid = os.fork()
if pid == 0:
    nsml.report(step=1, child=1.0)
    nsml._RUNTIME.close()
    os._exit(0)
os.waitpid(pid, 0)
nsml.report(step=2, parent=2.0)
"""
    out = run_script(code, tmp_path, env={"NSML_SESSION": "u/scratch/1"})
    assert out.returncode == 0, out.stderr
    assert sorted(steps(tmp_path)) == [0, 1, 2]


def test_report_cost_stays_small_without_timing_assertions(tmp_path):
    # A smoke run of the hot path in a fresh process: it must absorb a burst without drops.
    code = """
import nsml, nsml._report as r
for i in range(200000):
    nsml.report(step=i, a=0.1, b=0.2, c=0.3, d=0.4, e=5)
print(r.STATE.dropped)
"""
    out = run_script(code, tmp_path, env={"NSML_SESSION": "u/scratch/1"})
    assert out.stdout.strip() == "0"
    assert len(steps(tmp_path)) == 200_000


def test_import_alone_creates_nothing_and_the_store_appears_on_first_use(tmp_path):
    out = run_script("import nsml\nprint(nsml.SESSION_NAME)\n", tmp_path, env={"NSML_USER": "carol"})
    assert out.returncode == 0, out.stderr
    assert not (tmp_path / ".nsml").exists()
    out = run_script("import nsml\nnsml.report(step=0, a=1.0)\n", tmp_path, env={"NSML_USER": "carol"})
    assert out.returncode == 0, out.stderr
    assert (tmp_path / ".nsml" / "sessions" / "carol" / "scratch" / "1" / "metrics.jsonl").exists()


NFS = """
import os, nsml
before = os.path.exists(os.path.join(".nsml", "nfs-output"))
path = nsml.NSML_NFS_OUTPUT
open(os.path.join(path, "predictions.csv"), "w").write("id,score\\n")
print(before, os.path.relpath(path), os.path.isdir(path))
"""


def test_nfs_output_is_created_on_first_read_offline_and_follows_the_agent_online(tmp_path):
    out = run_script(NFS, tmp_path, env={"NSML_SESSION": "dave/movie/4"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", ".nsml/nfs-output/dave/movie/4", "True"]
    given = tmp_path / "shared" / "outputs" / "dave-movie-4"
    out = run_script("import nsml\nprint(nsml.NSML_NFS_OUTPUT)\nfrom nsml import NSML_NFS_OUTPUT\nprint(NSML_NFS_OUTPUT)\n",
                     tmp_path, env={"NSML_NFS_OUTPUT": str(given)})
    assert out.stdout.split() == [str(given), str(given)] and given.is_dir()
