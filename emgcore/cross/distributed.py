"""torch.distributed plumbing for training under torchrun: process group, device, data sharding.

Everything here is a no-op in a single process, so the same code trains with or without
``torchrun``. Under DistributedDataParallel every rank must run the same number of optimiser
steps (gradients are all-reduced in ``backward``): the training loader uses a padded
``DistributedSampler``, each rank taking ``batch_size / world`` windows per step so the global
batch and therefore the learning-rate meaning stay those of one process. Validation needs no
collective per batch, so it uses :class:`ShardSampler`: disjoint, unpadded shards whose summed
losses ``train_model`` all-reduces, giving exactly the single-process validation loss.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler, Sampler


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank, the world size, its local rank and torch device."""

    rank: int
    world: int
    local_rank: int
    device: str

    @property
    def is_writer(self) -> bool:
        """Only rank 0 writes files."""
        return self.rank == 0


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the initialised process group, (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable {name}={value!r} is not an integer") from None


def resolve_device(device: str, local_rank: int) -> str:
    """'auto' -> ``cuda:{local_rank}`` when CUDA is available, else 'cpu'; 'cuda' gets the index."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        device = f"cuda:{local_rank}"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available")
    return device


def init_from_env(device: str = "auto") -> DistContext:
    """Join the process group described by torchrun's environment (RANK, WORLD_SIZE, ...).

    Without those variables, or with WORLD_SIZE=1, no group is created (single process). The
    backend is NCCL when the device is a GPU and gloo on CPU; each process uses GPU ``LOCAL_RANK``.
    Call :func:`shutdown` at the end.
    """
    world = _env_int("WORLD_SIZE", 1)
    rank = _env_int("RANK", 0)
    local_rank = _env_int("LOCAL_RANK", 0)
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"inconsistent torchrun environment: RANK={rank}, WORLD_SIZE={world}")
    device = resolve_device(device, local_rank)
    if world > 1:
        if not dist.is_available():
            raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
        missing = [k for k in ("MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
        if missing:
            raise RuntimeError(f"WORLD_SIZE={world} but {missing} unset; launch with torchrun")
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if device.startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        if not dist.is_initialized():
            dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistContext(rank=rank, world=world, local_rank=local_rank, device=device)


def shutdown() -> None:
    """Destroy the process group if one is initialised (safe to call in a single process)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def per_rank_batch_size(batch_size: int, world: int) -> int:
    """Windows per rank and step so the global batch equals ``batch_size``; must divide evenly."""
    batch_size, world = int(batch_size), int(world)
    if batch_size < 1 or world < 1:
        raise ValueError(f"batch_size and world must be >= 1, got {batch_size} and {world}")
    if batch_size % world:
        raise ValueError(
            f"batch_size {batch_size} is not divisible by the {world} processes; "
            "choose a batch size that is a multiple of the process count"
        )
    return batch_size // world


class ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world, ...`` of ``range(n)``: disjoint shards covering every index once.

    Unlike ``DistributedSampler`` it never pads, so summing per-shard losses over ranks gives
    exactly the full-set sum (ranks may differ in length by one; fine where no collective runs
    per batch, e.g. evaluation).
    """

    def __init__(self, n: int, rank: int, world: int):
        if n < 0 or world < 1 or not 0 <= rank < world:
            raise ValueError(f"ShardSampler needs n >= 0 and 0 <= rank < world, got {n}, {rank}, {world}")
        self.n, self.rank, self.world = int(n), int(rank), int(world)

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


def train_sampler(dataset, rank: int, world: int, seed: int) -> DistributedSampler:
    """Shuffling, padded DistributedSampler: equal shard lengths, reshuffled by ``set_epoch``."""
    return DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=int(seed), drop_last=False)
