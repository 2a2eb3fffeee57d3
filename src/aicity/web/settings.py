"""The web's settings: what it reads from the environment (once, when an app is made) and
its fixed limits."""

from __future__ import annotations

import json
import os
from typing import Any

from pydantic import BaseModel, Field

MAX_UPLOAD_BYTES = 5_000_000
MAX_BODY_BYTES = 6_000_000
MAX_SAMPLES = 20_000
LANGS = ("en", "ko", "ja")
LANG_PATTERN = "^(en|ko|ja)$"


class Settings(BaseModel):
    """Every environment variable the web reads, under its own name:

    - `AICITY_TOKEN`: the bearer token writes need (unset or empty: writes are refused);
    - `AICITY_CORS_ORIGINS`: origins CORS allows, comma-separated (unset: CORS stays closed);
    - `AICITY_SERVE_ARGS`: the inputs `aicity serve` passes on to its workers (JSON: framework,
      data, units, pipeline, store).

    The run store's default place ($AICITY_STORE) is the store's rule (`store.default_store_path`).
    """

    token: str | None = None
    cors_origins: list[str] = Field(default_factory=list)
    serve_args: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            token=env.get("AICITY_TOKEN"),
            cors_origins=[o for o in env.get("AICITY_CORS_ORIGINS", "").split(",") if o],
            serve_args=json.loads(env.get("AICITY_SERVE_ARGS", "{}")),
        )
