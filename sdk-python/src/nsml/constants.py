"""NSML's constants, as ``nsml.constants`` and at the top of ``nsml``.

``IS_ON_NSML``: running on the platform (the agent's socket is set).
``DATASET_PATH``: where the session's dataset is mounted; a list when it has several; ``None`` without.
``DATASET_NAME``: the dataset's name (a list when several); ``None`` without.
``HAS_DATASET``: whether a dataset is mounted.
``GPU_NUM``: GPUs given to this process.
``SESSION_NAME``: ``USER/DATASET/N``; offline, the local session under ``./.nsml/``.
"""

from __future__ import annotations

from typing import List, Optional, Union

from ._runtime import RUNTIME as _RUNTIME

IS_ON_NSML: bool = _RUNTIME.env.online
DATASET_PATH: Optional[Union[str, List[str]]] = _RUNTIME.env.dataset_path
DATASET_NAME: Optional[Union[str, List[str]]] = _RUNTIME.env.dataset_name
HAS_DATASET: bool = DATASET_PATH is not None
GPU_NUM: int = _RUNTIME.env.gpu_num
SESSION_NAME: str = _RUNTIME.session_name

__all__ = ["IS_ON_NSML", "DATASET_PATH", "DATASET_NAME", "HAS_DATASET", "GPU_NUM", "SESSION_NAME"]
