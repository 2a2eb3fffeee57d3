"""AI City Index: composite indicators for comparing cities in artificial intelligence.

    >>> import aicity
    >>> result = aicity.build()            # the bundled Global AI City Index
    >>> result.ranking().head(10)  # doctest: +SKIP

The names below are imported on first use (PEP 562), so `import aicity` and the command line
start without loading pandas, SciPy or the pipeline until they are needed.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "audit": "aicity.audit",
    "build": "aicity.build",
    "check": "aicity.build",
    "Dataset": "aicity.data",
    "load_data": "aicity.data",
    "InputError": "aicity.errors",
    "PipelineError": "aicity.errors",
    "Problem": "aicity.errors",
    "Framework": "aicity.framework",
    "load_framework": "aicity.framework",
    "IndexResult": "aicity.result",
    "run_uncertainty": "aicity.uncertainty",
}
__all__ = [
    "Dataset", "Framework", "IndexResult", "InputError", "PipelineError", "Problem", "audit", "build",
    "check", "load_data", "load_framework", "run_uncertainty",
]

if TYPE_CHECKING:
    from aicity.audit import audit
    from aicity.build import build, check
    from aicity.data import Dataset, load_data
    from aicity.errors import InputError, PipelineError, Problem
    from aicity.framework import Framework, load_framework
    from aicity.result import IndexResult
    from aicity.uncertainty import run_uncertainty


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'aicity' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__"})


class _Package(types.ModuleType):
    """`aicity.build` and `aicity.audit` are functions named like their modules. Importing the
    module `aicity.build` would make the package attribute the module (the import system sets
    it); this keeps the function there. The modules stay importable by name
    (`from aicity.build import run_pipeline`, `mock.patch("aicity.build.run_pipeline")`) through
    `sys.modules`; only `import aicity.build as b` gives the function, as it did before."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("build", "audit") and isinstance(value, types.ModuleType):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
