"""Shared test set-up."""

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """One torch thread per test: small batches gain nothing from two, and lose a lot when cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def trimmed_dag(tmp_path_factory):
    """The work dir of one finished run of the trimmed DAG (tests.test_workflow.TRIMMED), built once for every
    test that reads it; they may add files (the report) but change none."""
    from tests.helpers.workflow import TRIMMED, snakemake, workdir_with

    work = workdir_with(tmp_path_factory.mktemp("trimmed_dag"), TRIMMED)
    res = snakemake(work, "--cores", "2")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return work
