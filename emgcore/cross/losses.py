"""Training losses for cross-user gesture recognition, built by name.

Every loss is an ``nn.Module`` called as ``loss(logits, labels, embeddings, subjects)`` and returns
a scalar tensor (see docs/architecture.md):

* ``logits`` float (B, K): class scores, class 0 is rest (noGesture), 1..K-1 active gestures;
* ``labels`` int64 (B,) in 0..K-1;
* ``embeddings`` float (B, D): the model's embedding of the same windows;
* ``subjects`` int64 (B,): global subject id of each window.

Notation in the docstrings: ``CE_i = -log p_{i,y_i}`` with ``p = softmax(logits)``; ``mean_i``
averages over the batch. Every loss is a cross-entropy plus (or reweighting of) one extra term,
so ``base`` is the common reference. Hyper-parameters are constructor keyword arguments.

``build_loss(name, model=None, **params)`` builds one by name; ``loss_needs(name)`` tells the
caller what else the loss needs (a specific model, a batch sampler).
"""

from __future__ import annotations

import inspect
import math

import torch
import torch.nn.functional as F
from torch import nn

from emgcore.data.labels import REST

# ---------------------------------------------------------------------------------------------
# shared helpers


def _check_inputs(logits, labels, embeddings, subjects) -> None:
    """Raise ValueError on shapes/dtypes that break the loss contract (no device sync)."""
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError(f"logits must be a (B, K) tensor, got {tuple(getattr(logits, 'shape', ()))}")
    batch = logits.shape[0]
    if batch == 0:
        raise ValueError("losses need a non-empty batch, got 0 samples")
    if logits.shape[1] < 2:
        raise ValueError(f"logits need at least 2 classes, got {logits.shape[1]}")
    for name, t, ndim in (("labels", labels, 1), ("subjects", subjects, 1), ("embeddings", embeddings, 2)):
        if not isinstance(t, torch.Tensor) or t.ndim != ndim or t.shape[0] != batch:
            raise ValueError(
                f"{name} must be a {ndim}-D tensor with {batch} rows like logits, got {tuple(getattr(t, 'shape', ()))}"
            )
    for name, t in (("labels", labels), ("subjects", subjects)):
        if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
            raise ValueError(f"{name} must be an integer tensor, got {t.dtype}")
    if not embeddings.dtype.is_floating_point:
        raise ValueError(f"embeddings must be a float tensor, got {embeddings.dtype}")


def _positive(name: str, value: float, allow_zero: bool = True) -> float:
    value = float(value)
    ok = value >= 0 if allow_zero else value > 0
    if not (ok and math.isfinite(value)):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} and finite, got {value}")
    return value


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``values[mask]``; 0 (still attached to the graph) when the mask is empty."""
    mask = mask.to(values.dtype)
    return (values * mask).sum() / mask.sum().clamp_min(1.0)


def _group_means(values: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` (B,) per unique value of ``groups`` (B,), ordered by group id."""
    unique, inverse = torch.unique(groups, return_inverse=True)
    n_groups = unique.shape[0]
    sums = torch.zeros(n_groups, dtype=values.dtype, device=values.device).index_add(0, inverse, values)
    counts = torch.bincount(inverse, minlength=n_groups).to(values.dtype)
    return sums / counts


def _class_prototypes(embeddings: torch.Tensor, labels: torch.Tensor):
    """(prototypes (C', D), class position (B,)) for the C' classes present in the batch."""
    classes, position = torch.unique(labels, return_inverse=True)
    sums = torch.zeros(
        classes.shape[0], embeddings.shape[1], dtype=embeddings.dtype, device=embeddings.device
    ).index_add(0, position, embeddings)
    counts = torch.bincount(position, minlength=classes.shape[0]).to(embeddings.dtype)
    return sums / counts[:, None], position


