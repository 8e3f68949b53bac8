"""The eleven training losses, their registry and the MHCNN_GRL adversarial model."""

import math

import pytest
import torch
import torch.nn.functional as F

from emgcore.cross.losses import LOSSES, build_loss, known_losses, loss_needs
from emgcore.models import MHCNN, MHCNN_GRL, build_model, model_spec
from emgcore.models.mhcnn_grl import gradient_reversal

torch.set_num_threads(1)

K, D = 5, 16


def random_batch(b=24, n_subjects=4, seed=0, requires_grad=True):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(b, K, generator=g).requires_grad_(requires_grad)
    labels = torch.arange(b) % K
    embeddings = torch.randn(b, D, generator=g).requires_grad_(requires_grad)
    subjects = torch.arange(b) % n_subjects + 10
    return logits, labels, embeddings, subjects


def grl_model(subject_ids=(10, 11, 12, 13), **kwargs):
    torch.manual_seed(0)
    return build_model("mhcnn_grl", subject_ids=list(subject_ids), embedding_dim=D, **kwargs)


def make(name, **params):
    return build_loss(name, model=grl_model() if name == "grl" else None, **params)


# ---------------------------------------------------------------------------------------------
# registry


def test_registry_names_and_needs():
    assert known_losses() == sorted(["base", "rest", "act", "cvar", "std", "sbj", "proto", "1va", "ang", "grl", "trp"])
    assert loss_needs("grl") == {"model": "mhcnn_grl"}
    assert loss_needs("trp") == {"sampler": "users_per_class"}
    assert loss_needs("base") == {}


def test_build_loss_rejects_bad_names_params_and_models():
    with pytest.raises(ValueError, match="known losses: 1va, act"):
        build_loss("nope")
    with pytest.raises(ValueError, match="unknown parameters"):
        build_loss("cvar", beta=0.3)
    with pytest.raises(ValueError, match="alpha"):
        build_loss("cvar", alpha=0.0)
    with pytest.raises(ValueError, match="must be built with its model"):
        build_loss("grl")
    with pytest.raises(ValueError, match="mhcnn_grl"):
        build_loss("grl", model=MHCNN())


def test_inputs_are_checked():
    logits, labels, embeddings, subjects = random_batch()
    loss = build_loss("base")
    with pytest.raises(ValueError, match="labels"):
        loss(logits, labels[:-1], embeddings, subjects)
    with pytest.raises(ValueError, match="integer"):
        loss(logits, labels.float(), embeddings, subjects)
    with pytest.raises(ValueError, match="embeddings"):
        loss(logits, labels, embeddings[:, 0], subjects)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_is_finite_scalar_and_backpropagates(name):
    logits, labels, embeddings, subjects = random_batch()
    value = make(name)(logits, labels, embeddings, subjects)
    assert value.ndim == 0 and torch.isfinite(value)
    value.backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0
    assert embeddings.grad is None or torch.isfinite(embeddings.grad).all()


# ---------------------------------------------------------------------------------------------
# logit-based losses


def test_base_equals_cross_entropy():
    logits, labels, embeddings, subjects = random_batch()
    torch.testing.assert_close(make("base")(logits, labels, embeddings, subjects), F.cross_entropy(logits, labels))


def test_rest_penalises_false_activation_and_confusion_with_exact_value():
    labels = torch.tensor([0, 0, 2])
    logits = torch.tensor([[2.0, 0, 0, 0, 0], [0, 3.0, 0, 0, 0], [0, 0.5, 1.0, 0, 0.2]])
    emb, subj = torch.zeros(3, 2), torch.zeros(3, dtype=torch.long)
    p = logits.softmax(1)
    expected = (
        F.cross_entropy(logits, labels)
        + 2.0 * ((1 - p[0, 0]) + (1 - p[1, 0])) / 2
        + 3.0 * (p[2, 1] + p[2, 3] + p[2, 4])
    )
    value = make("rest", w_rest=2.0, w_conf=3.0)(logits, labels, emb, subj)
    torch.testing.assert_close(value, expected)
    assert value > F.cross_entropy(logits, labels)


