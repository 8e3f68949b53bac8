"""Incremental sweep: worst/best/random user selections from a ranking, and the (K users, R reps) index."""

import warnings

import numpy as np
import pandas as pd
import pytest

from emgcore.data.labels import USED_CLASSES
from emgcore.data.store import iter_store, read_reps
from emgcore.preprocess.window_index import build_window_index
from emgcore.settings import SettingAdapted
from emgcore.within.incremental import incremental_index, ranking_scores, select_users, user_order
from emgcore.within.repetitions import repetition_ordinals
from tests.within.users import PER_REP

# users 10..14: worst-first is 11 (0.1), 13 (0.3), 10 (0.5), 14 (0.7), 12 (0.9)
RANKING = pd.DataFrame({"subject": [10, 11, 12, 13, 14], "bal_acc": [0.5, 0.1, 0.9, 0.3, 0.7]})


def test_worst_and_best_first_take_exactly_the_k_extreme_users():
    assert user_order(RANKING, "worst") == [11, 13, 10, 14, 12]
    assert user_order(RANKING, "best") == [12, 14, 10, 13, 11]
    assert select_users(RANKING, "worst", 2).users == (11, 13)
    assert select_users(RANKING, "best", 3).users == (12, 14, 10)
    for k in range(1, 6):  # growing K only adds users
        assert select_users(RANKING, "worst", k).users == tuple(user_order(RANKING, "worst")[:k])


def test_selection_is_not_the_inverse_rank_mapping():
    """argsort(argsort(score)) gives each user's rank, not the sorted order; indexing the users
    with it (the snapshot's mistake) picks other users whenever the order is not an involution."""
    users, scores = RANKING["subject"].to_numpy(), RANKING["bal_acc"].to_numpy()
    ranks = np.argsort(np.argsort(scores))
    wrong = set(users[ranks[:2]].tolist())  # {12, 10}: the best and the median user
    correct = {11, 13}
    assert wrong != correct
    assert set(select_users(RANKING, "worst", 2).users) == correct
    # best-first: with these scores descending, the order is an involution; swap two to break it
    scores_b = np.array([0.5, 0.1, 0.3, 0.9, 0.7])  # best-first: 13, 14, 10, 12, 11
    users_b = users[np.argsort(np.argsort(-scores_b))[:2]]
    ranking_b = pd.DataFrame({"subject": users, "bal_acc": scores_b})
    assert set(users_b.tolist()) != {13, 14}
    assert set(select_users(ranking_b, "best", 2).users) == {13, 14}


def test_ties_are_broken_by_the_lower_user_id_in_both_directions():
    tied = pd.DataFrame({"subject": [7, 3, 5, 1, 9], "bal_acc": [0.4, 0.4, 0.8, 0.8, 0.2]})
    assert user_order(tied, "worst") == [9, 3, 7, 1, 5]
    assert user_order(tied, "best") == [1, 5, 3, 7, 9]
    assert user_order(tied.iloc[::-1], "worst") == [9, 3, 7, 1, 5]  # input order does not matter


def test_random_is_a_seeded_shuffle_whose_prefixes_are_selected():
    ranking = pd.Series(np.linspace(0, 1, 30), index=np.arange(100, 130))
    orders = {seed: user_order(ranking, "random", seed) for seed in range(4)}
    for seed, order in orders.items():
        assert sorted(order) == list(range(100, 130))
        assert order == user_order(ranking, "random", seed)  # reproducible
        for k in (1, 7, 30):
            assert select_users(ranking, "random", k, seed).users == tuple(order[:k])
    assert len({tuple(o) for o in orders.values()}) == 4  # one shuffle per seed
    assert orders[0] != sorted(orders[0])
    with pytest.raises(ValueError, match="needs an integer seed"):
        user_order(ranking, "random")
    with pytest.raises(ValueError, match="takes no seed"):
        user_order(ranking, "worst", 0)


def test_k_is_clipped_to_the_ranked_users_and_reported():
    with pytest.warns(SettingAdapted, match="incremental K"):
        selection = select_users(RANKING, "best", 8)
    assert selection.users == (12, 14, 10, 13, 11) and (selection.k_configured, selection.k_used) == (8, 5)
    assert selection.adapted["used"] == 5 and selection.adapted["configured"] == 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert select_users(RANKING, "best", 5).adapted is None
    with pytest.raises(ValueError, match="positive integer"):
        select_users(RANKING, "best", 0)


def test_rankings_are_checked():
    with pytest.raises(ValueError, match=r"more than once: \[3\]"):
        ranking_scores(pd.DataFrame({"subject": [3, 3, 4], "bal_acc": [0.1, 0.2, 0.3]}))
    with pytest.raises(ValueError, match=r"no finite 'bal_acc' for users \[4\]"):
        ranking_scores({3: 0.5, 4: float("nan")})
    with pytest.raises(ValueError, match="lacks columns"):
        ranking_scores(pd.DataFrame({"user": [1], "bal_acc": [0.5]}))
    with pytest.raises(ValueError, match="unknown ordering"):
        user_order(RANKING, "median")
    assert ranking_scores({4: 0.2, 1: 0.9}).index.tolist() == [1, 4]


def test_incremental_index_keeps_the_first_r_repetitions_of_the_selected_users(store):
    full = build_window_index(iter_store(store, [0, 1, 2]), "raw", 40, 10, 1)
    subset, adapted = incremental_index(full, store, [2, 0], 23)
    assert subset.subjects().tolist() == [0, 2] and adapted == {}
    for user in (0, 2):
        reps = read_reps(store / f"subject{user:04d}.h5")
        ordinals = repetition_ordinals(reps, (0, 1))
        rows = set(subset.rep[subset.subject == user].tolist())
        expected = set(np.flatnonzero(np.isin(reps["label"], USED_CLASSES) & (ordinals >= 0) & (ordinals < 23)))
        assert rows == expected and len(rows) == 23 * len(USED_CLASSES)
        assert np.count_nonzero(subset.subject == user) == PER_REP * len(rows)  # no window of them lost
        assert (reps["block"].to_numpy()[sorted(rows)] == 1).sum() == 3 * len(USED_CLASSES)
    # the windows are those of the full index, in its order
    keys = set(zip(full.subject.tolist(), full.start.tolist()))
    assert set(zip(subset.subject.tolist(), subset.start.tolist())) <= keys
    assert (np.diff(subset.subject) >= 0).all() and subset.window == full.window and subset.stride == full.stride


def test_incremental_index_clips_r_per_user_and_names_foreign_users(store):
    full = build_window_index(iter_store(store, [0, 1, 2]), "raw", 40, 10, 1)
    with pytest.warns(SettingAdapted, match="subject 2: n_reps=40"):
        subset, adapted = incremental_index(full, store, [1, 2], 40)
    assert list(adapted) == [2] and adapted[2]["used"] == 32
    assert np.count_nonzero(subset.subject == 1) == 40 * 5 * PER_REP
    assert np.count_nonzero(subset.subject == 2) == 32 * 5 * PER_REP
    with pytest.raises(ValueError, match=r"users \[3\] have no windows"):
        incremental_index(full, store, [0, 3], 5)
