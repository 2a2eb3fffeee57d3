"""GET /api/uncertainty: rank intervals of the served index."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query

from aicity.web.deps import Authorization, ExplorerDep, KnownQuery
from aicity.web.explorer import Busy
from aicity.web.models import UncertaintyOut
from aicity.web.serialize import records
from aicity.web.settings import MAX_ANON_SAMPLES, MAX_SAMPLES, UNCERTAINTY_CACHE_SIZE

router = APIRouter(prefix="/api", tags=["analysis"], dependencies=[KnownQuery])  # an unknown query key is a 422


@router.get("/uncertainty", response_model=UncertaintyOut, description=(
    "Rank intervals (5th, 50th and 95th percentile ranks) under the index's uncertainty. One analysis runs at a time "
    f"in each worker (others get 503 with Retry-After); the last {UNCERTAINTY_CACHE_SIZE} results and the default one are kept."),
    responses={
    401: {"description": f"More than {MAX_ANON_SAMPLES:,} samples without the bearer token."},
    403: {"description": f"More than {MAX_ANON_SAMPLES:,} samples on a server without a token (AICITY_TOKEN)."},
    503: {"description": "Another analysis is running in this worker; Retry-After says when to ask again."}})
def api_uncertainty(ex: ExplorerDep,
                    samples: Annotated[int, Query(ge=10, le=MAX_SAMPLES, description=(
                        f"Monte Carlo samples: up to {MAX_ANON_SAMPLES:,} for anyone, {MAX_SAMPLES:,} with the bearer token."))] = 1000,
                    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 1,
                    authorization: Authorization = None) -> dict[str, Any]:
    if samples > MAX_ANON_SAMPLES and not ex.token:
        raise HTTPException(403, detail=f"more than {MAX_ANON_SAMPLES:,} samples need the bearer token, and this server has "
                                        "none (start it with AICITY_TOKEN set); ask for fewer samples")
    if samples > MAX_ANON_SAMPLES and not ex.is_authorized(authorization):
        raise HTTPException(401, detail=f"more than {MAX_ANON_SAMPLES:,} samples need the bearer token: "
                                        "send 'Authorization: Bearer <token>' or ask for fewer samples",
                            headers={"WWW-Authenticate": 'Bearer realm="aicity"'})
    try:
        ri = ex.rank_intervals(samples, seed, wait=False)
    except Busy:
        raise ex.uncertainty_busy() from None
    return {"samples": samples, "seed": seed, "rank_intervals": records(ri)}