def test_rest_equals_base_for_perfect_one_hot_predictions():
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    logits = 60.0 * F.one_hot(labels, K).float()
    emb, subj = torch.zeros(6, 2), torch.zeros(6, dtype=torch.long)
    assert make("rest")(logits, labels, emb, subj).item() == make("base")(logits, labels, emb, subj).item()


def test_act_weights_active_samples_more():
    labels = torch.tensor([0, 1])
    # symmetric logits: both samples have the same cross-entropy
    logits = torch.tensor([[0.0, 1.0, 0, 0, 0], [1.0, 0.0, 0, 0, 0]], requires_grad=True)
    emb, subj = torch.zeros(2, 2), torch.zeros(2, dtype=torch.long)
    value = make("act", w=3.0)(logits, labels, emb, subj)
    ce = F.cross_entropy(logits, labels, reduction="none")
    torch.testing.assert_close(ce[0], ce[1])
    torch.testing.assert_close(value, (ce[0] + 3 * ce[1]) / 4)
    value.backward()
    rest_grad, active_grad = logits.grad.norm(dim=1)
    torch.testing.assert_close(active_grad / rest_grad, torch.tensor(3.0))


def test_cvar_is_mean_of_hardest_and_ignores_easy_samples():
    logits, labels, embeddings, subjects = random_batch(b=10)
    value = make("cvar", alpha=0.3)(logits, labels, embeddings, subjects)
    ce = F.cross_entropy(logits, labels, reduction="none").detach()
    hardest = ce.argsort(descending=True)[:3]  # ceil(0.3 * 10)
    torch.testing.assert_close(value, ce[hardest].mean())
    value.backward()
    touched = logits.grad.abs().sum(dim=1) > 0
    assert set(touched.nonzero().flatten().tolist()) == set(hardest.tolist())
    # at least one sample even for a tiny alpha
    torch.testing.assert_close(make("cvar", alpha=1e-6)(logits, labels, embeddings, subjects), ce.max())


def test_std_is_ce_for_equal_subjects_and_grows_with_spread():
    loss = make("std", lam=1.0)
    row = torch.randn(4, K)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    logits = torch.cat([row, row])
    emb = torch.zeros(8, 2)
    subjects = torch.tensor([1, 1, 1, 1, 2, 2, 2, 2])
    ce = F.cross_entropy(logits, labels)
    torch.testing.assert_close(loss(logits, labels, emb, subjects), ce)  # equal per-subject losses
    torch.testing.assert_close(loss(logits, labels, emb, torch.zeros(8, dtype=torch.long)), ce)

    spreads = []
    for scale in (0.5, 2.0, 4.0):  # subject 2's logits grow more confident (wrong or right)
        other = torch.cat([row, scale * row])
        per_subject = F.cross_entropy(other, labels, reduction="none").view(2, 4).mean(1)
        spread = loss(other, labels, emb, subjects) - F.cross_entropy(other, labels)
        torch.testing.assert_close(spread, (per_subject[0] - per_subject[1]).abs() / 2)
        spreads.append(spread.item())
    var = make("std", lam=1.0, statistic="var")(logits, labels, emb, subjects)
    torch.testing.assert_close(var, ce)
    assert spreads[0] > 0
    assert len(set(spreads)) == 3


def test_std_gradient_is_finite_at_zero_spread():
    row = torch.randn(2, K)
    logits = torch.cat([row, row]).requires_grad_()
    labels = torch.tensor([0, 1, 0, 1])
    make("std")(logits, labels, torch.zeros(4, 2), torch.tensor([0, 0, 1, 1])).backward()
    assert torch.isfinite(logits.grad).all()


