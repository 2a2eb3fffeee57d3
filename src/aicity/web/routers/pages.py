"""The explorer's HTML pages (ranking, city, compare, build, map, data) and static files.
None is in the OpenAPI schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, Response

from aicity.compare import compare, profile, radar_series, waterfall_series
from aicity.derive import counted_values
from aicity.messages import country_name
from aicity.web.deps import ExplorerDep, PageLang, PageUnit
from aicity.web.explorer import Explorer
from aicity.web.render import FAVICON, Wording, page
from aicity.web.serialize import clean, records

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parents[2] / "static"


class PageNotFound(HTTPException):
    """A page's 404: the API's JSON `detail` for a script, and for a browser the message `key`
    of the UI catalogue about `name` (see handlers.py)."""

    def __init__(self, detail: str, key: str = "no_page", name: str = ""):
        super().__init__(404, detail=detail)
        self.key, self.name = key, name


def code_names(fw: Any, lang: str) -> dict[str, str]:
    """Every code's name in `lang`: the framework's nodes and its context variables
    (population), which have sources too."""
    return {c: fw.node(c).name(lang) for c in fw.codes} | {c.code: c.name(lang) for c in fw.context}


def proxy_country(ex: Explorer, row: dict[str, Any], lang: str) -> str:
    """The country a national figure stands in from, in the page's language ('' for a row
    that is not a national figure)."""
    if row.get("geo") != "country":
        return ""
    units = ex.result.dataset.units
    code = units.at[row["unit"], "country"] if "country" in units.columns and row["unit"] in units.index else None
    fallback = row.get("geo_name")
    return country_name(code, lang, fallback if isinstance(fallback, str) else "")


SLIDER_MAX = 5
SLIDER_STEPS = (1.0, 0.5, 0.1, 0.05, 0.01)


def slider_scale(weights: list[float]) -> tuple[float | str, float]:
    """The build page's sliders: the coarsest step of `SLIDER_STEPS` on which every weight
    they are set to (the framework's, the personas') falls exactly, else 'any' (a range input
    snaps its value to its step: a weight of 0.5 on a step of 1 would be shown and sent as 0
    or 1), and a maximum of 5 or the largest weight."""
    step: float | str = next((s for s in SLIDER_STEPS if all(abs(w / s - round(w / s)) < 1e-9 for w in weights)), "any")
    return step, max([SLIDER_MAX, *weights])


def ranking_rows(ex: Explorer, lang: str) -> list[dict[str, Any]]:
    """The ranking with each unit's 90 % rank interval (p05, p95)."""
    rows = ex.ranking(ex.result, lang)
    ri = ex.rank_intervals()
    if ri is not None:
        lookup = ri.set_index("unit")
        for row in rows:
            if row["unit"] in lookup.index:
                row["p05"], row["p95"] = clean(lookup.at[row["unit"], "p05"]), clean(lookup.at[row["unit"], "p95"])
    return rows


@router.get("/", response_class=HTMLResponse)
def ranking_page(ex: ExplorerDep, lang: PageLang) -> HTMLResponse:
    rows = ranking_rows(ex, lang)
    regions = sorted({r["region"] for r in rows if r["region"]})
    pillars = [{"code": p, "name": ex.fw.node(p).name(lang)} for p in ex.fw.pillars()]
    n_ranked = sum(1 for r in rows if r["rank"] is not None)
    return page(ex, "ranking.html.j2", lang, rows=rows, regions=regions, pillars=pillars, n_ranked=n_ranked)


@router.get("/city/{unit}", response_class=HTMLResponse)
def city_page(ex: ExplorerDep, code: PageUnit, lang: PageLang) -> HTMLResponse:
    p = profile(ex.result, code, lang, rank_intervals=ex.rank_intervals())
    sources = p.sources.to_dict(orient="records")
    for s in sources:  # what a distinct count counted (where the bundled derivation says and agrees), and
        s["counted"] = counted_values(str(s.get("indicator")), p.unit, s.get("year"), s.get("value"))
        s["country"] = proxy_country(ex, s, lang)  # the country a national figure stands in from
    fw = ex.fw
    # The tree as the framework draws it: each pillar followed by its own sub-pillars.
    by_code = {r["code"]: r for r in records(p.scores) if r["level"] > 1}
    tree: list[str] = []

    def walk(code: str) -> None:
        if code in by_code:
            tree.append(code)
        for child in fw.children.get(code, []):
            walk(child)

    walk(fw.index_code)
    levels = [dict(by_code[c], indent=fw.n_levels - by_code[c]["level"]) for c in tree]
    return page(ex, "city.html.j2", lang, p=p, levels=levels, strengths=records(p.strengths), weaknesses=records(p.weaknesses),
                peers=records(p.peers), sources=clean(sources), names=code_names(fw, lang))


