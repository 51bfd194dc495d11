"""What the platform tells a script through its environment, read once at import."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from typing import List, Mapping, Optional, Union

PathOrPaths = Union[str, List[str], None]

_USER_PART = re.compile(r"[^A-Za-z0-9._-]")


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    text = env.get(key, "").strip()
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        return default


def _one_or_many(text: str) -> PathOrPaths:
    """A single value stays a string; several (os.pathsep-separated) become a list."""
    parts = [p for p in text.split(os.pathsep) if p]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else parts


def _visible_gpus(env: Mapping[str, str]) -> int:
    text = env.get("CUDA_VISIBLE_DEVICES", "").strip()
    if not text or text in ("-1", "none", "NoDevFiles"):
        return 0
    return len([p for p in text.split(",") if p.strip()])


def _local_user(env: Mapping[str, str]) -> str:
    user = env.get("NSML_USER", "")
    if not user:
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no passwd entry in some containers
            user = "local"
    user = _USER_PART.sub("-", user).lstrip(".-_") or "local"
    return user[:64]


@dataclass(frozen=True)
class Environment:
    """The session as the script sees it. Online when ``socket`` is set."""

    socket: Optional[str]
    session: Optional[str]
    user: str
    rank: int
    world_size: int
    gpu_num: int
    dataset_name: PathOrPaths
    dataset_path: PathOrPaths
    checkpoint_dir: Optional[str]
    local_dir: str
    resume_from: Optional[str]
    flush_interval_s: float
    buffer_records: int
    save_timeout_s: float
    resume_checkpoint: Optional[str] = None
    #: How long an operation that needs the agent waits for a socket that never answered.
    connect_timeout_s: float = 30.0
    #: The rank's telemetry journal (``NSML_TELEMETRY_FILE``): metrics, events and command
    #: results are appended there and shipped by the agent, so none is lost with the agent.
    telemetry_file: Optional[str] = None
    #: The node's cache for ``nsml.cache`` (``NSML_CACHE_DIR``); offline ``LOCAL_DIR/cache``.
    cache_dir: Optional[str] = None
    #: This session's output directory that outlives it (``NSML_NFS_OUTPUT``); offline ``None``
    #: (then ``LOCAL_DIR/nfs-output/SESSION``).
    nfs_output: Optional[str] = None
    #: The pinned dataset version(s) (``NSML_DATASET_VERSION``, ``:``-separated like the names).
    dataset_version: Optional[str] = None

    @property
    def online(self) -> bool:
        return bool(self.socket)

    @property
    def first_dataset(self) -> Optional[str]:
        if isinstance(self.dataset_name, list):
            return self.dataset_name[0]
        return self.dataset_name


def read_environment(env: Optional[Mapping[str, str]] = None) -> Environment:
    """Reads the ``NSML_*`` variables (see proto/sdk-bridge.md) with their defaults."""
    env = os.environ if env is None else env
    socket = env.get("NSML_AGENT_SOCKET") or None
    gpu_default = _visible_gpus(env)
    return Environment(
        socket=socket,
        session=env.get("NSML_SESSION") or None,
        user=_local_user(env),
        rank=_int(env, "NSML_RANK", 0),
        world_size=max(1, _int(env, "NSML_WORLD_SIZE", 1)),
        gpu_num=max(0, _int(env, "NSML_GPU_NUM", gpu_default)),
        dataset_name=_one_or_many(env.get("NSML_DATASET_NAME", "")),
        dataset_path=_one_or_many(env.get("NSML_DATASET_PATH", "")),
        checkpoint_dir=env.get("NSML_CHECKPOINT_DIR") or None,
        local_dir=os.path.abspath(env.get("NSML_LOCAL_DIR") or ".nsml"),
        resume_from=env.get("NSML_RESUME_FROM") or None,
        flush_interval_s=max(0.01, _int(env, "NSML_FLUSH_INTERVAL_MS", 250) / 1000.0),
        buffer_records=max(16, _int(env, "NSML_BUFFER_RECORDS", 1 << 18)),
        save_timeout_s=max(1.0, float(_int(env, "NSML_SAVE_TIMEOUT_S", 3600))),
        resume_checkpoint=env.get("NSML_RESUME_CHECKPOINT") or None,
        connect_timeout_s=max(0.1, _int(env, "NSML_CONNECT_TIMEOUT_MS", 30_000) / 1000.0),
        telemetry_file=env.get("NSML_TELEMETRY_FILE") or None,
        cache_dir=env.get("NSML_CACHE_DIR") or None,
        nfs_output=env.get("NSML_NFS_OUTPUT") or None,
        dataset_version=env.get("NSML_DATASET_VERSION") or None,
    )
