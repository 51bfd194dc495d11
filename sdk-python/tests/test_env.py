import pytest

from nsml._env import read_environment


@pytest.mark.parametrize("env, field, expected", [
    ({}, "online", False),
    ({"NSML_AGENT_SOCKET": "/s"}, "online", True),
    ({"NSML_DATASET_PATH": "/data/mnist"}, "dataset_path", "/data/mnist"),
    ({"NSML_DATASET_PATH": "/data/a:/data/b"}, "dataset_path", ["/data/a", "/data/b"]),
    ({"NSML_DATASET_NAME": "a:b"}, "dataset_name", ["a", "b"]),
    ({}, "dataset_path", None),
    ({"NSML_GPU_NUM": "4"}, "gpu_num", 4),
    ({"CUDA_VISIBLE_DEVICES": "0,1"}, "gpu_num", 2),
    ({"CUDA_VISIBLE_DEVICES": ""}, "gpu_num", 0),
    ({"NSML_GPU_NUM": "x"}, "gpu_num", 0),
    ({"NSML_RANK": "3", "NSML_WORLD_SIZE": "8"}, "rank", 3),
    ({"NSML_WORLD_SIZE": "0"}, "world_size", 1),
    ({"NSML_USER": "al ice"}, "user", "al-ice"),
    ({"NSML_FLUSH_INTERVAL_MS": "1000"}, "flush_interval_s", 1.0),
])
def test_environment(env, field, expected):
    assert getattr(read_environment(env), field) == expected
