"""GET /api/runs, POST /api/datasets and POST /api/builds: the run store and uploaded data
sets (writes need the bearer token)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from aicity.web.deps import AuthorizedBuild, AuthorizedUpload, ExplorerDep
from aicity.web.models import BuildOut, RunOut, UploadOut
from aicity.web.serialize import clean, records
from aicity.web.settings import MAX_UPLOAD_BYTES

router = APIRouter(prefix="/api", tags=["store"])


@router.get("/runs", response_model=list[RunOut])
def api_runs(ex: ExplorerDep) -> list[dict[str, Any]]:
    with ex.store() as st:
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
    with ex.store() as st:
        version, digest = st.add_dataset(name, body)
    return {"name": name, "version": version, "sha256": digest, "units": len(ds.unit_codes)}


@router.post("/builds", status_code=201, response_model=BuildOut)
def api_build(ex: ExplorerDep, req: AuthorizedBuild) -> dict[str, Any]:
    """Build an uploaded data set with the served framework and record the run."""
    with ex.store() as st:
        found = st.dataset(req.dataset, req.version)
    if found is None:
        raise HTTPException(404, detail=f"no data set '{req.dataset}'" + (f" version {req.version}" if req.version else ""))
    version, content = found
    res = ex.build_stored(req.dataset, version, content)
    with ex.store() as st:
        run_id = st.save(res, framework=ex.fw.source, data=f"dataset:{req.dataset}@{version}", label=req.label)
    return clean({"run_id": run_id, "dataset": req.dataset, "version": version, "ranking": ex.ranking(res, "en")[:10]})
