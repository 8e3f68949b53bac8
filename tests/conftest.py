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
