"""Raw-window baselines (CNN, LSTM, Transformer) and hand-crafted-feature models (MLP, LSTM_HCF, CNN_HCF)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emgcore.models import build_model, known_models, model_spec
from emgcore.models.baselines import CNN, Transformer
from emgcore.models.hcf import MLP, feature_mode, hcf_kwargs

torch.set_num_threads(1)

RAW = ("cnn", "lstm", "transformer")
HCF = ("mlp", "lstm_hcf", "cnn_hcf")
N_FEATURES = 32


def make(name: str, **kwargs):
    torch.manual_seed(0)
    if name in HCF:
        kwargs.setdefault("n_features", N_FEATURES)
    return build_model(name, **kwargs)


def inputs(name: str, batch: int = 10, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if name in RAW:
        return torch.randint(-128, 128, (batch, 8, 40), generator=g).float()
    if name == "mlp":
        return torch.randn(batch, N_FEATURES, generator=g) * 20 + 50
    return torch.randn(batch, 4, N_FEATURES, generator=g) * 20 + 50


def test_all_names_registered():
    assert set(RAW + HCF) <= set(known_models())


@pytest.mark.parametrize("name", RAW + HCF)
def test_output_shapes(name):
    model = make(name, embedding_dim=24).eval()
    logits, embedding = model(inputs(name, batch=6))
    assert logits.shape == (6, 5) and embedding.shape == (6, 24)
    assert torch.isfinite(logits).all() and torch.isfinite(embedding).all()


@pytest.mark.parametrize("name", RAW + HCF)
def test_rebuild_from_spec_gives_identical_outputs(name):
    kwargs = {}
    if name in HCF:  # non-trivial scaling buffers must travel in the state_dict
        shape = (N_FEATURES,)
        kwargs = dict(feature_mean=np.full(shape, 50.0), feature_std=np.full(shape, 20.0))
    model = make(name, **kwargs).eval()
    spec = model_spec(model)
    assert spec["name"] == name
    torch.manual_seed(123)  # a different init: only load_state_dict can make outputs agree
    rebuilt = build_model(spec["name"], **spec["kwargs"]).eval()
    x = inputs(name)
    assert not torch.allclose(rebuilt(x)[0], model(x)[0])
    rebuilt.load_state_dict(model.state_dict())
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)


@pytest.mark.parametrize("name", RAW + HCF)
def test_a_few_steps_reduce_loss_on_separable_batch(name):
    model = make(name, dropout=0.0)
    x = inputs(name, batch=40, seed=1)
    y = torch.arange(40) % 5
    if name in RAW:
        x = x * 0.3 + (y * 20 - 40).float().view(-1, 1, 1)  # class-dependent offset in ADC units
    else:
        x = x + (y * 10).float().view(*([-1] + [1] * (x.ndim - 1)))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    losses = []
    for _ in range(25):
        logits, _ = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0]


def test_raw_models_divide_input_by_128():
    torch.manual_seed(0)
    model = CNN(dropout=0.0).eval()
    x = torch.randint(-128, 128, (3, 8, 40)).float()
    expected = model.head(model.features(x / 128.0))
    torch.testing.assert_close(model(x), expected)


def test_hcf_models_standardise_with_buffers():
    rng = np.random.default_rng(0)
    train = rng.normal(50, 20, size=(200, 4, N_FEATURES)).astype(np.float32)
    kwargs = hcf_kwargs(train)
    assert kwargs["n_features"] == N_FEATURES and kwargs["n_subwindows"] == 4
    torch.manual_seed(0)
    scaled = build_model("cnn_hcf", **kwargs).eval()
    torch.manual_seed(0)
    plain = build_model("cnn_hcf", n_features=N_FEATURES).eval()
    x = torch.from_numpy(train[:5])
    z = (x - torch.from_numpy(kwargs["feature_mean"])) / torch.from_numpy(kwargs["feature_std"])
    torch.testing.assert_close(scaled(x), plain(z))
    assert {"feature_mean", "feature_std"} <= set(scaled.state_dict())
    assert "feature_mean" not in model_spec(scaled)["kwargs"]
    assert feature_mode("mlp") == "window" and feature_mode("lstm_hcf") == "subwindow"


def test_bad_shapes_and_args_raise():
    with pytest.raises(ValueError, match=r"\(B, 8, W\)"):
        build_model("lstm")(torch.zeros(2, 7, 40))
    with pytest.raises(ValueError, match="40 samples"):
        Transformer()(torch.zeros(2, 8, 30))
    with pytest.raises(ValueError, match=r"\(B, 4, 32\)"):
        make("lstm_hcf")(torch.zeros(2, 32, 4))
    with pytest.raises(ValueError, match=r"\(B, 32\)"):
        MLP(N_FEATURES)(torch.zeros(2, 31))
    with pytest.raises(ValueError, match="dropout"):
        build_model("cnn", dropout=1.0)
    with pytest.raises(ValueError, match="32 values"):
        MLP(N_FEATURES, feature_mean=np.zeros(3))


def test_hcf_model_through_train_model_and_load_model(tmp_path):
    from torch.utils.data import DataLoader, TensorDataset

    from emgcore.cross.training import load_model, predict, train_model
    from tests.helpers.settings import training_settings

    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, 256)
    X = (rng.normal(50, 20, size=(256, 4, N_FEATURES)) + 10 * y[:, None, None]).astype(np.float32)
    dataset = TensorDataset(torch.from_numpy(X), torch.from_numpy(y), torch.from_numpy(rng.integers(0, 3, 256)))
    torch.manual_seed(0)
    model = build_model("lstm_hcf", **hcf_kwargs(X))
    settings = training_settings(lr=1e-3, max_epochs=2, max_train_batches_per_epoch=None, device="cpu")
    result = train_model(
        model,
        DataLoader(dataset, 64, shuffle=True, generator=torch.Generator().manual_seed(0)),
        DataLoader(dataset, 128),
        settings,
        tmp_path,
        seed=0,
        progress=False,
    )
    loaded = load_model(result.model_path)
    torch.testing.assert_close(loaded.feature_std, model.feature_std)
    loader = DataLoader(dataset, 128)
    np.testing.assert_array_equal(predict(loaded, loader)[1], predict(model, loader)[1])
