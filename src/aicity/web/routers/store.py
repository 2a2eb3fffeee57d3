"""GET /api/runs, POST /api/datasets and POST /api/builds: the run store and uploaded data
sets (writes need the bearer token).

Every worker process opens the store only for the length of one transaction and waits its
turn for a store another process holds (`aicity.store`), so several workers and CLI builds
share one store. A store still busy past the wait answers 503 with Retry-After; a store that
cannot be used at all (corrupt, read-only) answers 500 and logs the store's problem. A build
is recorded only once its response is ready, so a failed build leaves no run behind."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from aicity.store import Store, StoreBusy, StoreError
from aicity.web.deps import AuthorizedBuild, AuthorizedUpload, ExplorerDep, KnownQuery
from aicity.web.explorer import Explorer
from aicity.web.models import BuildOut, RunOut, UploadOut
from aicity.web.serialize import clean, records
from aicity.web.settings import MAX_UPLOAD_BYTES

router = APIRouter(prefix="/api", tags=["store"], dependencies=[KnownQuery])  # an unknown query key is a 422
log = logging.getLogger("aicity.web")

RETRY_AFTER_S = 5


@contextmanager
def _store(ex: Explorer, write: bool = False) -> Iterator[Store]:
    """The run store for one request (read-only unless `write`); its problems as HTTP answers
    (the store's path stays in the server's log, not in the answer)."""
    try:
        with ex.store(write) as st:
            yield st
    except StoreBusy as exc:
        log.warning("%s", exc)
        raise HTTPException(503, detail="the run store is busy (held by another process); try again",
                            headers={"Retry-After": str(RETRY_AFTER_S)}) from None
    except StoreError as exc:
        log.error("%s", exc)
        raise HTTPException(500, detail="the run store cannot be used; see the server's log") from None


@router.get("/runs", response_model=list[RunOut])
def api_runs(ex: ExplorerDep) -> list[dict[str, Any]]:
    with _store(ex) as st:
        frame = st.runs()
    frame["created_at"] = frame["created_at"].astype(str)
    return records(frame)


@router.post("/datasets", status_code=201, response_model=UploadOut)
async def api_upload(request: Request, ex: ExplorerDep, name: AuthorizedUpload) -> dict[str, Any]:
    """Upload a data set as the request body (CSV, long or wide). It is validated with
    the same checks as the CLI and stored as a new version; nothing is overwritten."""
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, detail=f"data sets are limited to {MAX_UPLOAD_BYTES:,} bytes")
    if not body:
        raise HTTPException(422, detail="empty body: send the CSV as the request body")
    ds = ex.read_upload(body, name)

    def add() -> tuple[int, str]:  # in a thread: waiting for the store must not stop the server
        with _store(ex, write=True) as st:
            return st.add_dataset(name, body)

    version, digest = await run_in_threadpool(add)
    return {"name": name, "version": version, "sha256": digest, "units": len(ds.unit_codes)}


@router.post("/builds", status_code=201, response_model=BuildOut)
def api_build(ex: ExplorerDep, req: AuthorizedBuild) -> dict[str, Any]:
    """Build an uploaded data set with the served framework and record the run. The run is
    recorded last, once the answer is ready: a build that fails records nothing, so a retry
    never duplicates a run."""
    with _store(ex) as st:
        found = st.dataset(req.dataset, req.version)
    if found is None:
        raise HTTPException(404, detail=f"no data set '{req.dataset}'" + (f" version {req.version}" if req.version else ""))
    version, content = found
    res = ex.build_stored(req.dataset, version, content)
    answer = clean({"dataset": req.dataset, "version": version, "ranking": ex.ranking(res, "en")[:10]})
    BuildOut.model_validate({"run_id": "", **answer})  # an answer that cannot be sent fails before the run is recorded
    with _store(ex, write=True) as st:
        run_id = st.save(res, framework=ex.fw.source, data=f"dataset:{req.dataset}@{version}", label=req.label)
    return {"run_id": run_id, **answer}
