"""JSON for the API: no NaN (missing is null), numpy scalars as Python numbers, and the fast
array encoders POST /api/rank is built from."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd


def clean(value: Any) -> Any:
    """JSON has no NaN: missing becomes null."""
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A table as a list of rows, cleaned."""
    return [clean(r) for r in frame.to_dict(orient="records")]


def json_ints(values: np.ndarray) -> str:
    """Whole numbers (ranks) as a JSON array, NaN as null."""
    if np.isnan(values).any():
        return json.dumps([None if math.isnan(v) else int(v) for v in values.tolist()])
    return json.dumps(values.astype(np.int64).tolist())


def json_floats(values: np.ndarray) -> str:
    """A float array as a JSON array, NaN as null, by pandas' C encoder (10 significant
    digits): the standard library's float formatting dominated the whole request."""
    return pd.Series(values, copy=False).to_json(orient="values", double_precision=10)
