"""``nsml.NSML_NFS_OUTPUT``: a directory for this session's outputs that outlives the session.

On the platform the agent names it in ``NSML_NFS_OUTPUT``; offline it is
``./.nsml/nfs-output/USER/DATASET/N`` (this run's local session). The directory is created the
first time the attribute is read, never at import.
"""

from __future__ import annotations

import os

from ._runtime import RUNTIME
from ._warn import warn_once


def nfs_output_dir() -> str:
    """The directory's path, created if it is not there yet (a failure to create it is warned once)."""
    env = RUNTIME.env
    path = env.nfs_output or os.path.join(env.local_dir, "nfs-output", *RUNTIME.session_name.split("/"))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        warn_once("nfs-output", f"cannot create the session output directory {path}: {err}")
    return path
