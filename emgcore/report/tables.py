"""The check every function taking a pandas table starts with: the columns it needs, and rows."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def require_columns(frame: pd.DataFrame, required: Iterable[str], what: str) -> None:
    """Raise ValueError naming `what` if `frame` lacks any of `required` or has no rows."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing}; has {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{what} has no rows")
