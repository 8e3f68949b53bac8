"""MHCNN shapes, input scaling and the model registry."""

import pytest
import torch

from emgcore.models import MHCNN, build_model, known_models, model_spec


def test_forward_shapes_and_embedding():
    torch.manual_seed(0)
    model = build_model("mhcnn").eval()
    x = torch.randint(-128, 128, (6, 8, 40)).float()
    logits, embedding = model(x)
    assert logits.shape == (6, 5)
    assert embedding.shape == (6, 128)
    assert torch.isfinite(logits).all()
    assert (embedding >= -0.2).all()  # GELU output is bounded below by about -0.17


def test_heads_keep_window_length_so_concatenation_aligns():
    model = MHCNN().eval()
    x = torch.zeros(2, 8, 40)
    lengths = {head(x / 128).shape[-1] for head in model.heads}
    assert lengths == {40}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_padding_matches_pytorch_same_padding():
    torch.manual_seed(2)
    model = MHCNN(dropout=0.0).eval()
    x = torch.randn(2, 8, 40)
    for head in model.heads:
        conv = head[1]
        reference = torch.nn.functional.conv1d(x, conv.weight, conv.bias, dilation=conv.dilation, padding="same")
        torch.testing.assert_close(conv(head[0](x)), reference)


def test_input_is_scaled_by_adc_full_scale():
    torch.manual_seed(1)
    model = MHCNN().eval()
    x = torch.randint(-128, 128, (3, 8, 40)).float()
    reference = model(x)[0]
    assert not torch.allclose(model(2 * x)[0], reference)  # no per-window normalisation
    x_scaled = x / 128.0
    heads = torch.cat([h(x_scaled) for h in model.heads], dim=1)
    expected = model.classifier(model.embed(model.fusion(heads)))
    torch.testing.assert_close(reference, expected)


def test_other_window_lengths_and_kwargs():
    model = build_model("mhcnn", n_classes=3, window=24, embedding_dim=16, dropout=0.0)
    logits, embedding = model(torch.zeros(2, 8, 24))
    assert logits.shape == (2, 3) and embedding.shape == (2, 16)
    assert model_spec(model) == {"name": "mhcnn", "kwargs": model.init_kwargs}


def test_bad_input_shape_raises():
    with pytest.raises(ValueError, match=r"\(B, 8, W\)"):
        MHCNN()(torch.zeros(2, 7, 40))


def test_bad_constructor_args_raise():
    with pytest.raises(ValueError, match="dropout"):
        MHCNN(dropout=1.5)


def test_unknown_model_lists_known_ones():
    with pytest.raises(ValueError, match="mhcnn"):
        build_model("transformer9000")
    assert "mhcnn" in known_models()


def test_model_spec_of_directly_built_model():
    assert model_spec(MHCNN(dropout=0.1))["kwargs"]["dropout"] == 0.1
    with pytest.raises(ValueError, match="not a registered model"):
        model_spec(torch.nn.Linear(2, 2))
