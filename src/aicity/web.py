"""The web explorer and REST API (FastAPI): a thin layer over the Python API.

Read endpoints serve the bundled index (or the one the server was started with) and the run
store; writes (uploading a data set, building it) need the bearer token set at start
(`AICITY_TOKEN`). Pages are rendered on the server with Jinja2 (every value escaped), and
plotly.js is served from the installed `plotly` package, so nothing is fetched from the
internet: the explorer works offline.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import hmac
import json
import math
import os
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Body, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from pydantic import BaseModel, Field

from aicity.build import build
from aicity.compare import compare, profile, radar_series, waterfall_series
from aicity.data import load_data
from aicity.errors import InputError, PipelineError, UnitNotFound, UnitNotRanked
from aicity.i18n import value_text
from aicity.messages import UI
from aicity.personas import persona_weights
from aicity.result import IndexResult
from aicity.store import Store
from aicity.weights import check_weights

MAX_UPLOAD_BYTES = 5_000_000
MAX_BODY_BYTES = 6_000_000
MAX_SAMPLES = 20_000
LANGS = ("en", "ko", "ja")

REGIONS = {
    "en": {},
    "ko": {"East Asia": "동아시아", "Southeast Asia": "동남아시아", "South Asia": "남아시아", "Middle East": "중동", "Europe": "유럽",
           "North America": "북미", "Oceania": "오세아니아"},
    "ja": {"East Asia": "東アジア", "Southeast Asia": "東南アジア", "South Asia": "南アジア", "Middle East": "中東", "Europe": "ヨーロッパ",
           "North America": "北米", "Oceania": "オセアニア"},
}
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fbf"/>'
    '<path d="M3 12h2V7H3zm4 0h2V4H7zm4 0h2V9h-2z" fill="#fff"/></svg>'
)



# -- request and response bodies (they make the OpenAPI schema) ------------------------------


class RankRequest(BaseModel):
    weights: dict[str, float] | None = Field(None, description="Weights by code or alias, e.g. {\"INFRA\": 2}; others keep theirs.")
    persona: str | None = Field(None, description="A persona code (see GET /api/personas).")
    lang: str = Field("en", pattern="^(en|ko|ja)$")
    pillars: bool = Field(False, description="Also return every pillar's scores.")


class WhatIfRequest(BaseModel):
    unit: str = Field(..., max_length=200)
    changes: dict[str, float] = Field(..., description="Raw indicator values by code.")
    lang: str = Field("en", pattern="^(en|ko|ja)$")


class BuildRequest(BaseModel):
    dataset: str = Field(..., max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    version: int | None = Field(None, ge=1)
    label: str | None = Field(None, max_length=200)


def _clean(value: Any) -> Any:
    """JSON has no NaN: missing becomes null."""
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _json_ints(values: np.ndarray) -> str:
    """Whole numbers (ranks) as a JSON array, NaN as null."""
    if np.isnan(values).any():
        return json.dumps([None if math.isnan(v) else int(v) for v in values.tolist()])
    return json.dumps(values.astype(np.int64).tolist())


def _year_text(year: Any) -> str:
    """'2023' for 2023 or 2023.0; '' for a missing year, NaN, or data without a year column."""
    try:
        return "" if year is None or isinstance(year, Undefined) or pd.isna(year) else str(int(year))
    except (TypeError, ValueError):
        return str(year)


def _json_floats(values: np.ndarray) -> str:
    """A float array as a JSON array, NaN as null, by pandas' C encoder (10 significant
    digits): the standard library's float formatting dominated the whole request."""
    return pd.Series(values, copy=False).to_json(orient="values", double_precision=10)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in frame.to_dict(orient="records")]


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

    @property
    def fw(self):
        return self.result.framework

    def names(self, lang: str) -> list[str]:
        if lang not in self._names:
            self._names[lang] = [self.result.dataset.unit_name(u, lang) for u in self.result.units]
        return self._names[lang]

    def rank_payload(self, weights: dict[str, float], lang: str, with_pillars: bool = False) -> bytes:
        """POST /api/rank's answer, computed on arrays: re-aggregate only the levels whose
        weights changed, rank the index, serialise once (the same numbers as
        `personas.reweight`, which a test checks)."""
        from aicity.build import aggregation_plan
        from aicity.personas import reweighted_ranking

        r = self.result
        plan = self._plan or aggregation_plan(r.framework)
        self._plan = plan
        scores, ranks, order = reweighted_ranking(r, weights, plan)
        fw = r.framework
        index = scores[:, plan.codes.index(fw.index_code)]
        pillars = ""
        if with_pillars:
            pillars = ',"pillars":{' + ",".join(f'"{p}":' + _json_floats(scores[:, plan.codes.index(p)]) for p in fw.pillars()) + "}"
        # Columns in the fixed unit order, plus `order` (positions, best first): the unit and
        # name columns never change, so they are serialised once per language.
        return (
            '{"weights":' + json.dumps(weights) + "," + self.fixed_json(lang)
            + ',"rank":' + _json_ints(ranks) + ',"score":' + _json_floats(index)
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
        return _clean(rows)

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

    def with_store(self, fn):
        with self.store_lock, Store(self.store_path) as st:
            st.con.execute(DATASETS_SCHEMA)
            return fn(st)


DATASETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    uploaded_at TIMESTAMP NOT NULL,
    sha256 VARCHAR NOT NULL,
    n_bytes INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (name, version)
);
"""


class BodyLimit:
    """ASGI middleware: refuse request bodies over a limit, whether or not they declare a
    Content-Length, before the application reads them."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await _too_large(send, self.limit)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"detail": f"request body over {limit:,} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def create_app(
    framework: str | Path | None = None,
    data: str | Path | None = None,
    *,
    units: str | Path | None = None,
    pipeline: str | Path | None = None,
    store: str | Path | None = None,
    token: str | None = None,
    cors_origins: list[str] | None = None,
) -> FastAPI:
    """The explorer app. `token` defaults to $AICITY_TOKEN; CORS stays closed unless
    `cors_origins` (or $AICITY_CORS_ORIGINS, comma-separated) names origins."""
    result = build(framework, data, pipeline, units=units)
    ex = Explorer(result=result, store_path=Path(store) if store else None, token=token if token is not None else os.environ.get("AICITY_TOKEN"),
                  pipeline=pipeline)
    app = FastAPI(
        title="AI City Index",
        version="0.1.0",
        description="Global AI City Index: rankings, profiles, comparisons, personas and what-if, with sources.",
    )
    app.state.explorer = ex
    origins = cors_origins if cors_origins is not None else [o for o in os.environ.get("AICITY_CORS_ORIGINS", "").split(",") if o]
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    env = Environment(loader=PackageLoader("aicity", "templates"), autoescape=select_autoescape(enabled_extensions=("html", "j2")))
    env.filters["value"] = value_text  # raw values as published: 9,630,879 not 9630879.0
    env.filters["year"] = _year_text  # a year, or nothing where the data has none
    static = Path(__file__).parent / "static"

    @app.exception_handler(UnitNotFound)
    @app.exception_handler(UnitNotRanked)
    async def _no_such_unit(_: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": exc.problems[0].reason}, status_code=404)

    @app.exception_handler(InputError)
    async def _input_error(_: Request, exc: InputError) -> JSONResponse:
        problems = [{"file": p.file, "row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems]
        return JSONResponse({"detail": "invalid input", "problems": problems}, status_code=422)

    @app.exception_handler(PipelineError)
    async def _pipeline_error(_: Request, exc: PipelineError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(x) for x in e.get("loc", [])], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # No stack trace leaves the server; the log has it.
        return JSONResponse({"detail": "internal error"}, status_code=500)

    def lang_of(lang: str | None) -> str:
        return lang if lang in LANGS else "en"

    # -- API -------------------------------------------------------------------------------
    @app.get("/api/framework", tags=["index"])
    def api_framework() -> dict[str, Any]:
        fw = ex.fw
        nodes = [
            {"code": c, "level": fw.levels[c], "parent": fw.node(c).parent, "weight": fw.node(c).weight,
             "direction": fw.node(c).direction if fw.node(c).kind == "indicator" else None, "names": fw.node(c).names,
             "unit": fw.node(c).unit, "description": fw.node(c).description}
            for c in fw.codes
        ]
        return _clean({"index": fw.index_code, "levels": fw.n_levels, "pillars": fw.pillars(), "nodes": nodes,
                       "context": [{"code": c.code, "names": c.names, "unit": c.unit} for c in fw.context]})

    @app.get("/api/units", tags=["index"])
    def api_units() -> list[dict[str, Any]]:
        units = ex.result.dataset.units.reset_index()
        ranked = set(ex.result.units)
        out = _records(units)
        for row in out:
            row["ranked"] = row["unit"] in ranked
        return out

    @app.get("/api/indicators", tags=["index"])
    def api_indicators(lang: str = Query("en", pattern="^(en|ko|ja)$")) -> list[dict[str, Any]]:
        obs = ex.result.dataset.sources()
        fw = ex.fw
        out = []
        for code in fw.indicators:
            node = fw.node(code)
            rows = obs[obs.indicator == code].drop(columns=[c for c in ("indicator", "row", "used") if c in obs.columns])
            out.append({"code": code, "name": node.name(lang), "names": node.names, "unit": node.unit, "direction": node.direction,
                        "description": node.description, "parent": node.parent, "values": _records(rows)})
        return out

    @app.get("/api/results", tags=["index"])
    def api_results(level: int | None = Query(None, ge=1, le=20), lang: str = Query("en", pattern="^(en|ko|ja)$")) -> dict[str, Any]:
        r = ex.result
        codes = r.codes if level is None else r.framework.codes_at_level(level)
        if not codes:
            raise HTTPException(404, detail=f"no level {level}")
        cols = [r.codes.index(c) for c in codes]
        rows = [{"unit": u, "name": r.dataset.unit_name(u, lang), "scores": dict(zip(codes, r.scores_array[i, cols].tolist(), strict=True)),
                 "ranks": dict(zip(codes, r.ranks_array[i, cols].tolist(), strict=True))} for i, u in enumerate(r.units)]
        return _clean({"codes": codes, "results": rows, "screened_out": _records(r.screened_out)})

    @app.get("/api/profile/{unit}", tags=["compare"])
    def api_profile(unit: str, lang: str = Query("en", pattern="^(en|ko|ja)$")) -> dict[str, Any]:
        code = ex.unit(unit)
        p = profile(ex.result, code, lang, rank_intervals=ex.rank_intervals())
        return _clean({"unit": p.unit, "name": p.name, "scores": _records(p.scores), "strengths": _records(p.strengths),
                       "weaknesses": _records(p.weaknesses), "peers": _records(p.peers), "coverage": p.coverage,
                       "sources": _records(p.sources.drop(columns=[c for c in ("row", "used") if c in p.sources.columns]))})

    @app.get("/api/compare", tags=["compare"])
    def api_compare(a: str = Query(..., max_length=200), b: str = Query(..., max_length=200), lang: str = Query("en", pattern="^(en|ko|ja)$")) -> dict[str, Any]:
        ua, ub = ex.unit(a), ex.unit(b)
        c = compare(ex.result, ua, ub, lang)
        return _clean({"a": ua, "b": ub, "gap": c.gap, "levels": _records(c.levels), "contributions": _records(c.contributions),
                       "pillar_contributions": c.pillar_contributions().to_dict()})

    @app.get("/api/personas", tags=["personas"])
    def api_personas() -> list[dict[str, Any]]:
        return [{"code": k, "names": p.names, "weights": p.weights, "rationale": p.rationale} for k, p in ex.fw.personas.items()]

    @lru_cache(maxsize=4096)
    def _rank_cached(weights_key: tuple[tuple[str, float], ...], lang: str, with_pillars: bool) -> bytes:
        return ex.rank_payload(dict(weights_key), lang, with_pillars)

    @app.post("/api/rank", tags=["personas"], response_class=Response,
              responses={200: {"description": "Columns in a fixed unit order: `{weights, units, names, rank, score, [pillars: {code: [...]}], order}`; "
                                              "`order` lists unit positions best first.",
                               "content": {"application/json": {}}}})
    async def api_rank(req: RankRequest) -> Response:
        """The ranking under a persona's or custom weights (only the levels whose weights
        changed are recomputed; repeated weights come from a cache). Async on purpose: the
        work takes about a millisecond, less than handing it to a thread would cost."""
        if req.persona and req.weights:
            raise HTTPException(422, detail="give a persona or weights, not both")
        if req.persona:
            weights = check_weights(ex.fw, persona_weights(ex.fw, req.persona))
        else:
            if len(req.weights or {}) > len(ex.fw.codes):
                raise HTTPException(422, detail="too many weights")
            weights = check_weights(ex.fw, req.weights or {})
        key = tuple(sorted((k, round(v, 9)) for k, v in weights.items()))
        return Response(_rank_cached(key, req.lang, req.pillars), media_type="application/json")

    @app.post("/api/whatif", tags=["compare"])
    def api_whatif(req: WhatIfRequest) -> dict[str, Any]:
        from aicity.whatif import changes_table, whatif

        code = ex.unit(req.unit)
        if len(req.changes) > len(ex.fw.indicators):
            raise HTTPException(422, detail="too many changes")
        after = whatif(ex.result, code, req.changes)
        return _clean({"unit": code, "changes": _records(changes_table(ex.result, after, code, req.lang))})

    @app.get("/api/uncertainty", tags=["analysis"])
    def api_uncertainty(samples: int = Query(1000, ge=10, le=MAX_SAMPLES), seed: int = Query(1, ge=0, le=2**31 - 1)) -> dict[str, Any]:
        ri = ex.rank_intervals(samples, seed)
        return {"samples": samples, "seed": seed, "rank_intervals": _records(ri)}

    @app.get("/api/runs", tags=["store"])
    def api_runs() -> list[dict[str, Any]]:
        frame = ex.with_store(lambda st: st.runs())
        frame["created_at"] = frame["created_at"].astype(str)
        return _records(frame)

    @app.post("/api/datasets", tags=["store"], status_code=201)
    async def api_upload(
        request: Request,
        name: str = Query(..., max_length=100, pattern=r"^[A-Za-z0-9_.-]+$"),
        authorization: str | None = Header(None),
    ) -> dict[str, Any]:
        """Upload a data set as the request body (CSV, long or wide). It is validated with
        the same checks as the CLI and stored as a new version; nothing is overwritten."""
        ex.check_token(authorization)
        body = await request.body()
        if len(body) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, detail=f"data sets are limited to {MAX_UPLOAD_BYTES:,} bytes")
        if not body:
            raise HTTPException(422, detail="empty body: send the CSV as the request body")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{name}.csv"
            path.write_bytes(body)
            try:
                ds = _load_upload(path, ex)
            except InputError as exc:  # every problem, named by the upload rather than a temporary path
                raise InputError([dataclasses.replace(p, file=f"upload '{name}'") for p in exc.problems]) from None
        digest = hashlib.sha256(body).hexdigest()

        def insert(st: Store) -> int:
            st.con.execute("BEGIN TRANSACTION")
            try:
                version = st.con.execute("SELECT coalesce(max(version), 0) + 1 FROM datasets WHERE name = ?", [name]).fetchone()[0]
                st.con.execute("INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?)",
                               [name, version, datetime.now(UTC).replace(tzinfo=None), digest, len(body), body])
                st.con.execute("COMMIT")
            except BaseException:
                st.con.execute("ROLLBACK")
                raise
            return int(version)

        version = ex.with_store(insert)
        return {"name": name, "version": version, "sha256": digest, "units": len(ds.unit_codes)}

    @app.post("/api/builds", tags=["store"], status_code=201)
    def api_build(req: BuildRequest = Body(...), authorization: str | None = Header(None)) -> dict[str, Any]:
        """Build an uploaded data set with the served framework and record the run."""
        ex.check_token(authorization)

        def fetch(st: Store):
            if req.version is None:
                return st.con.execute("SELECT version, content FROM datasets WHERE name = ? ORDER BY version DESC LIMIT 1", [req.dataset]).fetchone()
            return st.con.execute("SELECT version, content FROM datasets WHERE name = ? AND version = ?", [req.dataset, req.version]).fetchone()

        row = ex.with_store(fetch)
        if row is None:
            raise HTTPException(404, detail=f"no data set '{req.dataset}'" + (f" version {req.version}" if req.version else ""))
        version, content = row
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{req.dataset}-v{version}.csv"
            path.write_bytes(bytes(content))
            res = build(ex.fw, _load_upload(path, ex), ex.result.spec_dict()["pipeline"])
        run_id = ex.with_store(lambda st: st.save(res, framework=ex.fw.source, data=f"dataset:{req.dataset}@{version}", label=req.label))
        return _clean({"run_id": run_id, "dataset": req.dataset, "version": version, "ranking": ex.ranking(res, "en")[:10]})

    # -- pages -----------------------------------------------------------------------------
    def page(template: str, lang: str, **context: Any) -> HTMLResponse:
        lang = lang_of(lang)
        html = env.get_template(template).render(
            lang=lang, t={**UI[lang], "regions": REGIONS[lang]}, langs=LANGS, index_name=ex.fw.node(ex.fw.index_code).name(lang), **context
        )
        return HTMLResponse(html)

    def ranking_rows(lang: str) -> list[dict[str, Any]]:
        rows = ex.ranking(ex.result, lang)
        ri = ex.rank_intervals()
        if ri is not None:
            lookup = ri.set_index("unit")
            for row in rows:
                if row["unit"] in lookup.index:
                    row["p05"], row["p95"] = _clean(lookup.at[row["unit"], "p05"]), _clean(lookup.at[row["unit"], "p95"])
        return rows

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def ranking_page(lang: str = "en") -> HTMLResponse:
        lang = lang_of(lang)
        rows = ranking_rows(lang)
        regions = sorted({r["region"] for r in rows if r["region"]})
        pillars = [{"code": p, "name": ex.fw.node(p).name(lang)} for p in ex.fw.pillars()]
        n_ranked = sum(1 for r in rows if r["rank"] is not None)
        return page("ranking.html.j2", lang, rows=rows, regions=regions, pillars=pillars, n_ranked=n_ranked)

    @app.get("/city/{unit}", response_class=HTMLResponse, include_in_schema=False)
    def city_page(unit: str, lang: str = "en") -> HTMLResponse:
        lang = lang_of(lang)
        code = ex.unit(unit)
        p = profile(ex.result, code, lang, rank_intervals=ex.rank_intervals())
        sources = p.sources.to_dict(orient="records")
        fw = ex.fw
        # The tree as the framework draws it: each pillar followed by its own sub-pillars.
        by_code = {r["code"]: r for r in _records(p.scores) if r["level"] > 1}
        tree: list[str] = []

        def walk(code: str) -> None:
            if code in by_code:
                tree.append(code)
            for child in fw.children.get(code, []):
                walk(child)

        walk(fw.index_code)
        levels = [dict(by_code[c], indent=fw.n_levels - by_code[c]["level"]) for c in tree]
        return page("city.html.j2", lang, p=p, levels=levels, strengths=_records(p.strengths), weaknesses=_records(p.weaknesses),
                    peers=_records(p.peers), sources=_clean(sources),
                    names={c: fw.node(c).name(lang) for c in fw.codes} | {c.code: c.name(lang) for c in fw.context})

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(a: str = "SEL", b: str = "TYO", lang: str = "en") -> HTMLResponse:
        lang = lang_of(lang)
        ua, ub = ex.unit(a), ex.unit(b)
        c = compare(ex.result, ua, ub, lang)
        fw = ex.fw
        water = waterfall_series(ex.result, c, lang)
        figure = {"radar": radar_series(ex.result, ua, ub, lang), "waterfall": {"x": water["x"], "y": water["y"]}}
        top = c.levels[c.levels.level >= fw.n_levels - 1]
        fav_a, fav_b = c.drivers(5)
        cities = [(u, ex.name(u, lang)) for u in ex.result.units]
        return page("compare.html.j2", lang, a=ua, b=ub, name_a=ex.name(ua, lang), name_b=ex.name(ub, lang), rows=_records(top),
                    fav_a=_records(fav_a), fav_b=_records(fav_b), figure=_clean(figure), cities=sorted(cities, key=lambda x: x[1]),
                    names={k: fw.node(k).name(lang) for k in fw.codes})

    @app.get("/build", response_class=HTMLResponse, include_in_schema=False)
    def build_page(lang: str = "en") -> HTMLResponse:
        lang = lang_of(lang)
        fw = ex.fw
        pillars = [{"code": p, "name": fw.node(p).name(lang), "weight": fw.node(p).weight} for p in fw.pillars()]
        personas = [{"code": k, "name": p.name(lang), "weights": {c: w for c, w in p.weights.items() if c in fw.pillars()}, "why": p.why(lang)}
                    for k, p in fw.personas.items()]
        return page("build.html.j2", lang, pillars=pillars, personas=personas, rows=ex.ranking(ex.result, lang),
                    pillar_defaults={p["code"]: p["weight"] for p in pillars})

    @app.get("/map", response_class=HTMLResponse, include_in_schema=False)
    def map_page(lang: str = "en") -> HTMLResponse:
        lang = lang_of(lang)
        units = ex.result.dataset.units
        rows = [r for r in ex.ranking(ex.result, lang) if r["rank"] is not None]
        points = [{"name": r["name"], "rank": r["rank"], "score": r["score"], "unit": r["unit"],
                   "lat": _clean(units.at[r["unit"], "lat"]) if "lat" in units else None, "lon": _clean(units.at[r["unit"], "lon"]) if "lon" in units else None}
                  for r in rows]
        return page("map.html.j2", lang, points=[p for p in points if p["lat"] is not None])

    @app.get("/data", response_class=HTMLResponse, include_in_schema=False)
    def data_page(lang: str = "en", indicator: str | None = None) -> HTMLResponse:
        lang = lang_of(lang)
        obs = ex.result.dataset.sources(indicator=indicator or None)
        fw = ex.fw
        rows = _clean(obs.to_dict(orient="records"))
        for r in rows:
            r["unit_name"] = ex.name(r["unit"], lang)
            r["indicator_name"] = fw.node(r["indicator"]).name(lang) if r["indicator"] in fw.nodes else r["indicator"]
        return page("data.html.j2", lang, rows=rows, indicators=[(c, fw.node(c).name(lang)) for c in fw.indicators], selected=indicator)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(FAVICON, media_type="image/svg+xml")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        import plotly

        return FileResponse(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", media_type="text/javascript")

    @app.get("/static/{name:path}", include_in_schema=False)
    def static_file(name: str) -> Response:
        path = (static / name).resolve()
        if static.resolve() not in path.parents or not path.is_file():
            raise HTTPException(404, detail="not found")
        return FileResponse(path)

    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    # Everything built so far lives as long as the server: keep the garbage collector from
    # walking it again and again (long pauses would show up as tail latency).
    gc.collect()
    gc.freeze()
    return app


def _load_upload(path: Path, explorer: Explorer):
    """An uploaded data set, checked like any CLI input; cities the served index knows keep
    their names, new ones are welcome (they show by code)."""
    ds = load_data(path, explorer.fw)
    known = explorer.result.dataset.units
    ds.units = ds.units.join(known[[c for c in known.columns if c not in ds.units.columns]], how="left")
    return ds


def app_from_env() -> FastAPI:
    """The app `aicity serve` starts in each worker, from the options it passed on."""
    args = json.loads(os.environ.get("AICITY_SERVE_ARGS", "{}"))
    return create_app(args.get("framework"), args.get("data"), units=args.get("units"), pipeline=args.get("pipeline"), store=args.get("store"))
