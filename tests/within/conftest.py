"""Shared fixtures of the within-user tests."""

import pytest

from emgcore.data.store import store_filename, write_user_store
from tests.within.users import recording


@pytest.fixture(scope="package")
def store(tmp_path_factory):
    """Subjects 0-2 are training users (both blocks, 20 + 20 per gesture; subject 2 has only 12
    waveIn repetitions in testingSamples); 3-4 testing users (trainingSamples only)."""
    root = tmp_path_factory.mktemp("within_store")
    users = [recording(s, (20, 20)) for s in (0, 1)]
    users.append(recording(2, (20, 20), counts={(1, 2): 12}))
    users += [recording(s, (20, 0)) for s in (3, 4)]
    for user in users:
        write_user_store(root / store_filename(user.subject), user)
    return root
