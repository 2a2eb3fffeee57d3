"""The app's exception handlers: every error answers JSON, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from aicity.errors import InputError, PipelineError, UnitNotFound, UnitNotRanked
from aicity.store import StoreBusy, StoreError
from aicity.web.settings import CSP, SECURITY_HEADERS

log = logging.getLogger("aicity.web")


async def no_such_unit(_: Request, exc: InputError) -> JSONResponse:
    return JSONResponse({"detail": exc.problems[0].reason}, status_code=404)


MAX_PROBLEMS = 200  # problems listed in one answer (a bad upload can have thousands)


async def input_error(_: Request, exc: InputError) -> JSONResponse:
    """422 with the problems (the first `MAX_PROBLEMS`; `n_problems` counts them all)."""
    problems = [{"file": p.file, "row": p.row, "column": p.column, "reason": p.reason} for p in exc.problems[:MAX_PROBLEMS]]
    n = len(exc.problems)
    detail = "invalid input" if n <= MAX_PROBLEMS else f"invalid input: the first {MAX_PROBLEMS} of {n:,} problems"
    return JSONResponse({"detail": detail, "n_problems": n, "problems": problems}, status_code=422)


async def store_busy(_: Request, exc: InputError) -> JSONResponse:
    log.warning("%s", exc)
    return JSONResponse({"detail": "the run store is busy (held by another process); try again"}, status_code=503,
                        headers={"Retry-After": "5"})


async def store_error(_: Request, exc: InputError) -> JSONResponse:
    log.error("%s", exc)  # the store's path stays in the server's log
    return JSONResponse({"detail": "the run store cannot be used; see the server's log"}, status_code=500)


async def pipeline_error(_: Request, exc: PipelineError) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=422)


async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"loc": [str(x) for x in e.get("loc", [])], "msg": str(e.get("msg", ""))} for e in exc.errors()]
    return JSONResponse({"detail": "invalid request", "errors": errors}, status_code=422)


async def unexpected(_: Request, exc: Exception) -> JSONResponse:
    # No stack trace leaves the server; the log has it. This answer is made outside the
    # middleware (by Starlette's outermost error middleware): it carries the security headers itself.
    return JSONResponse({"detail": "internal error"}, status_code=500, headers=SECURITY_HEADERS | {"Content-Security-Policy": CSP})


def install_handlers(app: FastAPI) -> None:
    """Unknown or unranked unit: 404; bad input: 422 with every problem; anything else: 500."""
    app.add_exception_handler(UnitNotFound, no_such_unit)
    app.add_exception_handler(UnitNotRanked, no_such_unit)
    app.add_exception_handler(StoreBusy, store_busy)  # a store problem anywhere: 503 / 500, never a 422 with a path
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(InputError, input_error)
    app.add_exception_handler(PipelineError, pipeline_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