def _pairwise_distances(embeddings: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Euclidean distances (B, B); sqrt of a clamped square so gradients stay finite at 0.

    Uses |a|^2 + |b|^2 - 2 a.b, so memory is O(B^2), not the O(B^2 D) of broadcasting differences
    (8 GB for a 4096-window validation batch of 128-d embeddings).
    """
    sq = embeddings.pow(2).sum(1)
    squared = sq[:, None] + sq[None, :] - 2.0 * embeddings @ embeddings.T
    return squared.clamp_min(eps).sqrt()


class Loss(nn.Module):
    """Base class: checks the inputs, then calls ``compute`` with the same arguments."""

    def forward(self, logits, labels, embeddings, subjects) -> torch.Tensor:
        _check_inputs(logits, labels, embeddings, subjects)
        return self.compute(logits, labels, embeddings, subjects)

    def compute(self, logits, labels, embeddings, subjects) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# losses on the logits


class CrossEntropy(Loss):
    """``base``: ``L = mean_i CE_i`` (plain cross-entropy, the reference for every other loss)."""

    def compute(self, logits, labels, embeddings, subjects):
        return F.cross_entropy(logits, labels)


class RestAwareCrossEntropy(Loss):
    """``rest``: cross-entropy plus differentiable penalties for the two costly confusions.

    ``L = mean_i CE_i + w_rest * mean_{i: y_i = 0} (1 - p_{i,0})
                      + w_conf * mean_{i: y_i > 0} sum_{k > 0, k != y_i} p_{i,k}``

    The first penalty is the probability a rest window gives to any active gesture (a false
    activation); the second the probability an active window gives to a *different* active
    gesture (a gesture confusion; mass on rest is left to the CE). Both are 0 for perfect
    one-hot predictions, and a term whose group is absent from the batch is 0.
    """

    def __init__(self, w_rest: float = 1.0, w_conf: float = 1.0):
        super().__init__()
        self.w_rest = _positive("w_rest", w_rest)
        self.w_conf = _positive("w_conf", w_conf)

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels)
        p = logits.softmax(dim=1)
        rest = labels == REST
        false_activation = 1.0 - p[:, REST]
        active_mass = p[:, REST + 1 :].sum(dim=1)  # all active classes
        own = p.gather(1, labels[:, None]).squeeze(1)
        confusion = active_mass - own  # active mass minus the true class (valid where y > 0)
        return ce + self.w_rest * _masked_mean(false_activation, rest) + self.w_conf * _masked_mean(confusion, ~rest)


class ActiveWeightedCrossEntropy(Loss):
    """``act``: cross-entropy with active-gesture windows up-weighted.

    ``L = sum_i w_i CE_i / sum_i w_i`` with ``w_i = w`` if ``y_i != 0`` else 1 (normalised
    weighted mean, so the loss scale does not depend on the batch's rest/active mix).
    """

    def __init__(self, w: float = 2.0):
        super().__init__()
        self.w = _positive("w", w, allow_zero=False)

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels, reduction="none")
        weights = torch.where(labels != REST, torch.full_like(ce, self.w), torch.ones_like(ce))
        return (weights * ce).sum() / weights.sum()


class CVaRCrossEntropy(Loss):
    """``cvar``: conditional value at risk of the per-sample cross-entropy.

    ``L = (1/k) sum_{i in top-k CE} CE_i`` with ``k = max(1, ceil(alpha * B))``: the mean over the
    hardest ``alpha`` fraction of the batch; the easier samples get exactly zero gradient.
    ``alpha = 1`` is plain cross-entropy.
    """

    def __init__(self, alpha: float = 0.5):
        super().__init__()
        alpha = float(alpha)
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels, reduction="none")
        k = max(1, math.ceil(self.alpha * ce.shape[0]))
        return ce.topk(k).values.mean()


class SubjectSpreadCrossEntropy(Loss):
    """``std``: cross-entropy plus the spread of the per-subject mean losses in the batch.

    ``L = mean_i CE_i + lam * S({L_s})`` with ``L_s = mean_{i: subject_i = s} CE_i`` over the
    subjects ``s`` of the batch and ``S`` the population standard deviation (``statistic='std'``)
    or variance (``'var'``) across subjects. One subject, or equal subject losses, give ``S = 0``;
    the standard deviation is clamped below so its gradient stays finite there.
    """

    def __init__(self, lam: float = 1.0, statistic: str = "std", eps: float = 1e-12):
        super().__init__()
        if statistic not in ("std", "var"):
            raise ValueError(f"statistic must be 'std' or 'var', got {statistic!r}")
        self.lam = _positive("lam", lam)
        self.statistic = statistic
        self.eps = _positive("eps", eps, allow_zero=False)

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels, reduction="none")
        per_subject = _group_means(ce, subjects)
        var = (per_subject - per_subject.mean()).pow(2).mean()
        if self.statistic == "var":
            spread = var
        else:
            spread = torch.where(var > self.eps, var.clamp_min(self.eps).sqrt(), torch.zeros_like(var))
        return ce.mean() + self.lam * spread


class SubjectEquityCrossEntropy(Loss):
    """``sbj``: per-subject equity, every subject counts once and the worst one counts extra.

    ``L = mean_s L_s + w_worst * max_s L_s`` with ``L_s = mean_{i: subject_i = s} CE_i`` over the
    subjects of the batch. Subjects with few windows weigh as much as those with many, and the
    gradient of the second term flows only through the worst subject's windows.
    """

    def __init__(self, w_worst: float = 1.0):
        super().__init__()
        self.w_worst = _positive("w_worst", w_worst)

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels, reduction="none")
        per_subject = _group_means(ce, subjects)
        return per_subject.mean() + self.w_worst * per_subject.max()


# ---------------------------------------------------------------------------------------------
# losses on the embedding geometry


class PrototypeCompactness(Loss):
    """``proto``: cross-entropy plus within-class compactness around batch class prototypes.

    ``L = mean_i CE_i + w * mean_i ||e_i - mu_{y_i}||^2`` with ``mu_c`` the mean embedding of the
    batch's class-``c`` windows (squared Euclidean distance, summed over the embedding
    dimensions; gradients flow through the prototypes too, so the term is the within-class
    scatter). It is 0 when every embedding equals its class mean.
    """

    def __init__(self, w: float = 0.01):
        super().__init__()
        self.w = _positive("w", w)

    def compute(self, logits, labels, embeddings, subjects):
        prototypes, position = _class_prototypes(embeddings, labels)
        scatter = (embeddings - prototypes[position]).pow(2).sum(dim=1).mean()
        return F.cross_entropy(logits, labels) + self.w * scatter


class PrototypicalCrossEntropy(Loss):
    """``1va``: cross-entropy plus a prototypical (nearest-class-mean) cross-entropy.

    ``L = mean_i CE_i + w * mean_i CE(z_i, y_i)`` with prototype logits
    ``z_{i,c} = -||e_i - mu_c||^2 / temperature`` over the classes ``c`` present in the batch,
    ``mu_c`` their batch mean embeddings (each window is included in its own prototype). Each
    embedding is scored one-vs-all against every class mean: small when the classes form tight,
    well separated clusters.
    """

    def __init__(self, w: float = 1.0, temperature: float = 1.0):
        super().__init__()
        self.w = _positive("w", w)
        self.temperature = _positive("temperature", temperature, allow_zero=False)

    def compute(self, logits, labels, embeddings, subjects):
        prototypes, position = _class_prototypes(embeddings, labels)
        squared = (embeddings[:, None, :] - prototypes[None, :, :]).pow(2).sum(-1)
        proto_ce = F.cross_entropy(-squared / self.temperature, position)
        return F.cross_entropy(logits, labels) + self.w * proto_ce


class AngularContrastive(Loss):
    """``ang``: cross-entropy plus a supervised contrastive loss on embedding directions.

    With ``u_i = e_i / ||e_i||`` (cosine geometry, so the loss ignores embedding scale),
    ``s_ij = u_i . u_j / temperature`` and ``P(i) = {j != i: y_j = y_i}``:

    ``SupCon_i = -(1/|P(i)|) sum_{p in P(i)} log( exp(s_ip) / sum_{a != i} exp(s_ia) )``

    ``L = mean_i CE_i + w * mean_{i: P(i) non-empty} SupCon_i`` (Khosla et al., 2020): same-class
    directions are pulled together, other classes pushed apart; anchors with no positive in the
    batch are skipped and the term is 0 if no anchor has one.
    """

    def __init__(self, w: float = 0.5, temperature: float = 0.1):
        super().__init__()
        self.w = _positive("w", w)
        self.temperature = _positive("temperature", temperature, allow_zero=False)

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels)
        u = F.normalize(embeddings, dim=1)
        sim = u @ u.T / self.temperature
        eye = torch.eye(sim.shape[0], dtype=torch.bool, device=sim.device)
        log_prob = sim - torch.logsumexp(sim.masked_fill(eye, float("-inf")), dim=1, keepdim=True)
        positives = (labels[:, None] == labels[None, :]) & ~eye
        n_pos = positives.sum(dim=1)
        per_anchor = -(log_prob * positives).sum(dim=1) / n_pos.clamp_min(1)
        return ce + self.w * _masked_mean(per_anchor, n_pos > 0)


class CrossUserTriplet(Loss):
    """``trp``: cross-entropy plus a cross-user triplet loss on semi-hard negatives.

    For anchor ``i`` the positives are windows of the same class from a *different* user and the
    negatives windows of a different class from the *same* user. The positive is the hardest one,
    ``d_ap = max_{j: y_j = y_i, s_j != s_i} d_ij``; the negative (``mining='semihard'``, the
    default) is the closest one *farther than that positive*, ``d_an = min {d_ik : y_k != y_i,
    s_k = s_i, d_ik > d_ap}`` (Schroff et al., FaceNet, 2015); an anchor without such a negative is
    skipped. ``mining='hard'`` takes the closest negative whatever its distance (batch-hard).

    ``L = mean_i CE_i + w * mean_{i valid} max(0, d_ap - d_an + margin)``

    with ``d`` the Euclidean distance between L2-normalised embeddings (``normalize=True``, so
    ``d`` lies in [0, 2] and the margin is scale free) or raw embeddings (``normalize=False``).
    This pulls the same gesture together across users and separates gestures within a user, so
    the user identity is not what the embedding encodes. With none valid the triplet term is 0.
    Batches from ``emgcore.cross.samplers.UsersPerClassBatchSampler`` guarantee both kinds of pair.

    Why semi-hard: with batch-hard negatives the quickest way down from a random start is to pull
    every embedding together (``d_ap - d_an -> 0``, the hinge stuck at ``margin``), and the
    classifier, which reads the same embedding, is left with nothing to separate: measured on
    the demo's raw windows, MHCNN stayed at exactly chance (0.200 balanced accuracy, loss
    ln 5 + margin) after 150 batches. A negative closer than the positive is never used by
    semi-hard mining, so a collapsed batch (all distances equal) gives no triplet term and
    cross-entropy moves the embedding apart again.
    """

    MINING = ("semihard", "hard")

    def __init__(self, margin: float = 0.3, w: float = 1.0, normalize: bool = True, mining: str = "semihard"):
        super().__init__()
        if mining not in self.MINING:
            raise ValueError(f"mining must be one of {self.MINING}, got {mining!r}")
        self.margin = _positive("margin", margin)
        self.w = _positive("w", w)
        self.normalize = bool(normalize)
        self.mining = mining

    def triplet_term(self, labels, embeddings, subjects) -> torch.Tensor:
        """The triplet term alone (mean hinge over valid anchors, 0 if none)."""
        e = F.normalize(embeddings, dim=1) if self.normalize else embeddings
        d = _pairwise_distances(e)
        same_class = labels[:, None] == labels[None, :]
        same_user = subjects[:, None] == subjects[None, :]
        positive = same_class & ~same_user
        negative = ~same_class & same_user
        d_ap = d.masked_fill(~positive, float("-inf")).max(dim=1).values
        if self.mining == "semihard":
            negative = negative & (d > d_ap.detach()[:, None])
        d_an = d.masked_fill(~negative, float("inf")).min(dim=1).values
        valid = positive.any(dim=1) & negative.any(dim=1)
        hinge = torch.where(valid, F.relu(d_ap - d_an + self.margin), torch.zeros_like(d_ap))
        return _masked_mean(hinge, valid)

    def compute(self, logits, labels, embeddings, subjects):
        return F.cross_entropy(logits, labels) + self.w * self.triplet_term(labels, embeddings, subjects)


# ---------------------------------------------------------------------------------------------
# adversarial user loss (needs MHCNN_GRL)


class GradientReversalUserLoss(Loss):
    """``grl``: cross-entropy plus an adversarial user-classification loss through gradient reversal.

    ``L = mean_i CE_i + lambda_user * mean_{i: s_i known} CE(user_logits(e_i), u(s_i))``

    where ``user_logits`` is the model's user classifier applied to the gradient-reversed
    embedding and ``u(s)`` the 0-based position of subject ``s`` in ``model.subject_ids``. The user
    head learns to identify users; the reversal makes the backbone maximise that loss, pushing
    user identity out of the embedding. Windows of subjects the model was not built for (e.g.
    validation users) are left out of the user term, which is 0 if none are known.
    """

    def __init__(self, model: nn.Module, lambda_user: float = 1.0):
        super().__init__()
        model = getattr(model, "module", model)  # unwrap DistributedDataParallel
        if not (callable(getattr(model, "user_logits", None)) and hasattr(model, "subject_index")):
            raise ValueError(
                f"loss 'grl' needs a model with user_logits/subject_index (mhcnn_grl), got {type(model).__name__}"
            )
        # A plain attribute, not a submodule: the loss must not own (or save) the model's weights.
        object.__setattr__(self, "model", model)
        self.lambda_user = _positive("lambda_user", lambda_user)

    def compute(self, logits, labels, embeddings, subjects):
        ce = F.cross_entropy(logits, labels)
        users = self.model.subject_index(subjects)
        known = users >= 0
        user_ce = F.cross_entropy(self.model.user_logits(embeddings), users.clamp_min(0), reduction="none")
        return ce + self.lambda_user * _masked_mean(user_ce, known)


# ---------------------------------------------------------------------------------------------
# registry

LOSSES: dict[str, type[Loss]] = {
    "base": CrossEntropy,
    "rest": RestAwareCrossEntropy,
    "act": ActiveWeightedCrossEntropy,
    "cvar": CVaRCrossEntropy,
    "std": SubjectSpreadCrossEntropy,
    "sbj": SubjectEquityCrossEntropy,
    "proto": PrototypeCompactness,
    "1va": PrototypicalCrossEntropy,
    "ang": AngularContrastive,
    "grl": GradientReversalUserLoss,
    "trp": CrossUserTriplet,
}

#: What a loss needs besides (logits, labels, embeddings, subjects); see `loss_needs`.
_NEEDS: dict[str, dict[str, str]] = {
    "grl": {"model": "mhcnn_grl"},
    "trp": {"sampler": "users_per_class"},
}


def known_losses() -> list[str]:
    """Names accepted by `build_loss`, sorted."""
    return sorted(LOSSES)


def _check_name(name: str) -> None:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(known_losses())}")


def loss_needs(name: str) -> dict[str, str]:
    """What the caller must provide for loss `name`, e.g. ``{'model': 'mhcnn_grl'}``.

    Keys: ``'model'`` (the registered model the loss must be built with, passed to `build_loss`)
    and ``'sampler'`` (the batch sampler the training loader should use; ``'users_per_class'``
    is `emgcore.cross.samplers.UsersPerClassBatchSampler`). Empty for losses that need nothing.
    """
    _check_name(name)
    return dict(_NEEDS.get(name, {}))


def build_loss(name: str, model: nn.Module | None = None, **params) -> Loss:
    """Build loss `name` with hyper-parameters `params`; `model` is required by (and only used for) 'grl'.

    Unknown names or parameters raise ValueError listing the accepted ones.
    """
    _check_name(name)
    cls = LOSSES[name]
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "model")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"loss {name!r} got unknown parameters {unknown}; accepted: {accepted}")
    if "model" in loss_needs(name):
        if model is None:
            raise ValueError(f"loss {name!r} must be built with its model: build_loss({name!r}, model=...)")
        loss = cls(model, **params)
    else:
        loss = cls(**params)
    loss.loss_name = name
    return loss


__all__ = [
    "LOSSES",
    "Loss",
    "build_loss",
    "known_losses",
    "loss_needs",
    "CrossEntropy",
    "RestAwareCrossEntropy",
    "ActiveWeightedCrossEntropy",
    "CVaRCrossEntropy",
    "SubjectSpreadCrossEntropy",
    "SubjectEquityCrossEntropy",
    "PrototypeCompactness",
    "PrototypicalCrossEntropy",
    "AngularContrastive",
    "GradientReversalUserLoss",
    "CrossUserTriplet",
]
