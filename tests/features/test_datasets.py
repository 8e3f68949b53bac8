"""Feature standardisation for the hand-crafted-feature models."""

import numpy as np
import pytest

from emgcore.features.datasets import FeatureScaler


def test_feature_scaler_standardises_and_keeps_constant_features_finite():
    rng = np.random.default_rng(6)
    X = rng.normal(3.0, 5.0, size=(400, 4, 6)).astype(np.float32)
    X[..., 2] = 7.0  # a constant feature
    scaler = FeatureScaler().fit(X)
    Z = scaler.transform(X)
    flat = Z.reshape(-1, 6)
    np.testing.assert_allclose(flat.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(np.delete(flat.std(axis=0), 2), 1, rtol=1e-4)
    assert scaler.std[2] == 1 and np.all(flat[:, 2] == 0)
    with pytest.raises(ValueError, match="fitted on 6"):
        scaler.transform(X[..., :5])
