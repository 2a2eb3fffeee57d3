"""GET /api/framework, /api/units, /api/indicators, /api/results: the served index as it is."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from aicity.web.deps import ExplorerDep, KnownQuery, Lang
from aicity.web.models import FrameworkOut, IndicatorOut, ResultsOut, UnitsOut
from aicity.web.serialize import clean, records

router = APIRouter(prefix="/api", tags=["index"], dependencies=[KnownQuery])  # an unknown query key is a 422


@router.get("/framework", response_model=FrameworkOut)
def api_framework(ex: ExplorerDep) -> dict[str, Any]:
    fw = ex.fw
    nodes = [
        {"code": c, "level": fw.levels[c], "parent": fw.node(c).parent, "weight": fw.node(c).weight,
         "direction": fw.node(c).direction if fw.node(c).kind == "indicator" else None, "names": fw.node(c).names,
         "unit": fw.node(c).unit, "description": fw.node(c).description}
        for c in fw.codes
    ]
    return clean({"index": fw.index_code, "levels": fw.n_levels, "pillars": fw.pillars(), "nodes": nodes,
                  "context": [{"code": c.code, "names": c.names, "unit": c.unit} for c in fw.context]})


@router.get("/units", response_model=UnitsOut)
def api_units(ex: ExplorerDep) -> list[dict[str, Any]]:
    units = ex.result.dataset.units.reset_index()
    ranked = set(ex.result.units)
    out = records(units)
    for row in out:
        row["ranked"] = row["unit"] in ranked
    return out


@router.get("/indicators", response_model=list[IndicatorOut])
def api_indicators(ex: ExplorerDep, lang: Lang = "en") -> list[dict[str, Any]]:
    obs = ex.result.dataset.sources()
    fw = ex.fw
    out = []
    for code in fw.indicators:
        node = fw.node(code)
        rows = obs[obs.indicator == code].drop(columns=[c for c in ("indicator", "row", "used") if c in obs.columns])
        out.append({"code": code, "name": node.name(lang), "names": node.names, "unit": node.unit, "direction": node.direction,
                    "description": node.description, "parent": node.parent, "values": records(rows)})
    return out


@router.get("/results", response_model=ResultsOut)
def api_results(ex: ExplorerDep, level: Annotated[int | None, Query(ge=1, le=20)] = None, lang: Lang = "en") -> dict[str, Any]:
    r = ex.result
    codes = r.codes if level is None else r.framework.codes_at_level(level)
    if not codes:
        raise HTTPException(404, detail=f"no level {level}")
    cols = [r.codes.index(c) for c in codes]
    rows = [{"unit": u, "name": r.dataset.unit_name(u, lang), "scores": dict(zip(codes, r.scores_array[i, cols].tolist(), strict=True)),
             "ranks": dict(zip(codes, r.ranks_array[i, cols].tolist(), strict=True))} for i, u in enumerate(r.units)]
    return clean({"codes": codes, "results": rows, "screened_out": records(r.screened_out)})
