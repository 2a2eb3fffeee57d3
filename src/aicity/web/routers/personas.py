"""GET /api/personas and POST /api/rank: the ranking under a persona's or a reader's weights."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from aicity.errors import InputError
from aicity.personas import persona_weights
from aicity.web.deps import ExplorerDep, KnownQuery, known_query
from aicity.web.explorer import Explorer
from aicity.web.models import RANK_RESPONSES, PersonaOut, RankRequest
from aicity.weights import check_weights

router = APIRouter(prefix="/api", tags=["personas"], dependencies=[KnownQuery])  # an unknown query key is a 422


@router.get("/personas", response_model=list[PersonaOut])
def api_personas(ex: ExplorerDep) -> list[dict[str, Any]]:
    return [{"code": k, "names": p.names, "weights": p.weights, "rationale": p.rationale} for k, p in ex.fw.personas.items()]


@router.post("/rank", response_class=Response, responses=RANK_RESPONSES)
async def api_rank(ex: ExplorerDep, req: RankRequest) -> Response:
    """The ranking under a persona's or custom weights (only the levels whose weights
    changed are recomputed; repeated weights come from a cache). Async on purpose: the
    work takes about a millisecond, less than handing it to a thread would cost."""
    return Response(await rank_answer(ex, req), media_type="application/json")


async def rank_fast(request: Request) -> Response:
    """POST /api/rank as served: the same request model, checks and answer as `api_rank`
    (which stays the documented route in /openapi.json), without FastAPI's per-request
    dependency and body machinery, which cost as much as the ranking itself under load.
    Validation errors are FastAPI's own (`RequestValidationError`, located in the body)."""
    import orjson
    from fastapi.exceptions import RequestValidationError
    from pydantic import ValidationError

    await known_query(request)  # none: the route declares no query key
    body = await request.body()
    try:
        raw = orjson.loads(body) if body else None
    except orjson.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error",
                                       "input": {}}]) from None
    if raw is None:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    try:
        req = RankRequest.model_validate(raw, from_attributes=True)  # as FastAPI validates a body
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    return Response(await rank_answer(request.app.state.explorer, req), media_type="application/json")


async def rank_answer(ex: Explorer, req: RankRequest) -> bytes:
    """The answer's bytes for a checked request: the one rule for both routes."""
    if req.persona is not None and req.weights is not None:
        raise HTTPException(422, detail="give a persona or weights, not both")
    if req.persona is not None:
        try:
            weights = persona_weights(ex.fw, req.persona)  # checked by the weights' rule
        except InputError as exc:  # named by the request's key, not the server's framework file
            raise InputError([dataclasses.replace(p, file="persona") for p in exc.problems]) from None
    else:
        if len(req.weights or {}) > len(ex.fw.codes):
            raise HTTPException(422, detail="too many weights")
        weights = check_weights(ex.fw, req.weights or {})
    # Pre-serialised bytes (the answer is built from arrays): the schema is in RANK_RESPONSES.
    if ex.slow_reaggregation:  # benefit of the doubt (a linear programme per unit) or Copeland: off the event loop
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(ex.ranked_payload, weights, req.lang, req.pillars)
    return ex.ranked_payload(weights, req.lang, req.pillars)
