"""The pages' rendering: Jinja2 templates (every value escaped), the one rule for links to
data sources (`http_url`, the `link` filter), the UI strings of a language and the language's
ways of writing them (`Wording`: ranks, ranges, brackets, labels, particles), region names,
the favicon."""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, Undefined, select_autoescape
from markupsafe import Markup, escape

from aicity.i18n import PAIRS, gap_digits, josa, number, ordinal, rank_interval, value_text
from aicity.messages import UI
from aicity.urls import http_url
from aicity.web.explorer import Explorer
from aicity.web.settings import LANGS, page_language

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


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Undefined) or (isinstance(value, float) and pd.isna(value))


class _Formatter(string.Formatter):
    """`str.format` for the UI's messages: a Korean particle pair as the format spec picks the
    particle that fits the value (`{a:과/와}`: 서울과, 도쿄와), `ordinal` writes a rank (6th,
    6위, 6位), and numbers get thousands separators."""

    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "ordinal":
            return ordinal(value, self.lang)
        if isinstance(value, int | float) and not isinstance(value, bool) and not format_spec:
            value = number(value, 0, self.lang) if float(value).is_integer() else value_text(value, self.lang)
        if format_spec in PAIRS:
            return josa(str(value), format_spec)
        return super().format_field(value, format_spec)


@dataclass(frozen=True)
class Wording:
    """How a page's language writes what the pages show around names and numbers; the
    templates call it as `w` (`{{ w.rank_of(6, 54) }}`), never spell it out themselves.

    Japanese takes full-width brackets and colons （）： with no space before them; English
    and Korean half-width ones, a space before "(" (62.9 (6위)). Ranks carry 위 / 位
    (`i18n.ordinal`), ranges of ranks ~ (ko) and ～ (ja), Korean particles follow the word
    before them (`i18n.josa`)."""

    lang: str

    def say(self, key: str, **values: Any) -> str:
        """The UI message `key` with its {placeholders} filled in (see `_Formatter`)."""
        return _Formatter(self.lang).format(UI[self.lang][key], **values)

    def paren(self, text: Any, inner: Any) -> str:
        """'text (inner)', or 'text（inner）' in Japanese; the text alone where `inner` is
        empty. `paren('', inner)` is the bracket alone, to follow a text set in another style:
        ' (SEL)', '（SEL）'."""
        if _missing(inner) or inner == "":
            return str(text)
        return f"{text}（{inner}）" if self.lang == "ja" else f"{text} ({inner})"

    def label(self, name: Any, value: Any) -> str:
        """'name: value', or 'name：value' in Japanese."""
        return f"{name}：{value}" if self.lang == "ja" else f"{name}: {value}"

    def ordinal(self, rank: Any) -> str:
        """6th, 6위, 6位 (`i18n.ordinal`); 'unranked' and its translations for none."""
        return ordinal(float("nan") if _missing(rank) else rank, self.lang)

    def rank_of(self, rank: Any, of: Any) -> str:
        """6th of 54, 54개 도시 중 6위, 54都市中6位."""
        if _missing(rank) or _missing(of):
            return self.ordinal(rank)
        return self.say("rank_of", rank=rank, of=of)

    def rank_range(self, low: Any, high: Any) -> str:
        """A rank interval: 4–7, 4~7위, 4～7位 (one rank where both ends are the same)."""
        if _missing(low) or _missing(high):
            return ""
        return rank_interval(low, high, self.lang)

    def score(self, value: Any, digits: int = 1) -> str:
        """A score with `digits` decimals, always (100.0 beside 45.4, where `i18n.number`
        would write a whole 100 as 100); '–' for none."""
        return "–" if _missing(value) else f"{value:,.{digits}f}"

    def score_rank(self, score: Any, rank: Any) -> str:
        """A score and its rank: 62.9 (6th), 62.9 (6위), 62.9（6位）."""
        return self.paren(self.score(score), self.ordinal(rank) if not _missing(rank) else "")

    def gap(self, a: Any, b: Any) -> str:
        """The signed gap a − b at the precision that agrees with the two scores shown
        (`i18n.gap_digits`): 72.2 against 72.7 is −0.45, not −0.4."""
        if _missing(a) or _missing(b):
            return "–"
        return "0.0" if a == b else f"{a - b:+.{gap_digits(a, b, 1)}f}"

    def ranked_name(self, rank: Any, name: str) -> str:
        """A name after its rank, as the map's tooltip shows it: 6. Seoul, 6위 서울, 6位 ソウル."""
        return self.say("ranked_name", rank=int(rank), name=name)

    def value(self, value: Any) -> str:
        """A raw value as published, with thousands separators (`i18n.value_text`)."""
        return value_text(float("nan") if _missing(value) else value, self.lang)

    def value_year(self, value: Any, year: Any) -> str:
        """A value and the year it is of: '3, 2025', '3, 2025년', '3、2025年'."""
        shown, year = self.value(value), year_text(year)
        return self.say("value_year", value=shown, year=year) if year else shown

    def quote(self, text: Any) -> str:
        """A name quoted as the language quotes it: “x”, ‘x’, 「x」."""
        return self.say("quote", text=text)


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The templates under aicity/templates, autoescaped."""
    env = Environment(loader=PackageLoader("aicity", "templates"), autoescape=select_autoescape(enabled_extensions=("html", "j2")))
    env.filters["year"] = year_text  # a year, or nothing where the data has none
    env.filters["link"] = link  # {{ url|link(text) }}: a link only for http(s) URLs
    return env


def page_html(ex: Explorer, template: str, lang: str, *, query: dict[str, Any] | None = None, **context: Any) -> str:
    """A page in a language (en, ko or ja; anything else is English). `query` is the page's
    own query (without `lang`), which the language links keep."""
    lang = page_language(lang)
    here = {k: v for k, v in (query or {}).items() if v is not None and v != ""}
    return templates().get_template(template).render(
        lang=lang, t={**UI[lang], "regions": REGIONS[lang]}, w=Wording(lang), langs=LANGS, here=here,
        index_name=ex.fw.node(ex.fw.index_code).name(lang), **context,
    )


def page(ex: Explorer, template: str, lang: str, *, query: dict[str, Any] | None = None, **context: Any) -> HTMLResponse:
    """A page in a language, as an answer (see `page_html`)."""
    return HTMLResponse(page_html(ex, template, lang, query=query, **context))
