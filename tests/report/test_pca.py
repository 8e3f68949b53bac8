"""Per-epoch embeddings from checkpoints and the per-run PCA sheet."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from torch.utils.data import DataLoader, TensorDataset

from emgcore.models import build_model
from emgcore.report.pca import epoch_checkpoints, epoch_embeddings, epoch_number, pca_sheet, project_epochs


def fake_run(tmp_path, n_epochs=3):
    """A run folder with epochs/epoch_NNN.pt holding differently initialised small MHCNNs."""
    paths = []
    for epoch in range(1, n_epochs + 1):
        torch.manual_seed(epoch)
        model = build_model("mhcnn", embedding_dim=16)
        path = tmp_path / "run" / "epochs" / f"epoch_{epoch:03d}.pt"
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "state_dict": model.state_dict(),
                "epoch": epoch,
                "val_loss": 1.0,
                "model": {"name": "mhcnn", "kwargs": dict(model.init_kwargs)},
            },
            path,
        )
        paths.append(path)
    return paths


def window_loader(n=50, batch=16):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(-128, 128, (n, 8, 40), generator=g).float()
    y = torch.arange(n) % 5
    return DataLoader(TensorDataset(x, y, torch.zeros(n, dtype=torch.long)), batch_size=batch)


def test_epoch_embeddings_same_windows_per_checkpoint(tmp_path):
    paths = fake_run(tmp_path)
    assert epoch_checkpoints(tmp_path / "run") == paths and epoch_number(paths[-1]) == 3
    embeddings, labels = epoch_embeddings(paths, window_loader(), max_windows=37)
    assert len(embeddings) == 3 and all(e.shape == (37, 16) for e in embeddings)
    np.testing.assert_array_equal(labels, np.arange(37) % 5)  # first 37 windows, cut mid-batch
    assert not np.allclose(embeddings[0], embeddings[1])  # different weights, different embeddings
    again, _ = epoch_embeddings(paths[1:2], window_loader(), max_windows=37)
    np.testing.assert_array_equal(again[0], embeddings[1])  # deterministic (eval mode, no dropout)


def test_epoch_embeddings_bad_input(tmp_path):
    with pytest.raises(ValueError, match="at least one checkpoint"):
        epoch_embeddings([], window_loader(), max_windows=10)
    with pytest.raises(ValueError, match="max_windows"):
        epoch_embeddings(fake_run(tmp_path, 1), window_loader(), max_windows=0)
    with pytest.raises(FileNotFoundError, match="epoch_009"):
        epoch_embeddings([tmp_path / "epoch_009.pt"], window_loader(), max_windows=10)


def test_final_epoch_projection_equals_pca_fit_transform():
    rng = np.random.default_rng(0)
    epochs = [rng.normal(size=(60, 6)) * np.arange(1, 7) for _ in range(3)]
    projections, pca = project_epochs(epochs)
    np.testing.assert_allclose(projections[-1], PCA(n_components=2).fit_transform(epochs[-1]), atol=1e-9)
    # earlier epochs go through the final epoch's PCA, not one of their own
    np.testing.assert_allclose(projections[0], (epochs[0] - epochs[-1].mean(axis=0)) @ pca.components_.T)


def test_pca_sheet_written_and_bad_input(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.arange(40) % 5
    epochs = [rng.normal(size=(40, 8)) + labels[:, None] * k for k in range(5)]
    out = pca_sheet(epochs, labels, tmp_path / "sheets" / "run.png", "run", epoch_numbers=[1, 2, 3, 4, 5])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    assert [p.name for p in out.parent.iterdir()] == ["run.png"]
    with pytest.raises(ValueError, match="differ in shape across epochs"):
        pca_sheet([epochs[0], epochs[1][:30]], labels, tmp_path / "bad.png", "bad", [1, 2])
    with pytest.raises(ValueError, match="at least one epoch"):
        pca_sheet([], labels, tmp_path / "bad.png", "bad", [])
    with pytest.raises(ValueError, match="2 epoch numbers for 5"):
        pca_sheet(epochs, labels, tmp_path / "bad.png", "bad", [1, 2])
    with pytest.raises(ValueError, match=r"unknown gesture codes \[7\]"):
        pca_sheet(epochs, np.where(labels == 4, 7, labels), tmp_path / "bad.png", "bad")
    assert not (tmp_path / "bad.png").exists()
