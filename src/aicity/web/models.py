"""The API's request and response bodies: they make the OpenAPI schema (/openapi.json).

Field order and types follow the answers exactly (an answer is validated into its model and
written from it): numbers keep their JSON form (a rank `1.0` stays `1.0`, a count `3` stays `3`).
Rows of a table whose columns depend on the data (units, sources, contributions) are
`dict[str, Any]`, the table's columns as keys.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictFloat

from aicity.keys import INVISIBLE
from aicity.web.settings import LANG_PATTERN

Row = dict[str, Any]
Number = float | int


# -- requests --------------------------------------------------------------------------------


# Request bodies refuse keys they do not know (a typo such as "wieghts" is a 422 naming it, never
# silently the default ranking) and numbers given as anything but JSON numbers (true, "2").
# A dataset name is a file-name-like word, not "." or ".."; a label is printable text (no NUL,
# no right-to-left override that `aicity runs` would print raw).
DATASET_NAME = r"^[A-Za-z0-9_.-]*[A-Za-z0-9_-][A-Za-z0-9_.-]*$"  # a letter, digit, _ or - somewhere
LABEL_TEXT = "^[^" + INVISIBLE[1:-1] + "]*$"  # keys.INVISIBLE, negated
STRICT_BODY = ConfigDict(extra="forbid", strict=True)  # "1", true and 1.0 are not the integer 1, "yes" is not true


class RankRequest(BaseModel):
    model_config = STRICT_BODY

    weights: dict[str, StrictFloat] | None = Field(None, description="Weights by code or alias, e.g. {\"INFRA\": 2}; others keep theirs.")
    persona: str | None = Field(None, description="A persona code (see GET /api/personas).")
    lang: str = Field("en", pattern=LANG_PATTERN)
    pillars: bool = Field(False, description="Also return every pillar's scores.")


class WhatIfRequest(BaseModel):
    model_config = STRICT_BODY

    unit: str = Field(..., max_length=200)
    changes: dict[str, StrictFloat] = Field(..., description="Raw indicator values by code.")
    lang: str = Field("en", pattern=LANG_PATTERN)


class BuildRequest(BaseModel):
    model_config = STRICT_BODY

    dataset: str = Field(..., max_length=100, pattern=DATASET_NAME)
    version: int | None = Field(None, ge=1)
    label: str | None = Field(None, max_length=200, pattern=LABEL_TEXT)


# -- GET /api/framework, /api/units, /api/indicators, /api/results ------------------------------


class FrameworkNode(BaseModel):
    code: str
    level: int = Field(description="1 for indicators, up to the index's level.")
    parent: str | None
    weight: Number
    direction: int | None = Field(description="+1 or -1 for indicators; null for aggregates.")
    names: dict[str, str] = Field(description="Names by language.")
    unit: str | None
    description: str | None


class ContextVariable(BaseModel):
    code: str
    names: dict[str, str]
    unit: str | None


class FrameworkOut(BaseModel):
    """The index tree: every node with its parent, weight and names; context variables are
    shown, not scored."""

    index: str
    levels: int
    pillars: list[str]
    nodes: list[FrameworkNode]
    context: list[ContextVariable]


class UnitsOut(RootModel[list[Row]]):
    """Every unit of the data with its metadata columns (code, names, country, region, ...) and
    `ranked` (false for units screened out of the build)."""


class IndicatorOut(BaseModel):
    code: str
    name: str
    names: dict[str, str]
    unit: str | None
    direction: int | None
    description: str | None
    parent: str | None
    values: list[Row] = Field(description="Every unit's value with its source (year, geography, publisher, URL, ...).")


class UnitResult(BaseModel):
    unit: str
    name: str
    scores: dict[str, float | None]
    ranks: dict[str, float | None]


class ResultsOut(BaseModel):
    """Scores and ranks of every ranked unit for the codes of one level (or all)."""

    codes: list[str]
    results: list[UnitResult]
    screened_out: list[Row] = Field(description="Units left out for too little data, with their coverage.")


# -- /api/profile, /api/compare, /api/whatif ---------------------------------------------------


class ProfileOut(BaseModel):
    """A unit's scores and ranks at every level, strengths, weaknesses, peers and sources."""

    unit: str
    name: str
    scores: list[Row]
    strengths: list[Row]
    weaknesses: list[Row]
    peers: list[Row]
    coverage: dict[str, Any] = Field(description="present, of, and the missing indicators.")
    sources: list[Row]


class CompareOut(BaseModel):
    """Two units head to head: the index gap and each code's contribution to it."""

    a: str
    b: str
    gap: float | None
    levels: list[Row]
    contributions: list[Row]
    pillar_contributions: dict[str, float | None]


class WhatIfOut(BaseModel):
    """Scores and ranks before and after the changes, by code."""

    unit: str
    changes: list[Row]


# -- /api/personas, POST /api/rank -----------------------------------------------------------------


class PersonaOut(BaseModel):
    code: str
    names: dict[str, str]
    weights: dict[str, Number]
    rationale: dict[str, str]


RANK_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Columns in a fixed unit order: `{weights, units, names, rank, score, [pillars: {code: [...]}], order}`; "
                       "`order` lists unit positions best first.",
        "content": {"application/json": {}},
    }
}


# -- /api/uncertainty ----------------------------------------------------------------------------


class UncertaintyOut(BaseModel):
    """Monte Carlo rank intervals of the index (the served pipeline's uncertain inputs)."""

    samples: int
    seed: int
    rank_intervals: list[Row]


# -- /api/runs, /api/datasets, /api/builds ------------------------------------------------------


class RunOut(BaseModel):
    run_id: str
    created_at: str
    index_code: str
    n_units: int
    n_codes: int
    duration_s: float | None
    label: str | None
    data: str | None


class UploadOut(BaseModel):
    name: str
    version: int
    sha256: str
    units: int = Field(description="How many units the data set has.")


class RankingRow(BaseModel):
    unit: str
    name: str
    rank: float | None
    score: float | None
    pillars: dict[str, float | None]
    missing: int
    region: Any


class BuildOut(BaseModel):
    """The recorded run and its top ten."""

    run_id: str
    dataset: str
    version: int
    ranking: list[RankingRow]
