"""Model registry: build a model by name so runs, checkpoints and configs refer to models by string.

Every registered class must store its constructor arguments in `self.init_kwargs`, so a trained
model can be saved as (name, kwargs, state_dict) and rebuilt with `build_model`.
"""

from __future__ import annotations

from torch import nn

from .baselines import CNN, LSTM, Transformer
from .hcf import CNN_HCF, LSTM_HCF, MLP
from .lda import LDALinear
from .mhcnn import MHCNN
from .mhcnn_eq import EquivariantMHCNN
from .mhcnn_grl import MHCNN_GRL

MODELS: dict[str, type[nn.Module]] = {
    "mhcnn": MHCNN,
    "cnn": CNN,
    "lstm": LSTM,
    "transformer": Transformer,
    "mlp": MLP,
    "lstm_hcf": LSTM_HCF,
    "cnn_hcf": CNN_HCF,
    "mhcnn_grl": MHCNN_GRL,
    "mhcnn_eq": EquivariantMHCNN,
    "lda": LDALinear,
}


def known_models() -> list[str]:
    """Names accepted by `build_model`, sorted."""
    return sorted(MODELS)


def build_model(name: str, **kwargs) -> nn.Module:
    """Instantiate the registered model `name` with `kwargs`; unknown names raise ValueError."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(known_models())}")
    model = MODELS[name](**kwargs)
    model.model_name = name
    return model


def model_spec(model: nn.Module) -> dict:
    """Return {'name', 'kwargs'} needed to rebuild `model` with `build_model` (for checkpoints)."""
    name = getattr(model, "model_name", None)
    if name is None:
        matches = [n for n, cls in MODELS.items() if type(model) is cls]
        if not matches:
            raise ValueError(
                f"{type(model).__name__} is not a registered model; known models: {', '.join(known_models())}"
            )
        name = matches[0]
    kwargs = getattr(model, "init_kwargs", None)
    if kwargs is None:
        raise ValueError(f"model {name!r} does not record its constructor arguments in init_kwargs")
    return {"name": name, "kwargs": dict(kwargs)}


__all__ = [
    "CNN",
    "CNN_HCF",
    "LSTM",
    "LSTM_HCF",
    "MLP",
    "Transformer",
    "LDALinear",
    "MHCNN",
    "MHCNN_GRL",
    "EquivariantMHCNN",
    "MODELS",
    "build_model",
    "known_models",
    "model_spec",
]