def test_sbj_is_driven_by_the_worst_subject():
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    logits = torch.tensor(
        [
            [2.0, 0, 0, 0, 0],
            [0, 2.0, 0, 0, 0],  # subject 0: easy
            [0, 1.0, 0, 0, 0],
            [1.0, 0, 0, 0, 0],  # subject 1: worst
            [1.0, 0, 0, 0, 0],
            [0, 1.0, 0, 0, 0],
        ],
        requires_grad=True,
    )
    subjects = torch.tensor([0, 0, 1, 1, 2, 2])
    value = make("sbj", w_worst=2.0)(logits, labels, torch.zeros(6, 2), subjects)
    per_subject = F.cross_entropy(logits, labels, reduction="none").view(3, 2).mean(1)
    torch.testing.assert_close(value, per_subject.mean() + 2.0 * per_subject.max())
    value.backward()
    # dL/dce_i = (1/2) * (1/3 + 2 * [i in worst subject]): 7/6 for subject 1, 1/6 for the others
    ce_grad = (logits.softmax(1) - F.one_hot(labels, K)).detach()  # d ce_i / d logits_i
    weight = (logits.grad * ce_grad).sum(1) / ce_grad.pow(2).sum(1)
    torch.testing.assert_close(weight, torch.tensor([1, 1, 7, 7, 1, 1]) / 6.0)


# ---------------------------------------------------------------------------------------------
# embedding-based losses


def test_proto_is_ce_when_embeddings_equal_their_class_mean():
    logits, labels, _, subjects = random_batch(requires_grad=False)
    centres = torch.randn(K, D)
    loss = make("proto", w=0.5)
    ce = F.cross_entropy(logits, labels)
    torch.testing.assert_close(loss(logits, labels, centres[labels], subjects), ce)
    spread = centres[labels] + torch.randn(len(labels), D)
    expected_scatter = sum((spread[labels == c] - spread[labels == c].mean(0)).pow(2).sum() for c in range(K)) / len(
        labels
    )
    torch.testing.assert_close(loss(logits, labels, spread, subjects), ce + 0.5 * expected_scatter)


def test_1va_small_for_separated_classes_large_for_overlapping():
    logits, labels, _, subjects = random_batch(requires_grad=False)
    loss = make("1va")
    ce = F.cross_entropy(logits, labels)
    g = torch.Generator().manual_seed(3)
    noise = 0.05 * torch.randn(len(labels), D, generator=g)
    separated = 10.0 * torch.eye(K, D)[labels] + noise
    overlapping = noise
    small = (loss(logits, labels, separated, subjects) - ce).item()
    large = (loss(logits, labels, overlapping, subjects) - ce).item()
    assert small < 1e-3
    assert large > 0.5 * math.log(K)


def test_ang_is_scale_invariant_and_rewards_aligned_classes():
    logits, labels, embeddings, subjects = random_batch(requires_grad=False)
    loss = make("ang")
    torch.testing.assert_close(
        loss(logits, labels, embeddings, subjects), loss(logits, labels, 7.5 * embeddings, subjects)
    )
    aligned = torch.eye(K, D)[labels] + 0.01 * embeddings
    assert loss(logits, labels, aligned, subjects) < loss(logits, labels, embeddings, subjects) - 1.0


def test_ang_term_is_zero_without_positive_pairs():
    logits, _, embeddings, subjects = random_batch(b=K, requires_grad=False)
    labels = torch.arange(K)  # every class once: no anchor has a positive
    torch.testing.assert_close(make("ang")(logits, labels, embeddings, subjects), F.cross_entropy(logits, labels))


def triplet_example():
    """Six hand-placed 2-D points: classes 0/1, users A=0/B=1 (see the test for the picks)."""
    embeddings = torch.tensor(
        [
            [0.0, 0.0],
            [1.0, 0.0],
            [3.0, 0.0],  # class 0: A, B, B
            [0.0, 2.0],
            [0.0, 0.5],
            [2.0, 2.0],
        ]
    )  # class 1: A, A, B
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    subjects = torch.tensor([0, 1, 1, 0, 0, 1])
    return embeddings, labels, subjects


