"""The web explorer and REST API (FastAPI): a thin layer over the Python API.

Read endpoints serve the bundled index (or the one the server was started with) and the run
store; writes (uploading a data set, building it) need the bearer token set at start
(`AICITY_TOKEN`). Pages are rendered on the server with Jinja2 (every value escaped), and
plotly.js is served from the installed `plotly` package, so nothing is fetched from the
internet: the explorer works offline.

    app.py        create_app (routers, handlers, middleware) and app_from_env
    settings.py   Settings: the environment, read once; the fixed limits
    deps.py       the shared checks as Annotated dependencies (language, unit, token)
    explorer.py   Explorer: the served index, its uncertainty, the store and uploads
    models.py     request and response bodies (the OpenAPI schema)
    routers/      one APIRouter per resource: index, compare, personas, analysis, store, pages
    handlers.py   exception handlers; render.py  the pages' templates and the link rule
    middleware.py BodyLimit, HeaderLimit (431), SecurityHeaders (CSP and the rest)
    serialize.py  JSON without NaN; the array encoders of POST /api/rank
"""

from __future__ import annotations

from aicity.web.app import app_from_env, create_app
from aicity.web.explorer import Explorer
from aicity.web.middleware import BodyLimit, HeaderLimit, SecurityHeaders
from aicity.web.models import BuildRequest, RankRequest, WhatIfRequest
from aicity.web.settings import (
    LANGS,
    MAX_ANON_SAMPLES,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    MAX_HEADERS_BYTES,
    MAX_SAMPLES,
    MAX_UPLOAD_BYTES,
    Settings,
    check_port,
)

__all__ = [
    "LANGS", "MAX_ANON_SAMPLES", "MAX_BODY_BYTES", "MAX_HEADERS_BYTES", "MAX_HEADER_BYTES", "MAX_SAMPLES", "MAX_UPLOAD_BYTES",
    "BodyLimit", "BuildRequest", "Explorer", "HeaderLimit", "RankRequest", "SecurityHeaders", "Settings", "WhatIfRequest",
    "app_from_env", "check_port", "create_app",
]
