"""Training under torchrun (DDP, gloo on CPU), sharding samplers and the launch command helper."""

import json
import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from emgcore.cross.distributed import ShardSampler, per_rank_batch_size, train_sampler
from emgcore.cross.train_cli import load_training_config, torchrun_command
from emgcore.cross.training import seed_everything
from emgcore.data.store import UserRecording, store_filename, write_user_store
from emgcore.models import build_model
from emgcore.preprocess.window_index import build_window_index, save_window_index
from emgcore.settings import threads_per_process, training_job_threads
from tests.helpers.settings import training_settings

ROOT = Path(__file__).resolve().parents[2]
W, STRIDE = 40, 4


def user(subject, seed, reps=10, length=120):
    """Random user: rest and gesture repetitions, gesture k bursting on channel k."""
    rng = np.random.default_rng(seed)
    pieces, rows, offset = [], [], 0
    for i in range(reps):
        label = i % 5
        x = rng.integers(-8, 9, size=(length, 8))
        if label:
            x[20:100, label] += rng.integers(-90, 91, size=80)
        pieces.append(np.clip(x, -128, 127).astype(np.int8))
        rows.append(
            dict(offset=offset, length=length, label=label, rep_index=i // 5, block=0, pb=-1, pe=-1, subject=subject)
        )
        offset += length
    return UserRecording(subject, f"training/user{subject + 1}", "test", np.concatenate(pieces), pd.DataFrame(rows))


@pytest.fixture
def tiny_run(tmp_path):
    """A store of 6 users, train (0-3) and val (4-5) indexes, and a training config."""
    store = tmp_path / "store"
    users = [user(s, seed=10 + s) for s in range(6)]
    for u in users:
        write_user_store(store / store_filename(u.subject), u)
    for name, members in (("train", users[:4]), ("val", users[4:])):
        index = build_window_index(members, "raw", W, STRIDE, rest_subsample=1)
        save_window_index(tmp_path / f"{name}.npz", index)
    config = tmp_path / "training.json"
    settings = training_settings(
        batch_size=32,
        eval_batch_size=64,
        lr=3e-3,
        max_epochs=3,
        patience=5,
        dropout=0.2,
        threads=2,
        max_train_batches_per_epoch=None,
        device="cpu",
    )
    config.write_text(json.dumps(settings.as_config()))
    return tmp_path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_args(root, out, seed=3):
    return [
        "--model",
        "mhcnn",
        "--loss",
        "base",
        "--train-variant",
        "raw",
        "--store",
        root / "store",
        "--train",
        root / "train.npz",
        "--val",
        root / "val.npz",
        "--out",
        out,
        "--seed",
        seed,
        "--config",
        root / "training.json",
        "--device",
        "cpu",
        "--no-progress",
    ]


def test_two_ranks_end_identical_and_only_rank0_writes(tiny_run):
    out, dump = tiny_run / "run", tiny_run / "dump"
    command = torchrun_command(2, [*cli_args(tiny_run, out), "--dump-rank-state", dump])
    assert command[2] == "torch.distributed.run" and "--nproc-per-node=2" in command
    port = free_port()  # only used as a fallback default by the workers; --standalone picks its own
    env = dict(
        os.environ,
        OMP_NUM_THREADS="1",
        MASTER_PORT=str(port),
        PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    )
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "2 process(es) on cpu" in done.stdout  # printed by rank 0 only, once
    assert done.stdout.count("best epoch") == 1

    dumps = [torch.load(dump / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert [d["rank"] for d in dumps] == [0, 1] and {d["world"] for d in dumps} == {2}
    state0, state1 = dumps[0]["state_dict"], dumps[1]["state_dict"]
    assert state0.keys() == state1.keys() and len(state0) > 0
    for key in state0:
        assert torch.equal(state0[key], state1[key]), key

    # one set of outputs, no temporary leftovers, and model.pt is the ranks' final (best) model
    assert sorted(p.name for p in out.iterdir()) == ["epochs", "model.pt", "run.json", "train_log.csv"]
    log = pd.read_csv(out / "train_log.csv")
    assert list(log["epoch"]) == [1, 2, 3]
    assert sorted(p.name for p in (out / "epochs").iterdir()) == [f"epoch_{e:03d}.pt" for e in (1, 2, 3)]
    best = torch.load(out / "model.pt", weights_only=True)
    for key in state0:
        assert torch.equal(best["state_dict"][key], state0[key]), key
    # training happened: the weights moved away from the seed's initialisation
    seed_everything(3)
    initial = build_model("mhcnn", dropout=0.2, window=W).state_dict()
    assert all(not torch.equal(initial[k], state0[k]) for k in initial)
    assert log["val_acc"].iloc[-1] > 0.5  # easy task, chance is 0.2


def test_single_process_cli_trains_without_process_group(tiny_run, monkeypatch):
    from emgcore.cross import train_cli

    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        monkeypatch.delenv(key, raising=False)
    config = json.loads((tiny_run / "training.json").read_text())
    (tiny_run / "training.json").write_text(json.dumps(dict(config, threads=1)))
    out = tiny_run / "single"
    assert train_cli.main([str(a) for a in cli_args(tiny_run, out)]) == 0
    assert not torch.distributed.is_initialized()
    assert (out / "model.pt").is_file() and len(pd.read_csv(out / "train_log.csv")) == 3


def test_threads_are_divided_among_processes_once(tiny_run, monkeypatch):
    """The rule asks for (threads + workers) x nproc cores; each process gets `threads` back, and the CLI
    under torchrun (LOCAL_WORLD_SIZE set) does not divide them again (it used to: 8 threads, 2 processes -> 2)."""
    from emgcore.cross import train_cli

    for threads in (1, 2, 4):
        for workers in (0, 2):
            for nproc in (1, 2, 3):
                settings = training_settings(threads=threads, num_workers=workers, nproc=nproc)
                assert threads_per_process(training_job_threads(settings), nproc, workers) == threads
    assert threads_per_process(3, 2, 0) == 1 and threads_per_process(1, 4, 1) == 1  # fewer cores given: >= 1
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")  # as torchrun sets it for each of 2 processes
    assert train_cli.main([str(a) for a in cli_args(tiny_run, tiny_run / "threads")]) == 0
    assert torch.get_num_threads() == 2  # training.threads of the JSON file, as given


def test_train_shards_are_disjoint_cover_everything_and_reshuffle_per_epoch():
    data = list(range(103))
    shards = [train_sampler(data, rank, 2, seed=5) for rank in (0, 1)]
    for s in shards:
        s.set_epoch(1)
    first = [list(s) for s in shards]
    assert len(first[0]) == len(first[1]) == 52  # padded to equal lengths: equal step counts
    assert set(first[0]) | set(first[1]) == set(data)
    assert len(set(first[0]) & set(first[1])) <= 1  # only the one padding duplicate may overlap
    for s in shards:
        s.set_epoch(2)
    assert [list(s) for s in shards] != first


def test_val_shards_partition_exactly_without_padding():
    shards = [list(ShardSampler(11, rank, 3)) for rank in range(3)]
    assert sorted(sum(shards, [])) == list(range(11))
    assert [len(ShardSampler(11, r, 3)) for r in range(3)] == [4, 4, 3]
    with pytest.raises(ValueError):
        ShardSampler(5, 3, 3)


def test_global_batch_is_split_evenly_or_refused():
    assert per_rank_batch_size(512, 4) == 128
    with pytest.raises(ValueError, match="not divisible"):
        per_rank_batch_size(512, 3)


def test_torchrun_command_forms(tmp_path):
    assert torchrun_command(1, ["--seed", 0], python="py") == ["py", "-m", "emgcore.cross.train_cli", "--seed", "0"]
    cmd = torchrun_command(4, ["--seed", "1"], python="py")
    assert cmd == [
        "py",
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nnodes=1",
        "--nproc-per-node=4",
        "-m",
        "emgcore.cross.train_cli",
        "--seed",
        "1",
    ]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            torchrun_command(bad, [])
    with pytest.raises(TypeError):
        torchrun_command(2, "--seed 1")
    bad_config = tmp_path / "bad.json"
    bad_config.write_text(json.dumps({"lr": 1e-3}))
    with pytest.raises(ValueError, match="batch_size"):
        load_training_config(bad_config)