def test_trp_semihard_uses_only_negatives_beyond_the_hardest_positive():
    embeddings, labels, subjects = triplet_example()
    loss = build_loss("trp", margin=1.5, normalize=False)  # mining="semihard" is the default
    # only anchor 1 has a same-user negative (5, at sqrt5) farther than its hardest positive (0, at 1); every
    # other anchor's same-user negatives are closer than its positive, so it is skipped (batch-hard uses them)
    expected = 1.0 - math.sqrt(5.0) + 1.5
    assert loss.triplet_term(labels, embeddings, subjects).item() == pytest.approx(expected, rel=1e-5)
    assert build_loss("trp", margin=0.3, normalize=False).triplet_term(labels, embeddings, subjects).item() == 0.0


def test_trp_batch_hard_picks_hardest_cross_user_positive_and_same_user_negative():
    embeddings, labels, subjects = triplet_example()
    loss = build_loss("trp", margin=0.3, normalize=False, mining="hard")
    r5 = math.sqrt(5.0)
    # anchor: (hardest positive of another user) - (nearest negative of the same user) + margin
    hinges = [
        3.0 - 0.5 + 0.3,  # 0: pos 2 (not 1), neg 4 (not 3)
        0.0,  # 1: pos 0 at 1; neg 5 at sqrt5 (not 4: other user; 2: same class)
        3.0 - r5 + 0.3,  # 2: pos 0, neg 5
        2.0 - 2.0 + 0.3,  # 3: pos 5, neg 0
        2.5 - 0.5 + 0.3,  # 4: pos 5, neg 0
        2.5 - r5 + 0.3,
    ]  # 5: pos 4 (not 3), neg 1 or 2
    expected = sum(hinges) / 6
    term = loss.triplet_term(labels, embeddings, subjects)
    assert term.item() == pytest.approx(expected, rel=1e-5)
    logits = torch.randn(6, 2)
    torch.testing.assert_close(loss(logits, labels, embeddings, subjects), F.cross_entropy(logits, labels) + term)
    # an anchor of a third user with a class nobody else has is skipped (no positive/negative)
    more = loss.triplet_term(
        torch.cat([labels, torch.tensor([2])]),
        torch.cat([embeddings, torch.tensor([[9.0, 9.0]])]),
        torch.cat([subjects, torch.tensor([7])]),
    )
    assert more.item() == pytest.approx(expected, rel=1e-5)


def test_trp_is_zero_without_valid_triplets_and_normalises_by_default():
    embeddings, labels, subjects = triplet_example()
    loss = build_loss("trp")
    assert loss.triplet_term(labels, embeddings, torch.zeros(6, dtype=torch.long)).item() == 0.0
    torch.testing.assert_close(
        loss.triplet_term(labels, embeddings + 1, subjects), loss.triplet_term(labels, 4 * (embeddings + 1), subjects)
    )


# ---------------------------------------------------------------------------------------------
# MHCNN_GRL and the grl loss


def test_mhcnn_grl_shapes_registry_and_rebuild():
    model = grl_model(grl_lambda=0.5).eval()
    x = torch.randint(-128, 128, (3, 8, 40)).float()
    logits, embedding = model(x)
    assert logits.shape == (3, 5) and embedding.shape == (3, D)
    assert model.user_logits(embedding).shape == (3, 4)
    spec = model_spec(model)
    assert spec["name"] == "mhcnn_grl" and spec["kwargs"]["subject_ids"] == [10, 11, 12, 13]
    rebuilt = build_model(spec["name"], **spec["kwargs"]).eval()
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt(x)[0], logits)
    assert model.subject_index(torch.tensor([12, 10, 3, 99, -1])).tolist() == [2, 0, -1, -1, -1]
    with pytest.raises(ValueError, match="at least 2"):
        MHCNN_GRL(subject_ids=[4])


