from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
ASEM = SHARED / "coinr-asem"
COINR_OUT = ASEM / "coinr-1.1.14-outputs"
PUBLISHED = SHARED / "published-indices"

ASEM_PIPELINE = Path(__file__).with_name("asem_pipeline.yaml")


@contextmanager
def loopback_server(app) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port in a thread, for browser tests; its URL."""
    import socket
    import threading
    import time

    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def need_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared reference data sits beside the repository in CI")
    return path


@pytest.fixture(scope="session")
def asem_result():
    import aicity

    need_shared(ASEM)
    return aicity.build(ASEM / "ASEM_iMeta.csv", ASEM / "ASEM_iData.csv", ASEM_PIPELINE)


# Markers, so that `pytest -m "not slow"` gives a quick inner loop and `-m "not shared_data"`
# what runs without ../shared. Set here from what a test uses, not by hand on each test:
# shared_data: it reads ../shared (need_shared, the ASEM example, the record files);
# browser: it drives Debian's chromium; slow: a second or more (browsers, Dask clusters,
# fuzzing, whole reports, re-deriving the bundled indicators).
_SHARED_NAMES = {"need_shared", "ASEM", "COINR_OUT", "PUBLISHED", "SHARED_RECORDS"}
_SLOW_WORDS = ("chromium", "fuzzing", "dask", "bundled_recipes_reproduce", "report_command", "report_for_any_index",
               "explorer", "sliders", "phone_width", "killed_while_saving")


def pytest_collection_modifyitems(config, items):
    for item in items:
        fn = getattr(item, "function", None)
        names = set(getattr(getattr(fn, "__code__", None), "co_names", ()))
        fixtures = set(getattr(item, "fixturenames", ()))
        if names & _SHARED_NAMES or "asem_result" in fixtures:
            item.add_marker(pytest.mark.shared_data)
        if "browser" in fixtures or "_chromium" in names:
            item.add_marker(pytest.mark.browser)
        if "browser" in fixtures or "_chromium" in names or any(w in item.name for w in _SLOW_WORDS):
            item.add_marker(pytest.mark.slow)
