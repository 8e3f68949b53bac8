"""Pattern-component reconstructions, their heat maps and the gesture correlation matrix."""

import numpy as np
import pytest
import torch
from torch import nn

from emgcore.disentangle.heatmaps import (
    gesture_means,
    mean_subject_code,
    pattern_component,
    pattern_heatmaps,
    plot_correlation_matrix,
    plot_heatmaps,
    reconstruction_correlation,
)

torch.set_num_threads(1)

M, H, W, DP, DS = 2, 3, 4, 5, 3


class StandIn(nn.Module):
    """Linear dual encoder / additive decoder with the DisentangleModel interface; records decode's s."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.pattern = nn.Linear(M * H * W, DP)
        self.subject = nn.Linear(M * H * W, DS)
        self.from_p = nn.Linear(DP, M * H * W)
        self.from_s = nn.Linear(DS, M * H * W, bias=False)
        self.seen_s = []

    def encode_pattern(self, x):
        return self.pattern(x.flatten(1))

    def encode_subject(self, x):
        return self.subject(x.flatten(1))

    def decode(self, p, s):
        self.seen_s.append(s.detach().clone())
        return (self.from_p(p) + self.from_s(s)).reshape(-1, M, H, W)


@pytest.fixture
def model():
    return StandIn()


@pytest.fixture
def windows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(30, M, H, W)).astype(np.float32)


def test_zero_mode_feeds_zeros_as_subject_code(model, windows):
    out = pattern_component(model, windows, mode="zero")
    assert isinstance(out, np.ndarray) and out.shape == (30, M, H, W)
    s = model.seen_s[-1]
    assert s.shape == (30, DS) and torch.count_nonzero(s) == 0
    with torch.no_grad():
        expected = model.from_p(model.encode_pattern(torch.as_tensor(windows))).reshape(-1, M, H, W)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-6)
    as_tensor = pattern_component(model, torch.as_tensor(windows))
    assert isinstance(as_tensor, torch.Tensor)
    np.testing.assert_allclose(as_tensor.numpy(), out, rtol=1e-6)


def test_mean_mode_feeds_the_mean_training_subject_code(model, windows):
    s_mean = mean_subject_code(model, windows, batch_size=7)
    with torch.no_grad():
        np.testing.assert_allclose(
            s_mean, model.encode_subject(torch.as_tensor(windows)).mean(0).numpy(), rtol=1e-5, atol=1e-6
        )
    pattern_component(model, windows[:4], mode="mean", s_mean=s_mean)
    fed = model.seen_s[-1].numpy()
    assert fed.shape == (4, DS)
    np.testing.assert_allclose(fed, np.tile(s_mean, (4, 1)), rtol=1e-6)
    with pytest.raises(ValueError, match="needs s_mean"):
        pattern_component(model, windows, mode="mean")
    with pytest.raises(ValueError, match="shape"):
        pattern_component(model, windows, mode="mean", s_mean=np.zeros(DS + 1))
    with pytest.raises(ValueError, match="unknown mode"):
        pattern_component(model, windows, mode="drop")


def test_training_mode_is_restored(model, windows):
    model.train()
    pattern_component(model, windows)
    assert model.training
    model.eval()
    pattern_component(model, windows)
    assert not model.training


def test_heatmaps_average_each_gesture_subject_cell(model, windows):
    gesture = np.repeat([0, 1, 2], 10)
    subject = np.tile([4, 5], 15)
    maps = pattern_heatmaps(model, windows, gesture, subject, plane=1, batch_size=4)  # cells span batches
    assert set(maps) == {(g, s) for g in range(3) for s in (4, 5)}
    full = pattern_component(model, windows)
    for (g, s), m in maps.items():
        assert m.shape == (H, W)
        np.testing.assert_allclose(m, full[(gesture == g) & (subject == s), 1].mean(axis=0), rtol=1e-5, atol=1e-6)
    averaged = pattern_heatmaps(model, windows, gesture, subject, plane=None)
    np.testing.assert_allclose(
        averaged[(0, 4)], full[(gesture == 0) & (subject == 4)].mean(axis=(0, 1)), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="one label per window"):
        pattern_heatmaps(model, windows, gesture[:-1], subject)
    with pytest.raises(ValueError, match="plane"):
        pattern_heatmaps(model, windows, gesture, subject, plane=M)


def test_gesture_means_weigh_subjects_equally():
    maps = {(0, 1): np.zeros((2, 2)), (0, 2): np.full((2, 2), 2.0), (1, 1): np.ones((2, 2))}
    means = gesture_means(maps)
    assert list(means) == [0, 1]
    np.testing.assert_array_equal(means[0], np.ones((2, 2)))


def test_correlation_matrix_is_symmetric_with_unit_diagonal():
    rng = np.random.default_rng(1)
    maps = {g: rng.normal(size=(H, W)) for g in (3, 1, 2, 0)}
    maps[2] = 2 * maps[1] + 1  # perfectly correlated with gesture 1
    C = reconstruction_correlation(maps)
    assert C.shape == (4, 4)
    np.testing.assert_array_equal(C, C.T)
    np.testing.assert_array_equal(np.diag(C), np.ones(4))
    assert C[1, 2] == pytest.approx(1.0)  # dict order: 3, 1, 2, 0
    np.testing.assert_allclose(C, np.corrcoef(np.stack([m.ravel() for m in maps.values()])), atol=1e-12)
    with pytest.raises(ValueError, match="constant"):
        reconstruction_correlation([np.ones((H, W)), rng.normal(size=(H, W))])
    with pytest.raises(ValueError, match="at least 2"):
        reconstruction_correlation([rng.normal(size=(H, W))])


def _assert_png(path):
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp files left


@pytest.mark.parametrize("grid_shape, size", [((1, 8), 8), ((2, 3), 6)])
def test_heatmap_grid_is_written_for_armband_and_matrix_layouts(tmp_path, grid_shape, size):
    rng = np.random.default_rng(2)
    maps = {(g, s): rng.normal(size=size) for g in range(3) for s in (0, 1)}
    del maps[(2, 1)]  # a missing cell leaves an empty panel
    out = plot_heatmaps(maps, tmp_path / "maps.png", gesture_names=["rest", "fist", "open"], grid_shape=grid_shape)
    _assert_png(out)
    with pytest.raises(ValueError, match="grid_shape"):
        plot_heatmaps(maps, tmp_path / "bad.png", grid_shape=(4, 4))
    with pytest.raises(ValueError, match="no entry"):
        plot_heatmaps(maps, tmp_path / "bad.png", gesture_names=["rest"], grid_shape=grid_shape)


def test_heatmaps_and_correlation_from_a_model_end_to_end(model, windows, tmp_path):
    gesture = np.repeat([0, 1, 2], 10)
    subject = np.tile([0, 1], 15)
    maps = pattern_heatmaps(model, windows, gesture, subject, mode="mean", s_mean=mean_subject_code(model, windows))
    _assert_png(plot_heatmaps(maps, tmp_path / "heat.png"))
    C = reconstruction_correlation(gesture_means(maps))
    _assert_png(plot_correlation_matrix(C, ["a", "b", "c"], tmp_path / "corr.png"))
    with pytest.raises(ValueError, match="names"):
        plot_correlation_matrix(C, ["a", "b"], tmp_path / "corr2.png")
