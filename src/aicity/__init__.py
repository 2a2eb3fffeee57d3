"""AI City Index: composite indicators for comparing cities in artificial intelligence.

    >>> import aicity
    >>> result = aicity.build()            # the bundled Global AI City Index
    >>> result.ranking().head(10)
"""

from aicity.audit import audit
from aicity.build import build
from aicity.data import Dataset, load_data
from aicity.errors import InputError, PipelineError, Problem
from aicity.framework import Framework, load_framework
from aicity.result import IndexResult
from aicity.uncertainty import run_uncertainty

__version__ = "0.1.0"
__all__ = [
    "Dataset",
    "Framework",
    "IndexResult",
    "InputError",
    "PipelineError",
    "Problem",
    "audit",
    "build",
    "load_data",
    "load_framework",
    "run_uncertainty",
]
