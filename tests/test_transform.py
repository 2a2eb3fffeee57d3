"""Per-indicator transforms (pipeline/transform.py and the framework's `transform:`)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aicity
from aicity.errors import InputError
from aicity.pipeline.transform import TRANSFORMS, apply, invalid


def fw(transform: str, direction: int = 1, goalposts=None, target=None) -> dict:
    ind = {"code": "a", "parent": "IDX", "direction": direction, "transform": transform}
    if goalposts is not None:
        ind["goalposts"] = goalposts
    if target is not None:
        ind["target"] = target
    other = {"code": "b", "parent": "IDX", "goalposts": [0, 2], "target": 2}
    return {"index": {"code": "IDX"}, "indicators": [ind, other]}


def data(values) -> aicity.Dataset:
    import pandas as pd

    return pd.DataFrame({"unit": [f"U{i}" for i in range(len(values))], "a": values, "b": [float(i) for i in range(len(values))]})


@pytest.mark.parametrize(
    ("name", "x", "expected"),
    [
        ("log", [1.0, math.e, 100.0], [0.0, 1.0, math.log(100)]),
        ("log10", [1.0, 10.0, 1000.0], [0.0, 1.0, 3.0]),
        ("log1p", [0.0, math.e - 1], [0.0, 1.0]),
        ("sqrt", [0.0, 4.0, 9.0], [0.0, 2.0, 3.0]),
        ("cbrt", [-8.0, 0.0, 27.0], [-2.0, 0.0, 3.0]),
        ("inverse", [0.5, 2.0, 4.0], [2.0, 0.5, 0.25]),
        ("none", [-3.0, 7.0], [-3.0, 7.0]),
    ],
)
def test_each_transform_by_hand(name, x, expected):
    np.testing.assert_allclose(apply(np.array(x), name), expected, atol=1e-15)


def test_goalposts_are_written_in_the_indicators_own_units():
    # log with goalposts [100, 75000]: ln(1000) sits at (ln 1000 - ln 100) / (ln 75000 - ln 100)
    r = aicity.build(fw("log", goalposts=[100, 75000]), data([100.0, 1000.0, 75000.0]),
                     {"normalize": {"method": "goalposts", "range": [0, 1]}})
    expected = [0.0, (math.log(1000) - math.log(100)) / (math.log(75000) - math.log(100)), 1.0]
    np.testing.assert_allclose(r.scores["a"].to_numpy(), expected)
    assert "transformed" in r.stages and r.stages["transformed"].at["U1", "a"] == pytest.approx(math.log(1000))
    assert r.stages["raw"].at["U1", "a"] == 1000  # the input is never overwritten


def test_target_is_transformed_too():
    # sqrt, target 16 (4 after the transform): 1 - (4 - sqrt x) / (4 - min sqrt x)
    r = aicity.build(fw("sqrt", target=16), data([4.0, 9.0, 16.0]), {"normalize": "dist2target"})
    np.testing.assert_allclose(r.scores["a"].to_numpy(), [0.0, 0.5, 1.0])


def test_inverse_keeps_the_written_direction_and_swaps_goalposts():
    # hours per task, lower is better, goalposts [1, 4] hours: 1/x in [0.25, 1]; 1 hour is best
    r = aicity.build(fw("inverse", direction=-1, goalposts=[1, 4]), data([1.0, 2.0, 4.0]),
                     {"normalize": {"method": "goalposts", "range": [0, 1]}})
    np.testing.assert_allclose(r.scores["a"].to_numpy(), [1.0, (0.5 - 0.25) / 0.75, 0.0])
    assert r.ranks.at["U0", "a"] == 1


def test_values_outside_the_domain_name_the_units():
    with pytest.raises(InputError, match=r"transform 'log' needs positive numbers; not so for U1 \(0\), U2 \(-3\)"):
        aicity.build(fw("log"), data([5.0, 0.0, -3.0]))
    with pytest.raises(InputError, match="its goalposts 0 is not"):
        aicity.build(fw("log", goalposts=[0, 10]), data([5.0, 1.0, 3.0]))
    with pytest.raises(InputError, match="not so for U1"):
        aicity.check(fw("log"), data([5.0, 0.0, 3.0]))


def test_an_unknown_transform_names_the_nearest():
    with pytest.raises(InputError, match="unknown transform 'lg'.*did you mean 'log'"):
        aicity.load_framework(fw("lg"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 1e6), min_size=3, max_size=12), st.sampled_from([t for t in TRANSFORMS if t != "none"]))
def test_a_transform_never_changes_an_indicators_own_ranks(values, name):
    x = np.array(values)
    assert not invalid(x, name).any()
    plain = aicity.build(fw("none"), data(values), {"normalize": "rank"}).ranks["a"]
    moved = aicity.build(fw(name), data(values), {"normalize": "rank"}).ranks["a"]
    # equal values stay equal; distinct values may only merge where the float transform rounds them together
    if len(set(apply(x, name).tolist())) == len(set(values)):
        assert (plain == moved).all()
