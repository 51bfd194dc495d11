"""nsml: report metrics, save and load checkpoints, and take live commands from a training script.

Scripts written for NAVER's NSML run unchanged. Off the platform (no ``NSML_AGENT_SOCKET``) the
same calls work offline: metrics go to JSON Lines and checkpoints to directories under ``./.nsml/``.
"""

from . import constants
from ._checkpoint import bind, infer, load, paused, save
from ._commands import command, poll
from ._errors import AgentUnavailableError, CheckpointNotFoundError, NsmlError
from ._hparams import HPARAMS as hparams
from ._report import report
from ._runtime import RUNTIME as _RUNTIME
from ._version import PROTOCOL_VERSION, __version__
from .constants import DATASET_NAME, DATASET_PATH, GPU_NUM, HAS_DATASET, IS_ON_NSML, SESSION_NAME

on_change = hparams.on_change

__all__ = [
    "IS_ON_NSML",
    "DATASET_PATH",
    "DATASET_NAME",
    "HAS_DATASET",
    "GPU_NUM",
    "SESSION_NAME",
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
    "NsmlError",
    "CheckpointNotFoundError",
    "AgentUnavailableError",
    "constants",
    "__version__",
    "PROTOCOL_VERSION",
]

_RUNTIME.start()
