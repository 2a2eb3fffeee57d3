"""The web's settings: what it reads from the environment (once, when an app is made) and
its fixed limits."""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel, Field

from aicity.store import default_wait

MAX_UPLOAD_BYTES = 5_000_000
MAX_BODY_BYTES = 6_000_000
MAX_SAMPLES = 20_000  # uncertainty samples for a caller with the bearer token
MAX_ANON_SAMPLES = 2_000  # ... and for anyone (the default, 1,000, is within)
UNCERTAINTY_CACHE_SIZE = 8  # uncertainty results kept (LRU), besides the pages' default one
UNCERTAINTY_RETRY_AFTER = 5  # seconds a busy GET /api/uncertainty asks the caller to wait
MAX_HEADER_BYTES = 8 * 1024  # one request header, name and value
MAX_HEADERS_BYTES = 16 * 1024  # all of a request's headers
LANGS = ("en", "ko", "ja")
LANG_PATTERN = "^(en|ko|ja)$"

# Everything the pages use is served from this server: scripts only from files (no inline
# script, no eval: plotly.js needs eval only for its WebGL traces, which the explorer does not
# draw), styles from files and inline (plotly.js and Swagger UI set style attributes and add
# style rules), images also as data: and blob: URIs (Swagger UI's icons, plotly's PNG
# download), fetch() only to this server (the API, the map's topojson); no plugins, no
# framing, no <base>, forms only to this server.
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def page_language(lang: object) -> str:
    """A page's language: en, ko or ja; anything else (none, a typo) shows the page in English."""
    return lang if isinstance(lang, str) and lang in LANGS else "en"


def check_port(port: int) -> int:
    """A TCP port to listen on (1-65535), or ValueError saying what is wrong."""
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"--port {port!r} is not a TCP port: give a number from 1 to 65535")
    return port


class Settings(BaseModel):
    """Every environment variable the web reads, under its own name:

    - `AICITY_TOKEN`: the bearer token writes need (unset or empty: writes are refused);
    - `AICITY_CORS_ORIGINS`: origins CORS allows, comma-separated (unset: CORS stays closed);
    - `AICITY_SERVE_ARGS`: the inputs `aicity serve` passes on to its workers (JSON: framework,
      data, units, pipeline, store).

    - `AICITY_STORE_WAIT`: seconds a request waits for a run store another process holds
      (the store's rule, `store.default_wait`; not a number: an error when the app is made).

    The run store's default place ($AICITY_STORE) is the store's rule (`store.default_store_path`).
    """

    token: str | None = None
    cors_origins: list[str] = Field(default_factory=list)
    serve_args: dict[str, Any] = Field(default_factory=dict)
    store_wait: float = Field(default_factory=default_wait)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            token=env.get("AICITY_TOKEN"),
            cors_origins=[o for o in env.get("AICITY_CORS_ORIGINS", "").split(",") if o],
            serve_args=json.loads(env.get("AICITY_SERVE_ARGS", "{}")),
            store_wait=default_wait(env.get("AICITY_STORE_WAIT", "")),
        )
