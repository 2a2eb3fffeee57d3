"""GET /api/uncertainty: rank intervals of the served index."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from aicity.web.deps import ExplorerDep
from aicity.web.models import UncertaintyOut
from aicity.web.serialize import records
from aicity.web.settings import MAX_SAMPLES

router = APIRouter(prefix="/api", tags=["analysis"])


@router.get("/uncertainty", response_model=UncertaintyOut)
def api_uncertainty(ex: ExplorerDep, samples: Annotated[int, Query(ge=10, le=MAX_SAMPLES)] = 1000,
                    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 1) -> dict[str, Any]:
    ri = ex.rank_intervals(samples, seed)
    return {"samples": samples, "seed": seed, "rank_intervals": records(ri)}
