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
    """Whole numbers (ranks, positions) as a JSON array, NaN as null; orjson writes a numpy
    array directly (the standard library's encoder was a fifth of POST /api/rank)."""
    import orjson

    values = np.asarray(values)
    if values.dtype.kind == "f" and np.isnan(values).any():
        return json.dumps([None if math.isnan(v) else int(v) for v in values.tolist()])
    return orjson.dumps(np.ascontiguousarray(values, dtype=np.int64), option=orjson.OPT_SERIALIZE_NUMPY).decode()


def json_floats(values: np.ndarray) -> str:
    """A float array as a JSON array rounded to 10 decimals, NaN as null, by orjson straight
    from the array (the standard library's float formatting dominated the whole request;
    orjson is 7x faster than pandas' encoder here)."""
    import orjson

    return orjson.dumps(np.round(np.asarray(values, dtype=float), 10), option=orjson.OPT_SERIALIZE_NUMPY).decode()
