"""Rotation-equivariant MHCNN: identical logits under whole-electrode rolls, shapes, gradients, settings."""

import pytest
import torch

from emgcore.models import MHCNN
from emgcore.models.mhcnn_eq import EquivariantMHCNN


def windows(n=4, w=40, seed=0):
    return torch.randint(-128, 128, (n, 8, w), generator=torch.Generator().manual_seed(seed)).float()


def structured_windows():
    """Window n is active on channels 0..n only: no window is a rotation of another."""
    x = windows()
    for n in range(4):
        x[n, n + 1 :] = 0
    return x


@pytest.mark.parametrize("ring_pool", ["mean", "max"])
def test_logits_and_embedding_are_identical_for_every_whole_rotation(ring_pool):
    torch.manual_seed(0)
    model = EquivariantMHCNN(ring_pool=ring_pool).eval()
    x = structured_windows()
    with torch.no_grad():
        logits, embedding = model(x)
        deviation = 0.0
        for k in range(8):
            rolled_logits, rolled_embedding = model(torch.roll(x, k, dims=1))
            torch.testing.assert_close(rolled_logits, logits, rtol=0, atol=1e-5)
            torch.testing.assert_close(rolled_embedding, embedding, rtol=0, atol=1e-5)
            deviation = max(deviation, (rolled_logits - logits).abs().max().item())
        # the tolerance is meaningful: a non-rotation permutation moves the (untrained, small) logits far more
        swapped = model(x[:, [1, 0, 2, 3, 4, 5, 6, 7]])[0]
        assert (swapped - logits).abs().max().item() > 1000 * max(deviation, 1e-9)
        assert logits.std(dim=0).max() > 1e-4  # the windows get different logits: not a constant model


def test_ring_features_roll_with_the_input_and_other_permutations_change_logits():
    torch.manual_seed(1)
    model = EquivariantMHCNN().eval()
    x = windows(2)
    with torch.no_grad():
        features = model.ring_features(x)
        torch.testing.assert_close(model.ring_features(torch.roll(x, 3, dims=1)), torch.roll(features, 3, dims=2))
        swapped = x[:, [1, 0, 2, 3, 4, 5, 6, 7]]  # not a rotation: neighbourhoods change
        assert not torch.allclose(model(swapped)[0], model(x)[0], atol=1e-4)
        assert not torch.allclose(model(torch.flip(x, dims=[2]))[0], model(x)[0], atol=1e-4)


def test_mhcnn_itself_is_not_invariant():
    torch.manual_seed(0)
    model = MHCNN().eval()
    x = windows()
    with torch.no_grad():
        assert not torch.allclose(model(torch.roll(x, 1, dims=1))[0], model(x)[0], atol=1e-4)


def test_output_shapes_and_signature_mirror_mhcnn():
    model = EquivariantMHCNN(n_classes=3, window=24, embedding_dim=16, dropout=0.0, ring_kernel=5)
    logits, embedding = model(torch.zeros(2, 8, 24))
    assert logits.shape == (2, 3) and embedding.shape == (2, 16)
    reference_logits, reference_embedding = MHCNN(n_classes=3, window=24, embedding_dim=16)(torch.zeros(2, 8, 24))
    assert reference_logits.shape == logits.shape and reference_embedding.shape == embedding.shape
    assert model.init_kwargs == dict(
        n_channels=8,
        n_classes=3,
        window=24,
        dropout=0.0,
        embedding_dim=16,
        ring_kernel=5,
        ring_pool="mean",
        head_channels=8,
        fusion_channels=32,
    )
    rebuilt = EquivariantMHCNN(**model.init_kwargs)
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt.eval()(windows(2, 24))[0], model.eval()(windows(2, 24))[0])
    assert model(torch.zeros(1, 8, 100))[0].shape == (1, 3)  # other window lengths work, as for MHCNN


def test_gradients_reach_every_parameter():
    torch.manual_seed(2)
    model = EquivariantMHCNN(dropout=0.1).train()
    logits, embedding = model(windows(6))
    loss = torch.nn.functional.cross_entropy(logits, torch.arange(6) % 5) + embedding.pow(2).mean()
    loss.backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().sum() > 0, name


def test_bad_settings_and_inputs_raise():
    with pytest.raises(ValueError, match="ring_kernel must be odd"):
        EquivariantMHCNN(ring_kernel=2)
    with pytest.raises(ValueError, match="ring_kernel must be odd and between 1 and n_channels=4"):
        EquivariantMHCNN(n_channels=4, ring_kernel=5)
    with pytest.raises(ValueError, match="ring_pool='sum'"):
        EquivariantMHCNN(ring_pool="sum")
    with pytest.raises(ValueError, match="window >= 4"):
        EquivariantMHCNN(window=3)
    with pytest.raises(ValueError, match=r"\(B, 8, W\)"):
        EquivariantMHCNN()(torch.zeros(2, 7, 40))
    with pytest.raises(ValueError, match="shorter than 4"):
        EquivariantMHCNN()(torch.zeros(2, 8, 3))


def test_registered_as_mhcnn_eq_and_trains_through_the_registry():
    from emgcore.models import build_model, model_spec

    model = build_model("mhcnn_eq", window=40, dropout=0.1, head_channels=4, fusion_channels=8)
    assert isinstance(model, EquivariantMHCNN) and model_spec(model)["name"] == "mhcnn_eq"
    assert model_spec(model)["kwargs"]["fusion_channels"] == 8
    with pytest.raises(ValueError, match="head_channels"):
        EquivariantMHCNN(head_channels=0)
