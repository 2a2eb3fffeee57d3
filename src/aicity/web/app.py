"""`create_app`: builds the index once, includes the routers, installs the exception handlers
and middleware; `app_from_env`: the app `aicity serve` starts in each worker."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi import FastAPI
from starlette.routing import Route

from aicity.build import build
from aicity.web.explorer import Explorer
from aicity.web.handlers import install_handlers
from aicity.web.middleware import BodyLimit, HeadAsGet, HeaderLimit, SecurityHeaders
from aicity.web.routers import analysis, compare, docs, index, pages, personas, store
from aicity.web.settings import MAX_BODY_BYTES, Settings

ROUTERS = (index.router, compare.router, personas.router, analysis.router, store.router, docs.router, pages.router)


def create_app(
    framework: str | Path | None = None,
    data: str | Path | None = None,
    *,
    units: str | Path | None = None,
    pipeline: str | Path | None = None,
    store: str | Path | None = None,
    token: str | None = None,
    cors_origins: list[str] | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The explorer app. `token` defaults to $AICITY_TOKEN; CORS stays closed unless
    `cors_origins` (or $AICITY_CORS_ORIGINS, comma-separated) names origins. The environment is
    read once, here (`Settings.from_env`), unless `settings` is given."""
    settings = settings if settings is not None else Settings.from_env()
    result = build(framework, data, pipeline, units=units)
    ex = Explorer(result=result, store_path=Path(store) if store else None, token=token if token is not None else settings.token,
                  pipeline=pipeline, store_wait=settings.store_wait)
    app = FastAPI(
        title="AI City Index",
        version="0.1.0",
        description="Global AI City Index: rankings, profiles, comparisons, personas and what-if, with sources.",
        docs_url=None,  # /docs and /redoc: routers/docs.py, from local files
        redoc_url=None,
    )
    app.state.explorer = ex
    app.state.settings = settings
    origins = cors_origins if cors_origins is not None else settings.cors_origins
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    # POST /api/rank, the hot path, is served by a lean route placed first; the FastAPI route
    # behind it keeps describing it in /openapi.json (same model, same checks, same answers).
    app.router.routes.insert(0, Route("/api/rank", personas.rank_fast, methods=["POST"]))
    # The last added runs first: security headers on every answer (431 and 413 included),
    # then the header limit, then the body limit, then HEAD answered as GET.
    app.add_middleware(HeadAsGet)  # a HEAD is its GET without the body
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(HeaderLimit)
    app.add_middleware(SecurityHeaders)
    # Everything built so far lives as long as the server: keep the garbage collector from
    # walking it again and again (long pauses would show up as tail latency).
    gc.collect()
    gc.freeze()
    return app


def app_from_env() -> FastAPI:
    """The app `aicity serve` starts in each worker, from the options it passed on."""
    settings = Settings.from_env()
    args = settings.serve_args
    return create_app(args.get("framework"), args.get("data"), units=args.get("units"), pipeline=args.get("pipeline"),
                      store=args.get("store"), settings=settings)
