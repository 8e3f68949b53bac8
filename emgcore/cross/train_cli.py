"""Command line for one cross-user training run, in one process or under ``torchrun`` (DDP).

    python -m emgcore.cross.train_cli --model mhcnn --loss base --train-variant raw --seed 0 \\
        --store DIR --train IDX.npz --val IDX.npz --out DIR --config training.json
    torchrun --standalone --nproc-per-node=2 -m emgcore.cross.train_cli ...   # same arguments

Under torchrun every process joins the group from torchrun's environment (gloo on CPU, NCCL on
GPU ``LOCAL_RANK``), trains its shard through :func:`emgcore.cross.runs.train_cross_run` and rank 0
alone writes the run folder. ``training.threads`` in the JSON file is each process's torch
thread count (:func:`emgcore.settings.threads_per_process` computed it). :func:`torchrun_command`
builds either command line for a Snakemake rule from the number of processes it was given.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from emgcore.cross.distributed import init_from_env, shutdown
from emgcore.cross.runs import train_cross_run
from emgcore.io import write_atomic
from emgcore.layout import CrossRun
from emgcore.settings import TrainingSettings

MODULE = "emgcore.cross.train_cli"


def torchrun_command(nproc: int, args: Sequence[str], module: str = MODULE, python: str | None = None) -> list[str]:
    """Command line running ``python -m module *args`` in ``nproc`` processes.

    One process runs the module directly; more go through ``python -m torch.distributed.run``
    (torchrun) with ``--standalone``, which picks a free rendezvous port, so several runs can
    share a machine. ``python`` defaults to the current interpreter (the same environment).
    """
    if isinstance(nproc, bool) or int(nproc) != nproc or nproc < 1:
        raise ValueError(f"nproc must be a positive integer, got {nproc!r}")
    if isinstance(args, (str, bytes)):
        raise TypeError("args must be a sequence of arguments, not one string")
    python = python or sys.executable
    args = [str(a) for a in args]
    if nproc == 1:
        return [python, "-m", module, *args]
    return [
        python,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes=1",
        f"--nproc-per-node={int(nproc)}",
        "-m",
        module,
        *args,
    ]


def load_training_config(path: str | Path) -> TrainingSettings:
    """The ``training`` settings (every key of config.yaml's section) from a JSON file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no training config at {path}")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(config, Mapping):
        raise ValueError(f"{path} must hold a JSON object of training settings")
    try:
        return TrainingSettings.from_config(config)
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m {MODULE}", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="registered model name, e.g. mhcnn")
    parser.add_argument("--loss", required=True, help="loss name, e.g. base")
    parser.add_argument("--train-variant", required=True, help="windowing variant of the training index, e.g. raw")
    parser.add_argument("--store", required=True, help="folder of subject{sid:04d}.h5 files")
    parser.add_argument("--train", required=True, help="training window index (.npz)")
    parser.add_argument("--val", required=True, help="validation window index (.npz)")
    parser.add_argument("--out", required=True, help="run folder (model.pt, train_log.csv, epochs/)")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--config", required=True, help="JSON object of training settings")
    parser.add_argument("--device", default="auto", help="auto (GPU if available), cpu or cuda")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no per-batch progress bar")
    parser.add_argument(
        "--dump-rank-state",
        metavar="DIR",
        default=None,
        help="debug: every rank saves its final state_dict as DIR/rank{R}.pt",
    )
    return parser


def _dump_rank_state(folder: str | Path, model: torch.nn.Module, rank: int, world: int) -> Path:
    """Write this rank's weights to ``folder/rank{rank}.pt`` (to check that ranks agree)."""
    dump = {"state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "rank": rank, "world": world}
    return write_atomic(Path(folder) / f"rank{rank}.pt", lambda tmp: torch.save(dump, tmp))


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, join the process group if under torchrun, train, leave the group."""
    args = build_parser().parse_args(argv)
    training = load_training_config(args.config)
    ctx = init_from_env(args.device)
    try:
        run = CrossRun(args.model, args.loss, args.train_variant, args.seed)
        result = train_cross_run(
            run,
            args.store,
            args.train,
            args.val,
            args.out,
            training.replace(device=ctx.device),
            progress=args.progress and ctx.is_writer,
        )
        if args.dump_rank_state:
            _dump_rank_state(args.dump_rank_state, result.model, ctx.rank, ctx.world)
        if ctx.is_writer:
            print(result.history.to_string(index=False))
            print(
                f"best epoch {result.best_epoch}, val loss {result.best_val_loss:.4f}, "
                f"{ctx.world} process(es) on {ctx.device}"
            )
    finally:
        shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
