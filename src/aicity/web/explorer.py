"""What the server serves: one built index, its uncertainty (computed once, on demand), the
run store and the uploads. The routes ask it; it asks the Python API."""

from __future__ import annotations

import dataclasses
import hmac
import json
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import HTTPException

from aicity.data import Dataset, load_data
from aicity.errors import InputError
from aicity.result import IndexResult
from aicity.store import Store
from aicity.web.serialize import clean, json_floats, json_ints

RANK_CACHE_SIZE = 4096


@dataclass
class Explorer:
    """What the server serves: one built index, its uncertainty (computed once, on demand)
    and the store."""

    result: IndexResult
    store_path: Path | None
    token: str | None
    store_lock: threading.Lock = field(default_factory=threading.Lock)
    intervals: dict[tuple[int, int], pd.DataFrame] = field(default_factory=dict)
    _plan: Any = None
    pipeline: str | Path | None = None  # the pipeline file the server was started with (its uncertainty: section)

    _names: dict[str, list[str]] = field(default_factory=dict)
    _fixed: dict[str, str] = field(default_factory=dict)  # JSON of the unit and name columns
    _rank_cache: Callable[[tuple[tuple[str, float], ...], str, bool], bytes] | None = field(default=None, repr=False)

    @property
    def fw(self):
        return self.result.framework

    def names(self, lang: str) -> list[str]:
        if lang not in self._names:
            self._names[lang] = [self.result.dataset.unit_name(u, lang) for u in self.result.units]
        return self._names[lang]

    def ranked_payload(self, weights: dict[str, float], lang: str, with_pillars: bool) -> bytes:
        """`rank_payload`, cached by the weights (repeated weights cost a dictionary lookup)."""
        if self._rank_cache is None:
            self._rank_cache = lru_cache(maxsize=RANK_CACHE_SIZE)(
                lambda key, lang_, pillars: self.rank_payload(dict(key), lang_, pillars))
        key = tuple(sorted((k, round(v, 9)) for k, v in weights.items()))
        return self._rank_cache(key, lang, with_pillars)

    def rank_payload(self, weights: dict[str, float], lang: str, with_pillars: bool = False) -> bytes:
        """POST /api/rank's answer, computed on arrays: re-aggregate only the levels whose
        weights changed, rank the index, serialise once (the same numbers as
        `personas.reweight`, which a test checks)."""
        from aicity.personas import reweighted_ranking

        r = self.result
        plan = self._plan or r.plan  # each group's own aggregation, as in the build
        self._plan = plan
        scores, ranks, order = reweighted_ranking(r, weights, plan)
        fw = r.framework
        index = scores[:, plan.codes.index(fw.index_code)]
        pillars = ""
        if with_pillars:
            pillars = ',"pillars":{' + ",".join(f'"{p}":' + json_floats(scores[:, plan.codes.index(p)]) for p in fw.pillars()) + "}"
        # Columns in the fixed unit order, plus `order` (positions, best first): the unit and
        # name columns never change, so they are serialised once per language.
        return (
            '{"weights":' + json.dumps(weights) + "," + self.fixed_json(lang)
            + ',"rank":' + json_ints(ranks) + ',"score":' + json_floats(index)
            + pillars + ',"order":' + json.dumps(order.tolist()) + "}"
        ).encode()

    def fixed_json(self, lang: str) -> str:
        if lang not in self._fixed:
            units = json.dumps(self.result.units, ensure_ascii=False)
            names = json.dumps(self.names(lang), ensure_ascii=False)
            self._fixed[lang] = f'"units":{units},"names":{names}'
        return self._fixed[lang]

    def name(self, unit: str, lang: str) -> str:
        return self.result.dataset.unit_name(unit, lang)

    def unit(self, query: str) -> str:
        """A ranked unit of the explorer's build (404 otherwise, by the app's handlers)."""
        return self.result.ranked_unit(query)

    def ranking(self, result: IndexResult, lang: str) -> list[dict[str, Any]]:
        fw = result.framework
        frame = result.ranking(lang)
        units = self.result.dataset.units
        rows = []
        for unit, row in frame.iterrows():
            rows.append({
                "unit": unit, "name": row["name"], "rank": row["rank"], "score": row[fw.index_code],
                "pillars": {p: row[p] for p in fw.pillars()}, "missing": int(row["missing"]),
                "region": units.at[unit, "region"] if "region" in units.columns else None,
            })
        return clean(rows)

    def rank_intervals(self, samples: int = 1000, seed: int = 1) -> pd.DataFrame | None:
        key = (samples, seed)
        if key not in self.intervals:
            from aicity.uncertainty import load_uncertainty, run_uncertainty

            # the same rule as the CLI and the report: the pipeline file's uncertainty inputs,
            # else the framework's, else the documented defaults
            raw = (load_uncertainty(self.pipeline) if self.pipeline else None) or self.fw.uncertainty
            ua = run_uncertainty(self.fw, self.result.dataset, self.result.spec_dict()["pipeline"], samples=samples, seed=seed,
                                 uncertainty=raw)
            self.intervals[key] = ua.rank_intervals()
        return self.intervals.get(key)

    def check_token(self, authorization: str | None) -> None:
        if not self.token:
            raise HTTPException(403, detail="writes are disabled: start the server with AICITY_TOKEN set")
        given = (authorization or "").removeprefix("Bearer ").strip()
        # Constant-time: the comparison does not stop at the first wrong character.
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise HTTPException(401, detail="a valid bearer token is needed", headers={"WWW-Authenticate": "Bearer"})

    @contextmanager
    def store(self) -> Iterator[Store]:
        """The run store, one request at a time."""
        with self.store_lock, Store(self.store_path) as st:
            yield st

    def read_upload(self, content: bytes, name: str) -> Dataset:
        """An uploaded data set, checked like any CLI input (every problem named by the
        upload, not a temporary path)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.csv"
            path.write_bytes(content)
            try:
                return self.load_dataset(path)
            except InputError as exc:
                raise InputError([dataclasses.replace(p, file=f"upload '{name}'") for p in exc.problems]) from None

    def build_stored(self, name: str, version: int, content: bytes) -> IndexResult:
        """A stored upload built with the served framework and pipeline."""
        from aicity.build import build

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}-v{version}.csv"
            path.write_bytes(content)
            return build(self.fw, self.load_dataset(path), self.result.spec_dict()["pipeline"])

    def load_dataset(self, path: Path) -> Dataset:
        """A data set checked against the served framework; cities the served index knows
        keep their names, new ones are welcome (they show by code)."""
        ds = load_data(path, self.fw)
        known = self.result.dataset.units
        ds.units = ds.units.join(known[[c for c in known.columns if c not in ds.units.columns]], how="left")
        return ds
