"""Which URLs become links, in one place: every page of the web explorer and every report."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

_UNSAFE_IN_URL = re.compile(r"[\x00-\x20\x7f\\]")  # controls, spaces, backslashes


def http_url(url: Any) -> str | None:
    """`url` when it is an absolute http or https URL with a host, else None: the only URLs
    made into links. `javascript:`, `data:`, relative or protocol-relative URLs, URLs with
    spaces, control characters or backslashes (which browsers read leniently) are never links.

        >>> http_url("https://hdr.undp.org/data"), http_url("javascript:alert(1)")
        ('https://hdr.undp.org/data', None)
    """
    if not isinstance(url, str) or not url or len(url) > 2048 or _UNSAFE_IN_URL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.hostname else None
