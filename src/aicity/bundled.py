"""Where the bundled reference framework and data set live inside the package."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def _path(name: str) -> Path:
    return Path(str(resources.files("aicity") / "data" / name))


def framework_path() -> Path:
    return _path("framework.yaml")


def data_path() -> Path:
    return _path("values.csv")


def units_path() -> Path:
    return _path("units.csv")


def alternatives_path() -> Path:
    return _path("alternatives.csv")


def panel_path() -> Path:
    return _path("panel.csv")


def claims_path() -> Path:
    return _path("claims.yaml")
