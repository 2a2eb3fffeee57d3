"""The one way this package reaches Dask: `dask_client("local:4")` or
`dask_client("tcp://host:8786")`, used by uncertainty analysis and `aicity derive`.

An address that is neither `local:N` (N workers, 1 or more) nor `scheme://host:port`, or a
scheduler that cannot be reached, is an `InputError` naming `--dask`, never a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aicity.errors import InputError, Problem

_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://[^\s:/]+:\d+/?$", re.IGNORECASE)


def check_address(address: str) -> int | None:
    """The number of local workers for `local:N` (`local:` alone means 2), None for a
    scheduler address; an error for anything else."""
    if address.startswith("local:"):
        count = address.split(":", 1)[1].strip() or "2"
        if not count.isdigit() or int(count) < 1:
            raise InputError([Problem("--dask", f"'{address}': local:N needs a whole number of workers, 1 or more")])
        return int(count)
    if not _REMOTE.match(address):
        raise InputError([Problem("--dask", f"'{address}' is not local:N or a scheduler address such as tcp://host:8786")])
    return None


@contextmanager
def dask_client(address: str, timeout: str = "15s") -> Iterator[Any]:
    """A connected `dask.distributed.Client`, closed (with its LocalCluster) at the end."""
    workers = check_address(address)
    from dask.distributed import Client, LocalCluster

    cluster = None
    try:
        if workers is not None:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise InputError([Problem("--dask", f"cannot reach a Dask scheduler at '{address}': {exc}")]) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
