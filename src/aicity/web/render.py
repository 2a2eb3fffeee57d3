"""The pages' rendering: Jinja2 templates (every value escaped), the one rule for links to
data sources (`http_url`, the `link` filter), the UI strings of a language, region names, the
favicon."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup, escape

from aicity.i18n import value_text
from aicity.messages import UI
from aicity.urls import http_url
from aicity.web.explorer import Explorer
from aicity.web.settings import LANGS

REGIONS = {
    "en": {},
    "ko": {"East Asia": "동아시아", "Southeast Asia": "동남아시아", "South Asia": "남아시아", "Middle East": "중동", "Europe": "유럽",
           "North America": "북미", "Oceania": "오세아니아", "Latin America": "중남미", "Africa": "아프리카"},
    "ja": {"East Asia": "東アジア", "Southeast Asia": "東南アジア", "South Asia": "南アジア", "Middle East": "中東", "Europe": "ヨーロッパ",
           "North America": "北米", "Oceania": "オセアニア", "Latin America": "中南米", "Africa": "アフリカ"},
}
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fbf"/>'
    '<path d="M3 12h2V7H3zm4 0h2V4H7zm4 0h2V9h-2z" fill="#fff"/></svg>'
)


def year_text(year: Any) -> str:
    """'2023' for 2023 or 2023.0; '' for a missing year, NaN, or data without a year column."""
    try:
        return "" if year is None or isinstance(year, Undefined) or pd.isna(year) else str(int(year))
    except (TypeError, ValueError):
        return str(year)


INERT_URL_CHARS = 80


def link(url: Any, text: Any) -> Markup:
    """A source's link: `<a href=url>text</a>` when `http_url` accepts the URL; otherwise
    the text, and the URL (if any) as inert text, shortened."""
    href = http_url(url)
    if href is not None:
        return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(href, text)
    if not isinstance(url, str) or not url.strip():
        return escape(text)
    shown = url if len(url) <= INERT_URL_CHARS else url[:INERT_URL_CHARS] + "…"
    return Markup('{} <span class="inert-url">{}</span>').format(text, shown)


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The templates under aicity/templates, autoescaped."""
    env = Environment(loader=PackageLoader("aicity", "templates"), autoescape=select_autoescape(enabled_extensions=("html", "j2")))
    env.filters["value"] = value_text  # raw values as published: 9,630,879 not 9630879.0
    env.filters["year"] = year_text  # a year, or nothing where the data has none
    env.filters["link"] = link  # {{ url|link(text) }}: a link only for http(s) URLs
    return env


def page(ex: Explorer, template: str, lang: str, **context: Any) -> HTMLResponse:
    """A page in a language (en, ko or ja; anything else is English)."""
    lang = lang if lang in LANGS else "en"
    html = templates().get_template(template).render(
        lang=lang, t={**UI[lang], "regions": REGIONS[lang]}, langs=LANGS, index_name=ex.fw.node(ex.fw.index_code).name(lang), **context
    )
    return HTMLResponse(html)
