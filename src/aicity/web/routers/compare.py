"""GET /api/profile/{unit}, /api/compare and POST /api/whatif: one unit, two units, and a
unit with changed data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from aicity.compare import compare, profile
from aicity.web.deps import ExplorerDep, KnownQuery, RankedPair, RankedUnit
from aicity.web.models import CompareOut, ProfileOut, WhatIfOut, WhatIfRequest
from aicity.web.serialize import clean, records

router = APIRouter(prefix="/api", tags=["compare"], dependencies=[KnownQuery])  # an unknown query key is a 422


@router.get("/profile/{unit}", response_model=ProfileOut)
def api_profile(ex: ExplorerDep, q: RankedUnit) -> dict[str, Any]:
    p = profile(ex.result, q.code, q.lang, rank_intervals=ex.rank_intervals())
    return clean({"unit": p.unit, "name": p.name, "scores": records(p.scores), "strengths": records(p.strengths),
                  "weaknesses": records(p.weaknesses), "peers": records(p.peers), "coverage": p.coverage,
                  "sources": records(p.sources.drop(columns=[c for c in ("row", "used") if c in p.sources.columns]))})


@router.get("/compare", response_model=CompareOut)
def api_compare(ex: ExplorerDep, q: RankedPair) -> dict[str, Any]:
    c = compare(ex.result, q.a, q.b, q.lang)
    return clean({"a": q.a, "b": q.b, "gap": c.gap, "levels": records(c.levels), "contributions": records(c.contributions),
                  "pillar_contributions": c.pillar_contributions().to_dict()})


@router.post("/whatif", response_model=WhatIfOut)
def api_whatif(ex: ExplorerDep, req: WhatIfRequest) -> dict[str, Any]:
    from aicity.whatif import changes_table, whatif

    code = ex.unit(req.unit)
    if len(req.changes) > len(ex.fw.indicators):
        raise HTTPException(422, detail="too many changes")
    after = whatif(ex.result, code, req.changes)
    return clean({"unit": code, "changes": records(changes_table(ex.result, after, code, req.lang))})
