"""What the server serves: one built index, its uncertainty (computed on demand, at most one
computation at a time, the last few results kept), the run store and the uploads. The routes
ask it; it asks the Python API."""

from __future__ import annotations

import dataclasses
import hmac
import json
import logging
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import HTTPException

from aicity.data import Dataset, load_data
from aicity.errors import InputError, Problem
from aicity.result import IndexResult
from aicity.store import Store
from aicity.web.serialize import clean, json_floats, json_ints
from aicity.web.settings import UNCERTAINTY_CACHE_SIZE, UNCERTAINTY_RETRY_AFTER

RANK_CACHE_SIZE = 4096
log = logging.getLogger("aicity.web")
DEFAULT_UNCERTAINTY = (1000, 1)  # (samples, seed) of the pages and the profile API


class Busy(Exception):
    """Another uncertainty computation is running in this worker: ask again later."""


class UncertaintyCache:
    """Uncertainty results by (samples, seed), bounded in memory and in CPU:

    - at most `size` results are kept, the least recently used dropped first; the pages'
      default (`DEFAULT_UNCERTAINTY`) is kept apart and never dropped;
    - one computation runs at a time (a computation takes a CPU for seconds): a caller that
      must not wait (`wait=False`, the anonymous API) gets `Busy` while another runs; one that
      may (the pages' default) waits for it. A result found in the cache never waits."""

    def __init__(self, size: int = UNCERTAINTY_CACHE_SIZE):
        self.size = size
        self.results: OrderedDict[tuple[int, int], pd.DataFrame] = OrderedDict()
        self.default: pd.DataFrame | None = None
        self.computing = threading.Lock()  # held while a computation runs
        self._lock = threading.Lock()  # guards `results` and `default`
        self.computations = 0  # how many ran (tests and diagnostics)

    def __len__(self) -> int:
        return len(self.results) + (self.default is not None)

    def cached(self, key: tuple[int, int]) -> pd.DataFrame | None:
        with self._lock:
            if key == DEFAULT_UNCERTAINTY:
                return self.default
            found = self.results.get(key)
            if found is not None:
                self.results.move_to_end(key)
            return found

    def get(self, key: tuple[int, int], compute: Callable[[], pd.DataFrame], wait: bool) -> pd.DataFrame:
        found = self.cached(key)
        if found is not None:
            return found
        if not self.computing.acquire(blocking=wait):
            raise Busy()
        try:
            found = self.cached(key)  # computed while this caller waited
            if found is not None:
                return found
            value = compute()
            self.computations += 1
            with self._lock:
                if key == DEFAULT_UNCERTAINTY:
                    self.default = value
                else:
                    self.results[key] = value
                    while len(self.results) > self.size:
                        self.results.popitem(last=False)
            return value
        finally:
            self.computing.release()


