"""The app's exception handlers: every error answers JSON, never a stack trace; a page that is
not there answers a browser with a page in its language (`not_found_page`)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from aicity.data import find_unit
from aicity.errors import InputError, PipelineError, UnitNotFound, UnitNotRanked
from aicity.store import StoreBusy, StoreError
from aicity.web.render import Wording, page_html
from aicity.web.settings import CSP, SECURITY_HEADERS, page_language

log = logging.getLogger("aicity.web")


def wants_page(request: Request) -> bool:
    """Whether a 404 is answered with a page rather than JSON: a browser's request (it accepts
    text/html) for one of the explorer's pages (a route that answers HTML), or for an address
    no route has, outside /api/ and /static/. Scripts, and everything under /api/, keep
    their JSON."""
    if "text/html" not in request.headers.get("accept", ""):
        return False
    route = request.scope.get("route")
    if route is None:
        return not request.url.path.startswith(("/api/", "/static/"))
    return getattr(route, "response_class", None) is HTMLResponse


def not_found_page(request: Request, key: str, name: str = "") -> HTMLResponse:
    """The 404 page in the language the request asked for: `key`'s message of the UI
    catalogue about `name` (quoted where it is what the request asked for), and a link back
    to the ranking."""
    lang = page_language(request.query_params.get("lang"))
    if key in ("no_unit", "no_indicator"):
        name = Wording(lang).quote(name)
    return HTMLResponse(page_html(request.app.state.explorer, "base.html.j2", lang, message={"key": key, "name": name}), status_code=404)


def missing_unit(request: Request) -> tuple[str, str]:
    """Which unit a page asked for is not there, as a message key of the UI catalogue and
    what it is about: ('no_unit', the name asked for) or ('not_ranked', the unit's name in the
    page's language)."""
    ex = request.app.state.explorer
    params = request.path_params
    asked = [params["unit"]] if "unit" in params else [request.query_params.get("a"), request.query_params.get("b")]
    for query in asked:
        if query is None:
            continue
        try:
            code = find_unit(ex.result.dataset, query)
        except UnitNotFound:
            return "no_unit", query
        if code not in ex.result.units:
            return "not_ranked", ex.name(code, page_language(request.query_params.get("lang")))
    return "no_page", ""


async def no_such_unit(request: Request, exc: InputError) -> Response:
    if wants_page(request):
        return not_found_page(request, *missing_unit(request))
    return JSONResponse({"detail": exc.problems[0].reason}, status_code=404)


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """FastAPI's answer, but a 404 a browser gets for a page is a page (`wants_page`)."""
    if exc.status_code == 404 and wants_page(request):
        return not_found_page(request, getattr(exc, "key", "no_page"), getattr(exc, "name", ""))
    return await http_exception_handler(request, exc)


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
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(StoreBusy, store_busy)  # a store problem anywhere: 503 / 500, never a 422 with a path
    app.add_exception_handler(StoreError, store_error)
    app.add_exception_handler(InputError, input_error)
    app.add_exception_handler(PipelineError, pipeline_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)
