"""MHCNN with a gradient-reversal user adversary (domain-adversarial training, Ganin & Lempitsky 2015).

The MHCNN backbone and gesture classifier are inherited unchanged. A small MLP user classifier
reads the embedding through a gradient-reversal layer: the forward pass is the identity, the
backward pass multiplies the gradient by ``-grl_lambda``. Trained with the ``grl`` loss
(`emgcore.cross.losses`), the user head learns to tell the training users apart while the backbone is
pushed to make the embedding useless for that, i.e. user-invariant. At test time only
``forward`` is used, so the model is a drop-in MHCNN (same ``(logits, embedding)`` contract).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .mhcnn import MHCNN

USER_HIDDEN = 64  #: width of the user classifier's hidden layer


class GradientReversal(torch.autograd.Function):
    """Identity in the forward pass; multiplies the incoming gradient by ``-lambda`` backwards."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambda_: float) -> torch.Tensor:
        ctx.lambda_ = float(lambda_)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        return -ctx.lambda_ * grad_output, None


def gradient_reversal(x: torch.Tensor, lambda_: float = 1.0) -> torch.Tensor:
    """Apply `GradientReversal` to ``x`` with strength ``lambda_`` (>= 0)."""
    return GradientReversal.apply(x, lambda_)


class MHCNN_GRL(MHCNN):
    """MHCNN plus a user classifier behind a gradient-reversal layer.

    ``subject_ids`` are the global ids of the training users; the user classifier has one output
    per id, in that order. ``grl_lambda`` scales the reversed gradient (a plain attribute, so a
    schedule may change it during training). Other keyword arguments go to `MHCNN`.
    """

    def __init__(self, subject_ids: Sequence[int], grl_lambda: float = 1.0, **mhcnn_kwargs) -> None:
        super().__init__(**mhcnn_kwargs)
        ids = [int(s) for s in subject_ids]
        if len(ids) < 2:
            raise ValueError(f"MHCNN_GRL needs at least 2 training subjects, got {ids}")
        if len(set(ids)) != len(ids) or min(ids) < 0:
            raise ValueError("MHCNN_GRL subject_ids must be unique non-negative integers")
        grl_lambda = float(grl_lambda)
        if not grl_lambda >= 0:
            raise ValueError(f"grl_lambda must be >= 0, got {grl_lambda}")
        self.init_kwargs = dict(self.init_kwargs, subject_ids=ids, grl_lambda=grl_lambda)
        self.subject_ids = ids
        self.grl_lambda = grl_lambda
        lookup = torch.full((max(ids) + 1,), -1, dtype=torch.int64)
        lookup[ids] = torch.arange(len(ids))
        # Not persistent: rebuilt from subject_ids, so checkpoints hold only learned weights.
        self.register_buffer("_subject_lookup", lookup, persistent=False)
        embedding_dim = self.init_kwargs["embedding_dim"]
        self.user_classifier = nn.Sequential(
            nn.Linear(embedding_dim, USER_HIDDEN),
            nn.ReLU(),
            nn.Linear(USER_HIDDEN, len(ids)),
        )

    @property
    def n_users(self) -> int:
        return len(self.subject_ids)

    def subject_index(self, subjects: torch.Tensor) -> torch.Tensor:
        """0-based position of each global subject id in ``subject_ids``; -1 for unknown subjects."""
        subjects = subjects.to(self._subject_lookup.device, torch.int64)
        inside = (subjects >= 0) & (subjects < self._subject_lookup.shape[0])
        index = self._subject_lookup[subjects.clamp(0, self._subject_lookup.shape[0] - 1)]
        return torch.where(inside, index, torch.full_like(index, -1))

    def user_logits(self, embedding: torch.Tensor) -> torch.Tensor:
        """User scores (B, n_users) of ``embedding`` read through the gradient-reversal layer."""
        if embedding.ndim != 2 or embedding.shape[1] != self.init_kwargs["embedding_dim"]:
            raise ValueError(
                f"user_logits expects (B, {self.init_kwargs['embedding_dim']}) embeddings, got {tuple(embedding.shape)}"
            )
        return self.user_classifier(gradient_reversal(embedding, self.grl_lambda))