@dataclass
class Explorer:
    """What the server serves: one built index, its uncertainty (`UncertaintyCache`) and the
    store."""

    result: IndexResult
    store_path: Path | None
    token: str | None
    store_wait: float | None = None  # seconds to wait for a store another process holds (None: the store's default)
    intervals: UncertaintyCache = field(default_factory=UncertaintyCache)
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

    @cached_property
    def slow_reaggregation(self) -> bool:
        """Whether re-weighting runs a method that takes no batch (BoD's linear programmes,
        Copeland's pairs): those go to a thread rather than the event loop."""
        return not self.result.aggregates_in_batches

    def ranked_payload(self, weights: dict[str, float], lang: str, with_pillars: bool) -> bytes:
        """`rank_payload`, cached by the weights (repeated weights cost a dictionary lookup)."""
        if self._rank_cache is None:
            self._rank_cache = lru_cache(maxsize=RANK_CACHE_SIZE)(
                lambda key, lang_, pillars: self.rank_payload(dict(key), lang_, pillars))
        key = tuple(sorted(weights.items()))  # the exact weights: the answer is computed from the key
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
            + pillars + ',"order":' + json_ints(order) + "}"
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
        units = result.dataset.units  # the ranked result's own units (an upload may have units the served data lacks)
        rows = []
        for unit, row in frame.iterrows():
            rows.append({
                "unit": unit, "name": row["name"], "rank": row["rank"], "score": row[fw.index_code],
                "pillars": {p: row[p] for p in fw.pillars()}, "missing": int(row["missing"]),
                "region": units.at[unit, "region"] if "region" in units.columns and unit in units.index else None,
            })
        return clean(rows)

    def rank_intervals(self, samples: int = DEFAULT_UNCERTAINTY[0], seed: int = DEFAULT_UNCERTAINTY[1], *,
                       wait: bool = True) -> pd.DataFrame:
        """Rank intervals from `samples` uncertainty samples drawn with `seed`, from the cache
        or computed (one computation at a time; `Busy` when another runs and `wait` is false)."""

        def compute() -> pd.DataFrame:
            from aicity.uncertainty import load_uncertainty, run_uncertainty

            # the same rule as the CLI and the report: the pipeline file's uncertainty inputs,
            # else the framework's, else the documented defaults
            raw = (load_uncertainty(self.pipeline) if self.pipeline else None) or self.fw.uncertainty
            ua = run_uncertainty(self.fw, self.result.dataset, self.result.spec_dict()["pipeline"], samples=samples, seed=seed,
                                 uncertainty=raw)
            return ua.rank_intervals()

        return self.intervals.get((samples, seed), compute, wait)

    def uncertainty_busy(self) -> HTTPException:
        return HTTPException(503, detail="another uncertainty analysis is running on this server: try again shortly",
                             headers={"Retry-After": str(UNCERTAINTY_RETRY_AFTER)})

    def is_authorized(self, authorization: str | None) -> bool:
        """Whether the request carries the server's bearer token (never an error)."""
        try:
            self.check_token(authorization)
        except HTTPException:
            return False
        return True

    def check_token(self, authorization: str | None) -> None:
        """The request's Authorization header must be exactly `Bearer <token>` with the
        server's token: 403 when the server has none, 401 (with `WWW-Authenticate: Bearer`)
        when the header is missing, of another scheme, or the token is wrong."""
        if not self.token:
            raise HTTPException(403, detail="writes are disabled: start the server with AICITY_TOKEN set")
        challenge = {"WWW-Authenticate": 'Bearer realm="aicity"'}
        if not authorization:
            raise HTTPException(401, detail="missing Authorization header: send 'Authorization: Bearer <token>'", headers=challenge)
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given or given != given.strip() or " " in given:
            raise HTTPException(401, detail="the Authorization header must be 'Bearer <token>' (the scheme Bearer, one space, the token)",
                                headers=challenge)
        # Constant-time: the comparison does not stop at the first wrong character.
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            raise HTTPException(401, detail="invalid bearer token",
                                headers={"WWW-Authenticate": 'Bearer realm="aicity", error="invalid_token"'})

    @contextmanager
    def store(self, write: bool = False) -> Iterator[Store]:
        """The run store: read-only unless `write` (a read never makes, migrates or locks the
        file for writing, and works on a store this server may not write). Requests on one
        file take turns by the store's own lock; one waiting for another process holds no
        other request up. What the store has to say while it waits goes to the server's log."""
        with Store(self.store_path, read_only=not write, wait=self.store_wait, on_wait=log.warning) as st:
            yield st

    def read_upload(self, content: bytes, name: str) -> Dataset:
        """An uploaded data set, checked like any CLI input (every problem named by the
        upload, not a temporary path)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.csv"
            path.write_bytes(content)
            try:
                ds = self.load_dataset(path)
            except InputError as exc:
                raise InputError([dataclasses.replace(p, file=f"upload '{name}'") for p in exc.problems]) from None
        if not ds.unit_codes:
            raise InputError([Problem(f"upload '{name}'", "no data rows: the CSV has a header and no unit")])
        return ds

    def build_stored(self, name: str, version: int, content: bytes) -> IndexResult:
        """A stored upload built with the served framework and pipeline."""
        from aicity.build import build

        pipeline = self.result.spec_dict()["pipeline"]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}-v{version}.csv"
            path.write_bytes(content)
            try:
                dataset = self.load_dataset(path)
                # the pipeline names what it cannot build (e.g. every unit screened out)
                return build(self.fw, dataset, pipeline)
            except InputError as exc:  # named by the stored data set, never a temporary path
                raise InputError([dataclasses.replace(p, file=f"dataset '{name}' v{version}") if p.file == str(path) else p
                                  for p in exc.problems]) from None

    def load_dataset(self, path: Path) -> Dataset:
        """A data set checked against the served framework; cities the served index knows
        keep their names, new ones are welcome (they show by code)."""
        ds = load_data(path, self.fw)
        known = self.result.dataset.units
        ds.units = ds.units.join(known[[c for c in known.columns if c not in ds.units.columns]], how="left")
        return ds
