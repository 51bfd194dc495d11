"""A training script that saves a checkpoint per epoch in both NSML shapes (`save`), or loads
checkpoints of another session (`load SESSION`). Prints `RESULT {json}` as its last line."""
import json
import os
import sys

# Without an agent answering on its socket, a save fails in seconds rather than an hour.
os.environ.setdefault("NSML_SAVE_TIMEOUT_S", "30")

import nsml  # noqa: E402
from nsml._runtime import RUNTIME  # noqa: E402

out = {"saves": {}}

# A spy on the agent's answers to saves, to see how many bytes each upload sent.
_save = RUNTIME.transport.save_checkpoint


def _spy(name, root, summary):
    result = _save(name, root, summary)
    out["saves"][name] = result
    return result


RUNTIME.transport.save_checkpoint = _spy

state = {"epoch": 0}


def save_2018(filename):
    """2018 scripts write one file at exactly the path they get."""
    with open(filename, "w") as f:
        f.write("weights of epoch %d" % state["epoch"])


def save_2019(dir_name):
    """2019 scripts write files into the path as a directory."""
    for part in ("encoder", "decoder"):
        with open(os.path.join(dir_name, part + ".bin"), "w") as f:
            f.write(part * 1000)


def save_unchanged(filename):
    with open(filename, "w") as f:
        f.write("the same bytes every time")


def broken(path):
    raise RuntimeError("disk on fire")


def load_any(path):
    if os.path.isdir(path):
        names = sorted(os.listdir(path))
        return {"files": names, "first": open(os.path.join(path, names[0])).read()[:20]}
    return {"text": open(path).read()}


def train():
    nsml.bind(save=save_2018, load=load_any)
    for epoch in (1, 2, 3):
        state["epoch"] = epoch
        nsml.report(summary=True, step=epoch, val__acc=epoch / 10.0, train__loss=1.0 / epoch)
        nsml.save(epoch)
    out["own"] = nsml.load(2)
    nsml.bind(save=save_2019, load=load_any)
    nsml.save("best")
    nsml.bind(save=save_unchanged)
    nsml.save("same-a")
    nsml.save("same-b")
    nsml.bind(save=broken)
    try:
        nsml.save("broken")
    except RuntimeError as err:
        out["broken"] = str(err)


def load(other):
    nsml.bind(load=load_any)
    out["epoch2"] = nsml.load(2, session=other)
    out["best"] = nsml.load("best", session=other)
    try:
        nsml.load("missing", session=other)
    except nsml.CheckpointNotFoundError as err:
        out["missing"] = {"existing": sorted(err.existing), "message": str(err)}


if sys.argv[1] == "save":
    train()
else:
    load(sys.argv[2])
print("RESULT " + json.dumps(out), flush=True)
