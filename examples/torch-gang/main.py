"""A gang of ranks, one per node, talking through torch.distributed with the variables nsml sets.

    nsml run -g 2 --gpus-per-node 1 main.py        # from examples/: -e torch-gang/main.py
    nsml run -g 2 --gpus-per-node 1 main.py -a "--backend nccl"   # one distinct GPU per rank

Each rank adds rank+1 with all_reduce; every rank must see 1+2+...+WORLD_SIZE. gloo (the default)
runs on the CPU, so two ranks may share one GPU (two agents on a one-GPU machine). Outside the
platform it runs as a gang of one.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

import torch
import torch.distributed as dist

import nsml


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--backend", default="gloo")
    args = p.parse_args()
    for key, default in (("RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500")):
        os.environ.setdefault(key, default)
    if os.environ["MASTER_ADDR"].startswith("127.") and args.backend == "gloo":
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # else gloo binds to the hostname's address
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    print(f"rank {rank}/{world}: MASTER_ADDR={os.environ['MASTER_ADDR']} MASTER_PORT={os.environ['MASTER_PORT']} "
          f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', '-')} cuda={torch.cuda.is_available()} "
          f"backend={args.backend} torch={torch.__version__}", flush=True)
    started = time.time()
    dist.init_process_group(args.backend, timeout=datetime.timedelta(seconds=60))
    device = torch.device("cuda", 0) if args.backend == "nccl" else torch.device("cpu")
    value = torch.tensor([float(rank + 1)], device=device)
    dist.all_reduce(value)
    total, expected = value.item(), world * (world + 1) / 2
    ok = total == expected
    print(f"rank {rank}: all_reduce sum = {total:g} (expected {expected:g}) {'OK' if ok else 'WRONG'} "
          f"in {time.time() - started:.2f} s", flush=True)
    nsml.report(step=0, gang__allreduce_sum=total, gang__world_size=world)
    dist.barrier()
    dist.destroy_process_group()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
