"""The checks routes share, as `Annotated` dependencies: the served explorer, the language,
a ranked unit (404 otherwise), and the bearer token writes need.

A dependency that raises (404, 401) declares the route's other parameters too, so a request
that fails validation is answered 422 first, as for everyone: a dependency runs as soon as its
own parameters are valid, before the route's are checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Body, Depends, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from aicity.web.explorer import Explorer
from aicity.web.models import DATASET_NAME, BuildRequest
from aicity.web.settings import LANG_PATTERN, page_language


async def explorer(request: Request) -> Explorer:
    """The explorer the app was made with (`app.state.explorer`)."""
    return request.app.state.explorer


ExplorerDep = Annotated[Explorer, Depends(explorer)]

# The API's language: en, ko or ja (anything else is a 422).
Lang = Annotated[str, Query(pattern=LANG_PATTERN)]


async def page_lang(lang: str = "en") -> str:
    """A page's language: en, ko or ja; anything else shows the page in English."""
    return page_language(lang)


PageLang = Annotated[str, Depends(page_lang)]


@dataclass(frozen=True)
class UnitQuery:
    """A ranked unit of the served build (its code) and the language to answer in."""

    code: str
    lang: str


# A unit in a path: a code or a name (the longest names are far shorter).
UnitPath = Annotated[str, Path(max_length=200)]


def ranked_unit(unit: UnitPath, ex: ExplorerDep, lang: Lang = "en") -> UnitQuery:
    """The path's unit (code or name in en/ko/ja) as a ranked unit of the served build;
    `UnitNotFound` or `UnitNotRanked` otherwise, which the app answers with 404."""
    return UnitQuery(ex.unit(unit), lang)


RankedUnit = Annotated[UnitQuery, Depends(ranked_unit)]


@dataclass(frozen=True)
class PairQuery:
    """Two ranked units (codes) and the language to answer in."""

    a: str
    b: str
    lang: str


def ranked_pair(ex: ExplorerDep, a: Annotated[str, Query(max_length=200)], b: Annotated[str, Query(max_length=200)],
                lang: Lang = "en") -> PairQuery:
    """The query's units `a` and `b` as ranked units (404 otherwise)."""
    return PairQuery(ex.unit(a), ex.unit(b), lang)


RankedPair = Annotated[PairQuery, Depends(ranked_pair)]


def page_unit(unit: UnitPath, ex: ExplorerDep) -> str:
    """A page's unit, as `ranked_unit` (404 otherwise); pages take any language."""
    return ex.unit(unit)


PageUnit = Annotated[str, Depends(page_unit)]

# -- writes: the bearer token ------------------------------------------------------------------

Authorization = Annotated[str | None, Header()]
DatasetName = Annotated[str, Query(max_length=100, pattern=DATASET_NAME)]


def upload_name(ex: ExplorerDep, name: DatasetName, authorization: Authorization = None) -> str:
    """POST /api/datasets' `name`, once the bearer token checks out (403 when the server has
    none, 401 when the request's is missing or wrong)."""
    ex.check_token(authorization)
    return name


AuthorizedUpload = Annotated[str, Depends(upload_name)]


def build_request(ex: ExplorerDep, req: Annotated[BuildRequest, Body()], authorization: Authorization = None) -> BuildRequest:
    """POST /api/builds' body, once the bearer token checks out (as `upload_name`)."""
    ex.check_token(authorization)
    return req


AuthorizedBuild = Annotated[BuildRequest, Depends(build_request)]


# -- the API's query: only the keys a route declares -------------------------------------------


def declared_query(route: Any) -> frozenset[str]:
    """The query keys `route` declares, its dependencies' included (none for a route that is
    not FastAPI's, such as the lean POST /api/rank); worked out once per route, kept on it."""
    known = getattr(route, "aicity_query_keys", None)
    if known is None:
        known = _declared_query(route)
        if route is not None:
            route.aicity_query_keys = known
    return known


def _declared_query(route: Any) -> frozenset[str]:
    found: set[str] = set()
    stack = [getattr(route, "dependant", None)]
    while stack:
        dependant = stack.pop()
        if dependant is None:
            continue
        found.update(p.alias for p in dependant.query_params)
        stack.extend(dependant.dependencies)
    return frozenset(found)


async def known_query(request: Request) -> None:
    """An API request's query may hold only the keys its route declares: a key it does not
    (a typo such as `?sample=5000` for `samples`) is a 422 naming it, never silently ignored.
    Pages are left lenient: links from elsewhere carry keys of their own (utm_source, ...)."""
    allowed = declared_query(request.scope.get("route"))
    unknown = [key for key in dict.fromkeys(request.query_params.keys()) if key not in allowed]
    if unknown:
        known = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError([{"type": "extra_forbidden", "loc": ("query", key),
                                       "msg": f"unknown query parameter (this endpoint takes: {known})",
                                       "input": request.query_params.get(key)} for key in unknown])
    keys = [key for key, _ in request.query_params.multi_items()]
    twice = [key for key in dict.fromkeys(keys) if keys.count(key) > 1]
    if twice:  # ?a=Seoul&a=Tokyo: one of them would be dropped without a word
        raise RequestValidationError([{"type": "value_error", "loc": ("query", key), "msg": "given more than once",
                                       "input": request.query_params.getlist(key)} for key in twice])
    if request.method in ("POST", "PUT", "PATCH"):  # whatever the content type says: the route reads JSON
        body = await request.body()  # kept by Starlette: the route reads the same bytes
        from starlette.concurrency import run_in_threadpool

        twice_in_body = await run_in_threadpool(_keys_twice, body) if body else []  # off the event loop
        if twice_in_body:
            raise RequestValidationError([{"type": "value_error", "loc": ("body", key),
                                           "msg": "key given more than once in one JSON object", "input": None}
                                          for key in twice_in_body])


def _keys_twice(body: bytes) -> list[str]:
    """Keys written twice in one object of a JSON body (json.loads keeps the last silently);
    an unreadable body is left to the route's own parsing and its 422."""
    import json

    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:  # linear: a body of many keys must not stall the server
            if key in out:
                twice.append(key)
            out[key] = value
        return out

    try:
        json.loads(body or b"null", object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return []
    return list(dict.fromkeys(twice))


KnownQuery = Depends(known_query)
