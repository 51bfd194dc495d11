"""nsml: report metrics, save and load checkpoints, and take live commands from a training script.

Scripts written for NAVER's NSML run unchanged. Off the platform (no ``NSML_AGENT_SOCKET``) the
same calls work offline: metrics go to JSON Lines and checkpoints to directories under ``./.nsml/``.
"""

from typing import Any

from . import constants
from ._cache import cache
from ._checkpoint import bind, infer, load, paused, save
from ._commands import command, poll
from ._errors import AgentUnavailableError, CheckpointNotFoundError, NsmlError
from ._hparams import HPARAMS as hparams
from ._nfs_output import nfs_output_dir as _nfs_output_dir
from ._report import report
from ._runtime import RUNTIME as _RUNTIME
from ._version import PROTOCOL_VERSION, __version__
from ._visdom import Visdom
from .constants import DATASET_NAME, DATASET_PATH, GPU_NUM, HAS_DATASET, IS_ON_NSML, SESSION_NAME

on_change = hparams.on_change

__all__ = [
    "IS_ON_NSML",
    "DATASET_PATH",
    "DATASET_NAME",
    "HAS_DATASET",
    "GPU_NUM",
    "SESSION_NAME",
    "NSML_NFS_OUTPUT",
    "bind",
    "save",
    "load",
    "infer",
    "paused",
    "report",
    "hparams",
    "on_change",
    "command",
    "poll",
    "cache",
    "Visdom",
    "NsmlError",
    "CheckpointNotFoundError",
    "AgentUnavailableError",
    "constants",
    "__version__",
    "PROTOCOL_VERSION",
]



def __getattr__(name: str) -> Any:
    """``NSML_NFS_OUTPUT``: this session's output directory that outlives it, created on first read."""
    if name == "NSML_NFS_OUTPUT":
        return _nfs_output_dir()
    raise AttributeError(f"module 'nsml' has no attribute {name!r}")


_RUNTIME.start()
