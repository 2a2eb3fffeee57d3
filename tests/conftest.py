from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ASEM = SHARED / "coinr-asem"
COINR_OUT = ASEM / "coinr-1.1.14-outputs"
PUBLISHED = SHARED / "published-indices"

ASEM_PIPELINE = Path(__file__).with_name("asem_pipeline.yaml")


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared reference data sits beside the repository in CI")
    return path


@pytest.fixture(scope="session")
def asem_result():
    import aicity

    need_shared(ASEM)
    return aicity.build(ASEM / "ASEM_iMeta.csv", ASEM / "ASEM_iData.csv", ASEM_PIPELINE)