def test_gradient_reversal_flips_and_scales_the_user_gradient():
    model = grl_model(grl_lambda=0.7)
    embedding = torch.randn(6, D, requires_grad=True)
    users = torch.tensor([0, 1, 2, 3, 0, 1])
    F.cross_entropy(model.user_logits(embedding), users).backward()
    reversed_grad = embedding.grad.clone()
    embedding.grad = None
    F.cross_entropy(model.user_classifier(embedding), users).backward()  # no reversal
    torch.testing.assert_close(reversed_grad, -0.7 * embedding.grad)
    x = torch.randn(3, requires_grad=True)
    gradient_reversal(x, 2.0).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((3,), -2.0))


def test_grl_loss_value_and_unknown_subjects():
    model = grl_model()
    loss = build_loss("grl", model=model, lambda_user=0.25)
    logits, labels, embeddings, _ = random_batch(b=6)
    subjects = torch.tensor([10, 11, 12, 13, 10, 500])  # 500: not a training user
    user_ce = F.cross_entropy(model.user_logits(embeddings[:5]), torch.tensor([0, 1, 2, 3, 0]))
    torch.testing.assert_close(
        loss(logits, labels, embeddings, subjects), F.cross_entropy(logits, labels) + 0.25 * user_ce
    )
    unknown = torch.full((6,), 500)
    torch.testing.assert_close(loss(logits, labels, embeddings, unknown), F.cross_entropy(logits, labels))


def test_grl_training_steps_reduce_the_gesture_loss():
    torch.manual_seed(0)
    model = build_model("mhcnn_grl", subject_ids=[0, 1], dropout=0.0)
    labels = torch.tensor([0, 1, 2, 3, 4] * 2)
    subjects = torch.tensor([0] * 5 + [1] * 5)
    levels = torch.tensor([-100.0, -50.0, 0.0, 50.0, 100.0])
    x = levels[labels][:, None, None].expand(10, 8, 40) + torch.randn(10, 8, 40)
    loss = build_loss("grl", model=model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

    def gesture_ce():
        with torch.no_grad():
            return F.cross_entropy(model(x)[0], labels).item()

    before = gesture_ce()
    for _ in range(30):
        logits, embedding = model(x)
        optimizer.zero_grad()
        loss(logits, labels, embedding, subjects).backward()
        optimizer.step()
    assert gesture_ce() < 0.5 * before
    assert model.user_classifier[0].weight.grad is not None  # the user head is trained too


def test_semihard_triplet_keeps_indistinguishable_windows_from_collapsing_the_embedding():
    """Most windows look alike whatever their label (the rest-like part of raw gesture repetitions). Batch-hard
    negatives are then at distance 0, so the hinge only falls by shrinking every distance: the embedding
    collapses (spread -> 0, term stuck at the margin). Semi-hard negatives never use a negative closer than
    the positive, and the classes stay apart."""
    from emgcore.cross.losses import CrossUserTriplet

    torch.manual_seed(0)
    n, dim = 400, 8
    labels, subjects = torch.arange(n) % 5, (torch.arange(n) // 5) % 8
    patterns = torch.randn(6, dim) * 3
    restlike = torch.rand(n) < 0.6
    x = torch.where(restlike[:, None], patterns[5], patterns[labels]) + 0.3 * torch.randn(n, dim)
    spreads = {}
    for mining in ("hard", "semihard"):
        torch.manual_seed(1)
        net = torch.nn.Sequential(torch.nn.Linear(dim, 32), torch.nn.ReLU(), torch.nn.Linear(32, 16))
        opt = torch.optim.Adam(net.parameters(), lr=3e-3)
        loss = CrossUserTriplet(mining=mining)
        for _ in range(300):
            opt.zero_grad()
            loss.triplet_term(labels, net(x), subjects).backward()
            opt.step()
        with torch.no_grad():
            z = torch.nn.functional.normalize(net(x[~restlike]), dim=1)
            spreads[mining] = torch.cdist(z, z).mean().item()
    assert spreads["hard"] < 0.05 and spreads["semihard"] > 0.5
    with pytest.raises(ValueError, match="mining"):
        CrossUserTriplet(mining="batch-all")
