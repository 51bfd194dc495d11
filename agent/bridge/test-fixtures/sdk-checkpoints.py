"""Saves and loads checkpoints in every shape NSML scripts use; prints one JSON line per outcome."""
import json
import os

import nsml

out = {}


def save_file(filename, **kwargs):  # 2018: one file at exactly the path
    with open(filename, "w") as f:
        f.write("file:" + kwargs.get("tag", ""))


def load_file(filename, **kwargs):
    with open(filename) as f:
        out["loaded_file"] = f.read()


def save_dir(dir_name):  # 2019: files into the path, a directory it does not create
    with open(os.path.join(dir_name, "weights.txt"), "w") as f:
        f.write("dir")


def load_dir(dir_name):
    out["loaded_dir"] = sorted(os.listdir(dir_name))


nsml.report(summary=True, step=1, val__acc=0.75)
nsml.bind(save=save_file, load=load_file, tag="t")
nsml.save(1)
nsml.save(checkpoint="1")  # the same name overwrites
nsml.load(1)
nsml.bind(save=save_dir, load=load_dir)
nsml.save(iteration="dir")
nsml.load("dir")

try:
    nsml.load("missing")
except nsml.CheckpointNotFoundError as err:
    out["missing"] = {"existing": sorted(err.existing), "message": str(err)}


def broken(path):
    raise RuntimeError("disk on fire")


nsml.bind(save=broken)
try:
    nsml.save("broken")
except RuntimeError as err:
    out["broken"] = str(err)

nsml.bind()
nsml.save("empty")

models = []
for session in ("bob/mnist/1", "bob/mnist/2"):
    nsml.bind(load=lambda d, models=models: models.append(open(os.path.join(d, "w.txt")).read()))
    nsml.load("best", session=session)
out["ensemble"] = models
print(json.dumps(out), flush=True)