@router.get("/compare", response_class=HTMLResponse)
def compare_page(ex: ExplorerDep, lang: PageLang, a: Annotated[str | None, Query(max_length=200)] = None,
                 b: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    """Two ranked units; by default Seoul and Tokyo, or the first two of the ranking where
    the served data has not both."""
    default = [u for u in ("SEL", "TYO") if u in ex.result.units]
    if len(default) < 2:
        default = [r["unit"] for r in ex.ranking(ex.result, lang) if r["rank"] is not None][:2]
    if len(default) < 2 and (a is None or b is None):
        raise PageNotFound("the served index ranks fewer than two units: nothing to compare")
    ua, ub = ex.unit(a if a is not None else default[0]), ex.unit(b if b is not None else default[1])
    c = compare(ex.result, ua, ub, lang)
    fw = ex.fw
    water = waterfall_series(ex.result, c, lang)
    figure = {"radar": radar_series(ex.result, ua, ub, lang), "waterfall": {"x": water["x"], "y": water["y"]}}
    order = [fw.index_code, *fw.pillars()]  # the index, then its pillars in the framework's order
    top = c.headline(fw).sort_values("code", key=lambda codes: codes.map(order.index), kind="stable")
    fav_a, fav_b = c.drivers(5)
    # the cities in the ranking's order, the same in every language (names sorted by code point
    # would put all of Japanese katakana before kanji)
    cities = [(r["unit"], r["name"]) for r in ex.ranking(ex.result, lang) if r["rank"] is not None]
    return page(ex, "compare.html.j2", lang, query={"a": a, "b": b}, a=ua, b=ub, name_a=ex.name(ua, lang), name_b=ex.name(ub, lang),
                rows=records(top), fav_a=records(fav_a), fav_b=records(fav_b), figure=clean(figure), cities=cities,
                names=code_names(fw, lang))


@router.get("/build", response_class=HTMLResponse)
def build_page(ex: ExplorerDep, lang: PageLang) -> HTMLResponse:
    fw = ex.fw
    pillars = [{"code": p, "name": fw.node(p).name(lang), "weight": fw.node(p).weight} for p in fw.pillars()]
    # a persona's every weight: its pillars' set the sliders, the others (sub-pillars) go with them
    personas = [{"code": k, "name": p.name(lang), "weights": dict(p.weights), "why": p.why(lang)} for k, p in fw.personas.items()]
    step, top = slider_scale([p["weight"] for p in pillars] + [w for p in personas for c, w in p["weights"].items() if c in fw.pillars()])
    return page(ex, "build.html.j2", lang, pillars=pillars, personas=personas, rows=ex.ranking(ex.result, lang),
                pillar_defaults={p["code"]: p["weight"] for p in pillars}, step=step, top=top)


@router.get("/map", response_class=HTMLResponse)
def map_page(ex: ExplorerDep, lang: PageLang) -> HTMLResponse:
    units = ex.result.dataset.units
    rows = [r for r in ex.ranking(ex.result, lang) if r["rank"] is not None]
    w = Wording(lang)
    points = [{"name": r["name"], "rank": r["rank"], "score": r["score"], "unit": r["unit"],
               "label": w.label(w.ranked_name(r["rank"], r["name"]), w.score(r["score"])),
               "lat": clean(units.at[r["unit"], "lat"]) if "lat" in units else None, "lon": clean(units.at[r["unit"], "lon"]) if "lon" in units else None}
              for r in rows]
    return page(ex, "map.html.j2", lang, points=[p for p in points if p["lat"] is not None])


@router.get("/data", response_class=HTMLResponse)
def data_page(ex: ExplorerDep, lang: PageLang, indicator: Annotated[str | None, Query(max_length=200)] = None) -> HTMLResponse:
    fw = ex.fw
    obs = ex.result.dataset.sources(indicator=indicator or None)
    names = code_names(fw, lang)
    codes = [*fw.indicators, *(v.code for v in fw.context)]  # context variables (population) have sources too
    if indicator and obs.empty and indicator not in codes:
        raise PageNotFound(f"no indicator '{indicator}' in the served data", "no_indicator", indicator)
    rows = clean(obs.to_dict(orient="records"))
    for r in rows:
        r["unit_name"] = ex.name(r["unit"], lang)
        r["country"] = proxy_country(ex, r, lang)
        r["indicator_name"] = names.get(r["indicator"], r["indicator"])
    choices = [(c, names[c]) for c in codes]
    return page(ex, "data.html.j2", lang, query={"indicator": indicator}, rows=rows, indicators=choices, selected=indicator)


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(FAVICON, media_type="image/svg+xml")


@router.get("/static/plotly.min.js")
def plotly_js() -> FileResponse:
    import plotly

    return FileResponse(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", media_type="text/javascript")


@router.get("/static/{name:path}")
def static_file(name: str) -> Response:
    """A file under aicity/static; anything else (outside it, a folder, a name the file
    system refuses: NUL, too long) is 404."""
    try:
        path = (STATIC / name).resolve()
        found = STATIC.resolve() in path.parents and path.is_file()
    except (OSError, ValueError):
        found = False
    if not found:
        raise HTTPException(404, detail=f"no static file '{name[:100]}'")
    return FileResponse(path)
