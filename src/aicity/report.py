"""The comparative report: a data-driven article on two cities in Korean, English or Japanese.

Its shape follows the essay the project started from: introduction; technology
infrastructure; industry ecosystem; policy and citizen participation; trust and future
readiness; a conclusion for entrepreneurs, policymakers and citizens. Every sentence is built
from templates and the data (deterministic, no network, no language model); every number
carries a footnote to its source, or to the method for computed scores.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from aicity import i18n
from aicity.claims import Verdict, about_pair, check_claims, load_claims
from aicity.compare import Comparison, compare, group_methods, radar_series, waterfall_series
from aicity.errors import InputError, Problem
from aicity.i18n import josa, ordinal, points, value_text
from aicity.messages import LICENCE_LABELS, REPORT_HEADINGS, TRANSFORM_NAMES, VERDICTS
from aicity.personas import persona_weights, suits
from aicity.result import IndexResult
from aicity.urls import http_url

THEMES = {"INFRA": "infrastructure", "INDUSTRY": "industry", "POLICY": "policy", "TRUST": "trust", "NATIONAL": "national"}
COLOURS = {"a": "#1f77b4", "b": "#d62728", "other": "#b8b8b8"}


# -- footnotes -----------------------------------------------------------------------------


@dataclass
class Footnotes:
    """Sources cited in order of first use; the same source keeps its number."""

    items: list[str] = field(default_factory=list)
    urls: list[str | None] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)

    def cite(self, key: str, text: str, url: str | None = None) -> str:
        if key not in self.keys:
            self.items.append(text)
            self.urls.append(url)
            self.keys[key] = len(self.items)
        return f"[[{self.keys[key]}]]"


# -- the writers: one per language ----------------------------------------------------------


class Writer:
    lang = "en"
    sentence_gap = " "  # between sentences; Japanese runs sentences together
    list_sep = ", "

    ua_or = " or "
    ua_phrases: dict[str, Any] = {}

    def _index_name(self, m: dict) -> str:
        """The index's name in this language, followed for the bundled index by the code the
        tables use: "Global AI City Index (AICI)", "글로벌 AI 도시 지수(AICI)"."""
        names = m.get("index_names") or {}
        name = names.get(self.lang) or m["index_name"]
        if self.generic:
            return name
        return f"{name}（{m['index_code']}）" if self.lang == "ja" else (
            f"{name}({m['index_code']})" if self.lang == "ko" else f"{name} ({m['index_code']})")

    def ua_parts(self, u: dict) -> list[str]:
        """One phrase per uncertain input, in the language's words (`ua_phrases`), with the
        options' method names joined by the language's "or"."""
        parts = []
        for key, spec in u["inputs"].items():
            if key in self.ua_phrases:
                names = _option_names(spec, key)
                joined = self.ua_or.join(str(i18n.method_name(n, self.lang)) for n in names)
                parts.append(self.ua_phrases[key](spec, names, joined))
        return parts

    # what an uncertainty analysis varied, by input, in the intro's sentence
    VARIED: dict[str, dict[str, str]] = {
        "en": {"impute": "imputation", "winmax": "outlier treatment", "normalize": "normalisation", "weights": "weights",
               "aggregate": "aggregation", "exclude_indicator": "the set of indicators"},
        "ko": {"impute": "결측값 대체", "winmax": "이상값 처리", "normalize": "정규화", "weights": "가중치",
               "aggregate": "집계 방식", "exclude_indicator": "지표 구성"},
        "ja": {"impute": "欠損値の補完", "winmax": "外れ値の処理", "normalize": "正規化", "weights": "重み付け",
               "aggregate": "集計方法", "exclude_indicator": "指標の構成"},
    }

    def varied(self, inputs: dict) -> str:
        """The uncertain inputs the analysis varied, in the order of the pipeline, as one
        phrase ("weights, normalisation and aggregation"; "가중치와 정규화, 집계 방식")."""
        words = [self.VARIED[self.lang][k] for k in ("impute", "winmax", "normalize", "weights", "aggregate", "exclude_indicator")
                 if k in inputs]
        if not words:
            return {"en": "", "ko": "방법", "ja": "方法"}[self.lang]
        if len(words) == 1 or self.lang == "ja":
            return "、".join(words)
        if self.lang == "ko":
            return f"{josa(words[0], '과/와')} {', '.join(words[1:])}"
        return ", ".join(words[:-1]) + " and " + words[-1]

    def __init__(self, a: str, b: str, generic: bool = False):
        # generic: an index other than the bundled one (its units need not be cities, and
        # no AI-city framing applies)
        self.a, self.b, self.generic = a, b, generic

    def rank(self, r: float) -> str:
        return ordinal(r, self.lang)

    TIED = {"en": "joint ", "ko": "공동 ", "ja": "同率"}

    def pair_ranks(self, ra: float, rb: float) -> tuple[str, str]:
        """The two cities' ranks, each marked as shared when they are the same rank."""
        if ra == rb:
            return (self.TIED[self.lang] + self.rank(ra),) * 2
        return self.rank(ra), self.rank(rb)

    digits = 1  # decimals of scores: `IndexResult.score_digits`

    def pts(self, v: float) -> str:
        return points(v, self.lang, self.digits)


class English(Writer):
    lang = "en"
    headings = REPORT_HEADINGS["en"]
    verdicts = VERDICTS["en"]

    def title(self, index_name: str = "") -> str:
        if self.generic:
            return f"{self.a} and {self.b} on {self._the(index_name)}: a data-driven comparison"
        return f"{self.a} and {self.b} as AI cities: a data-driven comparison"

    def subtitle(self, n_cities: int, day: dt.date, index_name: str) -> str:
        ranked = f"{n_cities} ranked" if self.generic else f"{n_cities} cities ranked"
        return f"{index_name}, {ranked}. Generated on {i18n.date(day, 'en')}."

    def intro(self, c: dict) -> list[str]:
        s = [
            f"On {self._the(c['index'])}, {self.a} scores {self.pts(c['sa'])} and ranks {self.rank(c['ra'])} of {c['n']}{'' if self.generic else ' cities'}; "
            f"{self.b} scores {self.pts(c['sb'])} and ranks {self.rank(c['rb'])}.{c['fn_method']}"
        ]
        if c.get("ua"):
            u = c["ua"]
            s.append(
                f"Across {u['n']:,} variations of the method{f' ({v})' if (v := self.varied(u['inputs'])) else ''}, {self.a} ranks "
                f"{self._span(u['a05'], u['a95'])}, and {self.b} {self._span(u['b05'], u['b95'])}.{c['fn_ua']}"
            )
        lead, trail = (self.a, self.b) if c["gap"] >= 0 else (self.b, self.a)
        s.append(f"{lead} leads {trail} by {i18n.number(abs(c['gap']), i18n.gap_digits(c['sa'], c['sb'], self.digits))} points, and the largest part of that gap comes from {i18n.lower_first(c['top_pillar'])}"
                 + (f", a pillar that rests on one measure ({i18n.lower_first(c['top_single'])})." if c.get("top_single") else "."))
        return s

    def _span(self, lo: float, hi: float) -> str:
        return f"{self.rank(lo)} in every one" if lo == hi else f"between {self.rank(lo)} and {self.rank(hi)}"

    def pillar(self, c: dict) -> str:
        ra, rb = self.pair_ranks(c["ra"], c["rb"])
        # a unit without a score has none for want of data: said so, never "n/a points"
        a, b = ("has no score (too little data)" if i18n.is_missing(v) else f"scores {self.pts(v)} ({r})"
                for v, r in ((c["sa"], ra), (c["sb"], rb)))
        return f"In {i18n.lower_first(c['name'])}, {self.a} {a} and {self.b} {b}.{c['fn_method']}"

    def widest(self, c: dict) -> str:
        lead = self.a if c["gap"] >= 0 else self.b
        return f"The widest gap within it is in {i18n.lower_first(c['name'])}, where {lead} is ahead by {i18n.number(abs(c['gap']), i18n.gap_digits(c['gap'], 0.0, self.digits))} points."

    def evidence(self, c: dict) -> str:
        return (
            f"On {i18n.lower_first(c['name'])}, {self.a} {'ranks' if c.get('is_rank') else 'stands at'} {c['va']}{self.paren(c['ya'], c['geo_a'])}{c['fn_a']}, "
            f"against {c['vb']} for {self.b}{self.paren(c['yb'], c['geo_b'])}{c['fn_b']}."
        )

    def one_sided(self, c: dict) -> str:
        year = f", {c['y']}" if c.get("y") else ""
        return f"On {i18n.lower_first(c['name'])}, only {c['has']} has a sourced value ({c['v']}{year}){c['fn']}; {c['lacks']} has none, so it does not count for {c['lacks']}."

    @staticmethod
    def _the(name: str) -> str:
        """'the Global AI City Index', but 'Sustainable Connectivity' (a name, not an index noun)."""
        return f"the {name}" if name.split()[-1:] in (["Index"], ["index"]) and not name.lower().startswith("the ") else name

    def paren(self, year: int | None, geo: str | None) -> str:
        """" (2021, national figure)": the year and the geography a value was measured at, where known."""
        parts = ([str(year)] if year else []) + ({"country": ["national figure"], "metro": ["metro area"]}.get(geo or "", []))
        return f" ({', '.join(parts)})" if parts else ""

    def method_note(self, m: dict) -> str:
        name = self._index_name(m)
        own = m.get("index_method", m["aggregate"])
        agg = self._aggregate(m) + (f", the index itself by {self._aggregate({'aggregate': own})}" if own != m["aggregate"] else "")
        norm = "no normalisation" if m["normalize"] == "none" else f"{self._normalize(m)} normalisation"
        return f"{name} computation: {norm} and {agg}; see the Method section."

    # one phrase per kind of uncertain input; Writer.ua_parts walks the inputs
    ua_or = " or "
    ua_phrases = {
        "weights": lambda spec, names, joined: f"weights varied by ±{float(spec.get('noise', 0)) * 100:g}%",
        "normalize": lambda spec, names, joined: f"{joined} normalisation",
        "aggregate": lambda spec, names, joined: f"{joined} aggregation",
        "impute": lambda spec, names, joined: f"imputation by {joined}",
        "winmax": lambda spec, names, joined: f"a winsorisation limit of {min(names)}–{max(names)} points",
        "exclude_indicator": lambda spec, names, joined: "each indicator left out in turn",
    }

    def ua_note(self, u: dict) -> str:
        default = "; the pipeline has no uncertainty section, so the default inputs were used" if u["default"] else ""
        return f"Monte Carlo uncertainty analysis, {u['n']:,} samples{default}: {', '.join(self.ua_parts(u))}; 5th–95th percentile ranks."

    def _normalize(self, m: dict) -> str:
        rng = f" to [{m['range'][0]:g}, {m['range'][1]:g}]" if m.get("range") else ""
        return f"{i18n.method_name(m['normalize'], 'en')}{rng}"

    def _aggregate(self, m: dict) -> str:
        name = i18n.method_name(m["aggregate"], "en")
        special = {"sum": "sums", "product": "weighted products", "topsis": "TOPSIS (relative closeness to the ideal)",
                   "bod": "benefit of the doubt (each unit's most favourable weights)"}
        return f"{name} means" if m["aggregate"] in MEANS else special.get(m["aggregate"], f"{name}'s method")

    def claim(self, v: Verdict, first: bool = True) -> str:
        verdict = {
            "supported": "is supported by the data",
            "contradicted": "is contradicted by the data",
            "mixed": "is only partly supported: the evidence points both ways",
            "not enough data": "cannot be checked: the data set has no comparable figures for both cities",
            "tied": "cannot be decided: the two cities are equal on every measure the data has for it",
        }[v.verdict]
        return f"{'The essay’s' if first else 'The'} claim that “{v.claim.say('en').rstrip('.')}” {verdict}."

    def persona(self, c: dict) -> str:
        return (
            f"For {c['article']} {i18n.lower_first(c['name'])}, the first city overall is {c['top']}. {c['why']} "
            f"Between the two, {c['winner']} comes out ahead ({self.rank(c['wr'])}, against {self.rank(c['lr'])} for {c['loser']})."
        )

    def trend(self, c: dict) -> str:
        return (
            f"From {c['y0']} to {c['y1']}, {c['name']} moved from {self.rank(c['r0'])} "
            + (f"to {self.rank(c['r1'])} of {c['n1']} ranked cities" if c["n0"] == c["n1"] else
               f"of {c['n0']} ranked cities to {self.rank(c['r1'])} of {c['n1']}")
            + "; its pillar scores "
            f"changed by {i18n.number(c['momentum'], self.digits)} points a year on average (momentum), and its index score varied by "
            f"{i18n.number(c['volatility'], self.digits)} points from year to year (volatility).{c['fn']}"
        )

    def same_top(self, c: dict) -> str:
        parts = [f"{i18n.lower_first(n)} ({self.rank(r)})" for n, r in c["best"]]
        best = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return (f"{c['name']} comes first for all {c['n']} readers. That is one finding, not {c['n']} separate ones: it rests on {best}, "
                f"and its weakest pillar, {i18n.lower_first(c['weak'][0])} ({self.rank(c['weak'][1])}), weighs too little for any of "
                "these readers to pull it down.")

    def trend_basis(self, c: dict) -> str:
        s = (f"The trends below rest on the {c['n']} indicators measured in several editions ({c['names']}), "
             f"{c['years']}; ")
        if c["left_out"]:
            s += (f"the other {c['left_out']} lack a second edition covering enough cities and are left out, so these are "
                  f"trends of those {c['n']} measures, not of the whole index.")
        else:
            s += "every indicator of the index is in them."
        if c["thin"]:
            s += f" Thin data ({c['thin']}): read those trajectories as indications only."
        if c["thin_years"]:
            s += f" In {c['thin_years']} few cities have a value measured that year; the rest are carried from earlier years."
        return s

    def speed_vs_stability(self, faster: str, steadier: str) -> str:
        if faster == steadier:
            return f"On these measures {faster} is both the faster-moving and the steadier city."
        return f"On these measures {faster} is the faster-moving city and {steadier} the steadier one."

    def gaps(self, c: dict) -> str:
        these = "it is" if c["n"] == 1 else "these are"
        return f"{c['unit']} lacks data on {c['n']} of {c['of']} indicators ({c['list']}); {these} left missing, not estimated."

    def gaps_both(self, c: dict) -> str:
        these = "it is" if c["n"] == 1 else "these are"
        return f"Both {self.a} and {self.b} lack data on {c['n']} of {c['of']} indicators ({c['list']}); {these} left missing, not estimated."

    def method(self, m: dict) -> str:
        units = "units" if self.generic else "cities"
        s = []
        if m["denominated"]:
            s.append(f"{m['denominated']} indicators are first divided by their denominators.")
        if m["impute"] == "none":
            s.append(f"Missing values stay missing: each aggregate uses the indicators a {'unit' if self.generic else 'city'} has.")
        else:
            s.append(f"Missing values are imputed by {i18n.method_name(m['impute'], 'en')} ({m['n_imputed']:,} values, flagged in every output)."
                     if m["n_imputed"] else f"No value needed imputing ({i18n.method_name(m['impute'], 'en')} was set).")
        if m["min_coverage"]:
            left = f"{', '.join(m['dropped'])} left out" if m["dropped"] else "none is left out"
            s.append(f"Only {units} with at least {m['min_coverage']:.0%} of the indicators are ranked ({left}).")
        if m["treat"] == "winsorise_log":
            excl = f", {m['n_excluded']} exempted by the framework" if m["n_excluded"] else ""
            s.append("Outliers are treated by COINr's rule (while skewness and kurtosis are high, the extreme points are winsorised; "
                     f"failing that, the values are log-transformed): {m['n_winsorised']} indicators winsorised, {m['n_log'] or 'none'} log-transformed{excl}.")
        else:
            s.append("Outliers are not treated.")
        if m.get("transforms"):
            listed = ", ".join(f"{names.get('en', '')} ({TRANSFORM_NAMES[t]['en']})" for names, t in m["transforms"])
            s.append(f"Before normalising, these indicators are transformed, their goalposts and targets with them: {listed}.")
        if m["normalize"] == "none":
            s.append(f"Indicators are not normalised (lower-is-better ones are only reversed) and are aggregated level by level "
                     f"up to the index by {self._aggregate(m)} with {self._weights(m)}.")
        else:
            s.append(f"Each indicator is normalised ({self._normalize(m)}) across the {m['n']} ranked {units}, with lower-is-better indicators "
                     f"reversed, and aggregated level by level up to the index by {self._aggregate(m)} with {self._weights(m)}.")
        if m.get("own_methods"):
            listed = ", ".join(f"{names.get('en', '')} by {self._aggregate({'aggregate': method})}" for names, method in m["own_methods"])
            s.append(f"These are aggregated their own way: {listed}.")
        if m.get("rank_digits") is not None:
            s.append(f"Ranks are given on scores rounded to {m['rank_digits']} decimals; equal rounded scores share the better rank.")
        if m.get("national"):
            for names, share in m["national"]:
                s.append(f"National figures sit only in their own pillar, {names.get('en')} ({i18n.number(100 * share, 0)}% of the index "
                         "by its weights), and are marked as such wherever they are shown.")
        elif m["proxies"]:
            s.append("Country-level figures stand in for cities where no city figure exists and are marked as such.")
        return " ".join(s)

    def _weights(self, m: dict) -> str:
        return {"framework_equal": "the framework's weights (equal within each group)", "framework": "the framework's weights",
                "equal": "equal weights", "custom": "custom weights"}.get(m["weights"], f"the weight set '{m['weight_set']}'")


class Korean(Writer):
    lang = "ko"
    headings = REPORT_HEADINGS["ko"]
    verdicts = VERDICTS["ko"]

    def title(self, index_name: str = "") -> str:
        if self.generic:
            return f"{josa(index_name, '으로/로')} 본 {josa(self.a, '과/와')} {self.b}"
        return f"AI 도시로서의 {josa(self.a, '과/와')} {self.b}: 데이터로 본 비교"

    def subtitle(self, n_cities: int, day: dt.date, index_name: str) -> str:
        ranked = f"평가 대상 {n_cities}개 순위" if self.generic else f"{n_cities}개 도시 순위"
        return f"{index_name}, {ranked}. {i18n.date(day, 'ko')} 작성."

    def intro(self, c: dict) -> list[str]:
        s = [
            f"{c['index']}에서 {josa(self.a, '은/는')} {i18n.number(c['sa'], self.digits)}점으로 {self._among(c['n'])} 가운데 {self.rank(c['ra'])}, "
            f"{josa(self.b, '은/는')} {i18n.number(c['sb'], self.digits)}점으로 {josa(self.rank(c['rb']), '을/를')} 기록했다{c['fn_method']}."
        ]
        if c.get("ua"):
            u = c["ua"]
            s.append(
                f"{josa(self.varied(u['inputs']), '을/를')} 바꾼 {u['n']:,}가지 변형에서 {self._span(self.a, u['a05'], u['a95'], '였고,')} "
                f"{self._span(self.b, u['b05'], u['b95'], '였다')}{c['fn_ua']}."
            )
        lead, trail = (self.a, self.b) if c["gap"] >= 0 else (self.b, self.a)
        s.append(f"{josa(lead, '은/는')} {josa(trail, '을/를')} {i18n.number(abs(c['gap']), i18n.gap_digits(c['sa'], c['sb'], self.digits))}점 앞서며, 이 격차의 가장 큰 몫은 {c['top_pillar']} 부문에서 나온다."
                 + (f" 이 부문은 {josa(c['top_single'], '이라는/라는')} 한 가지 지표에만 의존한다." if c.get("top_single") else ""))
        return s

    def pillar(self, c: dict) -> str:
        ra, rb = self.pair_ranks(c["ra"], c["rb"])
        # a unit without a score has none for want of data: said so, never "n/a점"
        a = "자료가 부족해 점수가 없고" if i18n.is_missing(c["sa"]) else f"{i18n.number(c['sa'], self.digits)}점({ra})"
        if i18n.is_missing(c["sb"]):
            b = "자료가 부족해 점수가 없다"
        else:
            b = f"{i18n.number(c['sb'], self.digits)}점({rb})이다"
        return f"{c['name']} 부문에서 {josa(self.a, '은/는')} {a}, {josa(self.b, '은/는')} {b}{c['fn_method']}."

    def widest(self, c: dict) -> str:
        lead = self.a if c["gap"] >= 0 else self.b
        return f"그 안의 하위 부문 가운데 격차가 가장 큰 것은 {josa(c['name'], '으로/로')}, {josa(lead, '이/가')} {i18n.number(abs(c['gap']), i18n.gap_digits(c['gap'], 0.0, self.digits))}점 앞선다."

    def evidence(self, c: dict) -> str:
        # The copula agrees with the value it follows; the footnote marker comes after it.
        return (
            f"{c['name']}에서는 {josa(self.a, '이/가')} {c['va']}{self.paren(c['ya'], c['geo_a'])}{c['fn_a']}, "
            f"{josa(self.b, '이/가')} {c['vb']}{self.paren(c['yb'], c['geo_b'])}{i18n.particle(c['vb'], '이다/다')}{c['fn_b']}."
        )

    def one_sided(self, c: dict) -> str:
        year = f", {c['y']}년" if c.get("y") else ""
        return (
            f"{josa(c['name'], '은/는')} 출처가 확인된 값이 {c['has']}에만 있고({c['v']}{year}){c['fn']} "
            f"{c['lacks']}에는 없어, {c['lacks']}의 점수 계산에서는 빠졌다."
        )

    def paren(self, year: int | None, geo: str | None) -> str:
        parts = ([f"{year}년"] if year else []) + ({"country": ["국가 단위 수치"], "metro": ["광역권 수치"]}.get(geo or "", []))
        return f"({', '.join(parts)})" if parts else ""

    def _among(self, n: int) -> str:
        return f"평가 대상 {n}개" if self.generic else f"{n}개 도시"

    def method_note(self, m: dict) -> str:
        name = self._index_name(m)
        own = m.get("index_method", m["aggregate"])
        agg = self._aggregate(m) + (f"(지수 자체는 {self._aggregate({'aggregate': own})})" if own != m["aggregate"] else "")
        norm = "정규화 없이" if m["normalize"] == "none" else josa(self._normalization(m), "과/와")
        return f"{name} 계산: {norm} {agg}. ‘방법’ 절 참조."

    ua_or = " 또는 "
    ua_phrases = {
        "weights": lambda spec, names, joined: f"가중치 ±{float(spec.get('noise', 0)) * 100:g}% 변동",
        "normalize": lambda spec, names, joined: f"{joined} 정규화",
        "aggregate": lambda spec, names, joined: f"{joined}평균" if all(n in MEANS for n in names) else f"{joined} 집계",
        "impute": lambda spec, names, joined: f"{joined}에 의한 결측값 대체",
        "winmax": lambda spec, names, joined: f"윈저화 한도 {min(names)}~{max(names)}개",
        "exclude_indicator": lambda spec, names, joined: "지표를 하나씩 제외",
    }

    def ua_note(self, u: dict) -> str:
        default = "(불확실성 설정이 없어 기본 입력값을 사용)" if u["default"] else ""
        return f"몬테카를로 불확실성 분석 {u['n']:,}회{default}: {', '.join(self.ua_parts(u))}. 순위의 5~95 백분위."

    def _normalize(self, m: dict) -> str:
        rng = f"({m['range'][0]:g}~{m['range'][1]:g})" if m.get("range") else ""
        return f"{i18n.method_name(m['normalize'], 'ko')}{rng}"

    def _normalization(self, m: dict) -> str:
        """The normalisation as a noun, its range after the word: 최소-최대 정규화(0~100)."""
        rng = f"({m['range'][0]:g}~{m['range'][1]:g})" if m.get("range") else ""
        return f"{i18n.method_name(m['normalize'], 'ko')} 정규화{rng}"

    def _aggregate(self, m: dict) -> str:
        name = i18n.method_name(m["aggregate"], "ko")
        return f"{name}평균" if m["aggregate"] in MEANS else ("합산" if m["aggregate"] == "sum" else f"{name} 방식 집계")

    def claim(self, v: Verdict, first: bool = True) -> str:
        verdict = {
            "supported": "데이터로 뒷받침된다",
            "contradicted": "데이터와 어긋난다",
            "mixed": "근거가 엇갈려 일부만 뒷받침된다",
            "not enough data": "두 도시를 비교할 수치가 데이터에 없어 확인할 수 없다",
            "tied": "데이터에 있는 모든 지표에서 두 도시의 값이 같아 판단할 수 없다",
        }[v.verdict]
        text = v.claim.say("ko").rstrip(".")
        return f"“{text}”라는 {'에세이의 ' if first else ''}주장은 {verdict}."

    def persona(self, c: dict) -> str:
        return (
            f"{c['name']}의 관점에서 보면 종합 1위 도시는 {josa(c['top'], '이다/다')}. {c['why']} "
            f"두 도시 가운데서는 {josa(c['winner'], '이/가')} 앞선다({c['winner']} {self.rank(c['wr'])}, {c['loser']} {self.rank(c['lr'])})."
        )

    def trend(self, c: dict) -> str:
        if c["r1"] == c["r0"]:
            moved = f"{c['name']}의 순위는 {josa(self.rank(c['r0']), '을/를')} 유지했다"
        else:
            verb = "올라갔다" if c["r1"] < c["r0"] else "내려갔다"
            after = "" if c["n0"] == c["n1"] else f"{c['n1']}개 도시 중 "
            moved = f"{c['name']}의 순위는 {c['n0']}개 도시 중 {self.rank(c['r0'])}에서 {after}{josa(self.rank(c['r1']), '으로/로')} {verb}"
        return (
            f"{c['y0']}년부터 {c['y1']}년까지 {moved}. 같은 기간 {c['name']}의 부문 점수는 연평균 {i18n.number(c['momentum'], self.digits)}점 변했고(모멘텀), "
            f"지수 점수의 연간 변화는 표준편차 {i18n.number(c['volatility'], self.digits)}점이었다(변동성){c['fn']}."
        )

    def same_top(self, c: dict) -> str:
        best = ", ".join(f"{n}({self.rank(r)})" for n, r in c["best"])
        weak = f"{c['weak'][0]}({self.rank(c['weak'][1])})"
        return (f"{c['n']}개 관점 모두에서 1위는 {josa(c['name'], '이다/다')}. 관점마다 다른 이유로 1위가 된 것이 아니라, "
                f"같은 강점에서 나온 하나의 결과다. {best}에서 앞서고, 가장 약한 부문인 {josa(weak, '은/는')} "
                "어느 관점에서도 순위를 끌어내릴 만큼 비중이 크지 않다.")

    def trend_basis(self, c: dict) -> str:
        s = (f"아래 추세는 여러 해에 걸쳐 측정된 {c['n']}개 지표({c['names']})의 {c['years']} 값에 바탕을 둔다. ")
        if c["left_out"]:
            s += (f"나머지 {c['left_out']}개 지표는 충분한 수의 도시를 포함한 두 번째 연도의 값이 없어 제외했으므로, 이는 지수 전체가 아니라 "
                  f"이 {c['n']}개 지표의 추세다.")
        else:
            s += "지수의 모든 지표가 포함되어 있다."
        if c["thin"]:
            s += f" 자료가 적은 지표({c['thin']})의 추이는 참고로만 읽어야 한다."
        if c["thin_years"]:
            s += f" {c['thin_years']}에는 그해에 측정된 값이 있는 도시가 적고, 나머지는 이전 해의 값을 이어 썼다."
        return s

    def speed_vs_stability(self, faster: str, steadier: str) -> str:
        if faster == steadier:
            return f"이 척도로 보면 {josa(faster, '은/는')} 더 빠르게 움직이는 도시이자 더 안정적인 도시다."
        return f"이 척도로 보면 더 빠르게 움직이는 도시는 {josa(faster, '이고/고')}, 더 안정적인 도시는 {josa(steadier, '이다/다')}."

    def gaps(self, c: dict) -> str:
        many = " 등" if c["n"] > 1 else ""
        return f"{josa(c['unit'], '은/는')} {c['of']}개 지표 가운데 {c['list']}{many} {c['n']}개 지표의 자료가 없다. 이 값은 추정하지 않고 비워 두었다."

    def gaps_both(self, c: dict) -> str:
        many = " 등" if c["n"] > 1 else ""
        return f"{josa(self.a, '과/와')} {self.b} 모두 {c['of']}개 지표 가운데 {c['list']}{many} {c['n']}개 지표의 자료가 없다. 이 값은 추정하지 않고 비워 두었다."

    def method(self, m: dict) -> str:
        s = []
        if m["denominated"]:
            s.append(f"먼저 {m['denominated']}개 지표를 각각의 분모로 나눴다.")
        if m["impute"] == "none":
            s.append(f"결측값은 채우지 않았으며, 집계에는 각 {'대상이' if self.generic else '도시가'} 가진 지표만 썼다.")
        else:
            s.append(f"결측값 {m['n_imputed']:,}개는 {josa(i18n.method_name(m['impute'], 'ko'), '으로/로')} 대체하고 모든 출력에 따로 표시했다."
                     if m["n_imputed"] else "대체할 결측값은 없었다.")
        if m["min_coverage"]:
            left = f"{', '.join(m['dropped'])} 제외" if m["dropped"] else f"제외된 {'대상' if self.generic else '도시'} 없음"
            s.append(f"지표의 {m['min_coverage']:.0%} 이상을 갖춘 {'대상' if self.generic else '도시'}만 순위에 넣었다({left}).")
        if m["treat"] == "winsorise_log":
            excl = f" 이상값 처리에서 제외하도록 프레임워크에 지정된 지표는 {m['n_excluded']}개다." if m["n_excluded"] else ""
            s.append("이상값은 COINr의 규칙으로 처리했다. 왜도와 첨도가 기준을 넘으면 기준 안에 들 때까지 극단값을 하나씩 윈저화하고, 그래도 넘으면 로그 변환했다. "
                     f"윈저화한 지표는 {m['n_winsorised']}개, " + (f"로그 변환한 지표는 {m['n_log']}개다." if m["n_log"] else "로그 변환한 지표는 없다.") + excl)
        else:
            s.append("이상값은 따로 처리하지 않았다.")
        agg = i18n.method_name(m["aggregate"], "ko")
        verb = f"{agg}평균을 냈다" if m["aggregate"] in MEANS else ("합산했다" if m["aggregate"] == "sum" else f"{agg} 방식으로 집계했다")
        ranked = f"평가 대상 {m['n']}개" if self.generic else f"{m['n']}개 도시"
        if m.get("transforms"):
            listed = ", ".join(f"{names.get('ko') or names.get('en', '')}({TRANSFORM_NAMES[t]['ko']})" for names, t in m["transforms"])
            s.append(f"정규화에 앞서 다음 지표를 변환했고, 골포스트와 목표값에도 같은 변환을 적용했다: {listed}.")
        if m["normalize"] == "none":
            s.append(f"지표는 정규화하지 않고 낮을수록 좋은 지표의 방향만 뒤집었다. 그다음 {josa(self._weights(m), '으로/로')} "
                     f"하위 단계부터 지수까지 단계마다 {verb}.")
        else:
            s.append(f"각 지표를 순위에 오른 {ranked} 안에서 {self._normalize(m)} 방식으로 정규화하고, 낮을수록 좋은 지표는 "
                     f"방향을 뒤집었다. 그다음 {josa(self._weights(m), '으로/로')} 하위 단계부터 지수까지 단계마다 {verb}.")
        if m.get("own_methods"):
            listed = ", ".join(f"{josa(names.get('ko') or names.get('en', ''), '은/는')} {josa(self._method_noun(method), '으로/로')}"
                               for names, method in m["own_methods"])
            s.append(f"다만 {listed} 집계했다.")
        if m.get("rank_digits") is not None:
            s.append(f"순위는 점수를 소수점 이하 {m['rank_digits']}자리로 반올림해 매겼고, 반올림한 점수가 같으면 같은 순위를 주었다.")
        if m.get("national"):
            for names, share in m["national"]:
                s.append(f"국가 단위 수치는 별도 부문인 ‘{names.get('ko') or names.get('en')}’(지수 가중치의 {i18n.number(100 * share, 0)}%)에만 넣었고, "
                         "표시되는 모든 곳에 국가 단위 수치임을 밝혔다.")
        elif m["proxies"]:
            s.append("도시 단위 수치가 없으면 국가 단위 수치로 대신하고 따로 표시했다.")
        return " ".join(s)

    @staticmethod
    def _span(name: str, lo: float, hi: float, end: str) -> str:
        """'서울은 줄곧 3위였고,' or '서울의 순위는 3~5위 사이였고,'"""
        return f"{josa(name, '은/는')} 줄곧 {int(lo)}위{end}" if lo == hi else f"{name}의 순위는 {int(lo)}~{int(hi)}위 사이{end}"

    @staticmethod
    def _method_noun(method: str) -> str:
        name = i18n.method_name(method, "ko")
        return f"{name}평균" if method in MEANS else ("합산" if method == "sum" else f"{name} 방식")

    def _weights(self, m: dict) -> str:
        return {"framework_equal": "프레임워크의 가중치(각 묶음 안에서 동일)", "framework": "프레임워크의 가중치",
                "equal": "동일 가중치", "custom": "사용자 지정 가중치"}.get(m["weights"], f"가중치 세트 ‘{m['weight_set']}’")


class Japanese(Writer):
    lang = "ja"
    sentence_gap = ""
    list_sep = "、"
    headings = REPORT_HEADINGS["ja"]
    verdicts = VERDICTS["ja"]

    def title(self, index_name: str = "") -> str:
        if self.generic:
            return f"{index_name}で見る{self.a}と{self.b}"
        return f"AI都市としての{self.a}と{self.b}：データで見る比較"

    def subtitle(self, n_cities: int, day: dt.date, index_name: str) -> str:
        ranked = f"{n_cities}件の評価対象のランキング" if self.generic else f"{n_cities}都市のランキング"
        return f"{index_name}、{ranked}。{i18n.date(day, 'ja')}作成。"

    def intro(self, c: dict) -> list[str]:
        # Footnote markers go before the full stop, as Japanese print does.
        s = [
            f"{c['index']}では、{self.a}は{i18n.number(c['sa'], self.digits)}点で{self._among(c['n'])}{self.rank(c['ra'])}、"
            f"{self.b}は{i18n.number(c['sb'], self.digits)}点で{self.rank(c['rb'])}である{c['fn_method']}。"
        ]
        if c.get("ua"):
            u = c["ua"]
            s.append(
                f"{self.varied(u['inputs'])}を変えた{u['n']:,}通りの試算では、{self._span(self.a, u['a05'], u['a95'], False)}、"
                f"{self._span(self.b, u['b05'], u['b95'], True)}{c['fn_ua']}。"
            )
        lead, trail = (self.a, self.b) if c["gap"] >= 0 else (self.b, self.a)
        s.append(f"{lead}は{trail}を{i18n.number(abs(c['gap']), i18n.gap_digits(c['sa'], c['sb'], self.digits))}点上回っており、この差に最も大きく寄与しているのは{c['top_pillar']}の分野である。"
                 + (f"この分野は{c['top_single']}という一つの指標だけに依拠している。" if c.get("top_single") else ""))
        return s

    def pillar(self, c: dict) -> str:
        ra, rb = self.pair_ranks(c["ra"], c["rb"])
        # a unit without a score has none for want of data: said so, never "n/a点"
        a = "データ不足のため得点がなく" if i18n.is_missing(c["sa"]) else f"{i18n.number(c['sa'], self.digits)}点（{ra}）"
        b = "データ不足のため得点がない" if i18n.is_missing(c["sb"]) else f"{i18n.number(c['sb'], self.digits)}点（{rb}）である"
        topic = "は" if i18n.is_missing(c["sa"]) or i18n.is_missing(c["sb"]) else "が"  # contrasted: AはX、BはY
        return f"{c['name']}の分野では、{self.a}{topic}{a}、{self.b}{topic}{b}{c['fn_method']}。"

    def widest(self, c: dict) -> str:
        lead = self.a if c["gap"] >= 0 else self.b
        return f"そのうち差が最も大きいのは{c['name']}で、{lead}が{i18n.number(abs(c['gap']), i18n.gap_digits(c['gap'], 0.0, self.digits))}点上回る。"

    def evidence(self, c: dict) -> str:
        return (
            f"{c['name']}では、{self.a}が{c['va']}{self.paren(c['ya'], c['geo_a'])}{c['fn_a']}、"
            f"{self.b}が{c['vb']}{self.paren(c['yb'], c['geo_b'])}{c['fn_b']}である。"
        )

    def one_sided(self, c: dict) -> str:
        year = f"、{c['y']}年" if c.get("y") else ""
        return f"{c['name']}は、出典のある数値が{c['has']}にしかなく（{c['v']}{year}）{c['fn']}、{c['lacks']}の得点には反映されていない。"

    def paren(self, year: int | None, geo: str | None) -> str:
        parts = ([f"{year}年"] if year else []) + ({"country": ["国単位の数値"], "metro": ["都市圏の数値"]}.get(geo or "", []))
        return f"（{'、'.join(parts)}）" if parts else ""

    def _among(self, n: int) -> str:
        return f"{n}件の評価対象のうち" if self.generic else f"{n}都市中"

    def method_note(self, m: dict) -> str:
        name = self._index_name(m)
        own = m.get("index_method", m["aggregate"])
        agg = self._aggregate(m) + (f"（指数自体は{self._aggregate({'aggregate': own})}）" if own != m["aggregate"] else "")
        norm = "正規化なし" if m["normalize"] == "none" else self._normalization(m)
        return f"{name}の算出：{norm}、{agg}。「方法」の節を参照。"

    ua_or = "または"
    ua_phrases = {
        "weights": lambda spec, names, joined: f"重みを±{float(spec.get('noise', 0)) * 100:g}%の範囲で変動",
        "normalize": lambda spec, names, joined: f"{joined}正規化",
        "aggregate": lambda spec, names, joined: f"{joined}平均" if all(n in MEANS for n in names) else f"{joined}による集計",
        "impute": lambda spec, names, joined: f"{joined}による欠損値の補完",
        "winmax": lambda spec, names, joined: f"ウィンソライズする値の数の上限（{min(names)}～{max(names)}個）",
        "exclude_indicator": lambda spec, names, joined: "指標を一つずつ除外",
    }

    def ua_note(self, u: dict) -> str:
        default = "。不確実性の設定がないため既定の入力を使用" if u["default"] else ""
        return f"モンテカルロ不確実性分析（{u['n']:,}回{default}）：{'、'.join(self.ua_parts(u))}。順位の5～95パーセンタイル。"

    def _normalize(self, m: dict) -> str:
        rng = f"（{m['range'][0]:g}～{m['range'][1]:g}）" if m.get("range") else ""
        return f"{i18n.method_name(m['normalize'], 'ja')}{rng}"

    def _normalization(self, m: dict) -> str:
        """The normalisation as a noun, its range after the word: 最小最大正規化（0～100）."""
        rng = f"（{m['range'][0]:g}～{m['range'][1]:g}）" if m.get("range") else ""
        return f"{i18n.method_name(m['normalize'], 'ja')}正規化{rng}"

    def _aggregate(self, m: dict) -> str:
        name = i18n.method_name(m["aggregate"], "ja")
        return f"{name}平均" if m["aggregate"] in MEANS else ("合計による集計" if m["aggregate"] == "sum" else f"{name}法による集計")

    def claim(self, v: Verdict, first: bool = True) -> str:
        verdict = {
            "supported": "データで裏付けられる",
            "contradicted": "データと矛盾する",
            "mixed": "根拠が分かれており、一部しか裏付けられない",
            "not enough data": "両都市を比較できる数値がデータにないため、検証できない",
            "tied": "データにあるすべての指標で両都市の値が同じため、判断できない",
        }[v.verdict]
        text = v.claim.say("ja").rstrip("。")
        return f"「{text}」という{'エッセイの' if first else ''}主張は、{verdict}。"

    def persona(self, c: dict) -> str:
        return (
            f"{c['name']}の視点では、総合首位は{c['top']}である。{c['why']}"
            f"両都市を比べると{c['winner']}が上位である（{c['winner']}は{self.rank(c['wr'])}、{c['loser']}は{self.rank(c['lr'])}）。"
        )

    def trend(self, c: dict) -> str:
        if c["r1"] == c["r0"]:
            moved = f"{c['name']}の順位は{self.rank(c['r0'])}のまま変わらなかった"
        else:
            verb = "上がった" if c["r1"] < c["r0"] else "下がった"
            after = "" if c["n0"] == c["n1"] else f"{c['n1']}都市中"
            moved = f"{c['name']}の順位は{c['n0']}都市中{self.rank(c['r0'])}から{after}{self.rank(c['r1'])}に{verb}"
        return (
            f"{c['y0']}年から{c['y1']}年にかけて、{moved}。分野別得点の年平均変化量（モメンタム）は{i18n.number(c['momentum'], self.digits)}点、"
            f"指数得点の前年からの変化の標準偏差（ボラティリティ）は{i18n.number(c['volatility'], self.digits)}点であった{c['fn']}。"
        )

    def same_top(self, c: dict) -> str:
        best = "、".join(f"{n}（{self.rank(r)}）" for n, r in c["best"])
        return (f"{c['n']}の視点すべてで首位は{c['name']}である。視点ごとに別々の理由で首位になったのではなく、"
                f"同じ強みから出た一つの結果である。その土台は{best}であり、最も弱い分野である{c['weak'][0]}（{self.rank(c['weak'][1])}）は、"
                "どの視点でも順位を押し下げるほどの重みを持たない。")

    def trend_basis(self, c: dict) -> str:
        s = f"以下の推移は、複数年にわたって測定された{c['n']}指標（{c['names']}）の{c['years']}の値に基づく。"
        if c["left_out"]:
            s += f"残る{c['left_out']}指標は十分な数の都市を含む2年目の値がないため除いた。したがって、これは指数全体ではなく、この{c['n']}指標の推移である。"
        else:
            s += "指数のすべての指標が含まれている。"
        if c["thin"]:
            s += f"データの少ない指標（{c['thin']}）の推移は参考にとどめるべきである。"
        if c["thin_years"]:
            s += f"{c['thin_years']}はその年に測定された値を持つ都市が少なく、残りは前年までの値を引き継いでいる。"
        return s

    def speed_vs_stability(self, faster: str, steadier: str) -> str:
        if faster == steadier:
            return f"これらの尺度では、{faster}は動きが速く、かつ安定した都市である。"
        return f"これらの尺度では、動きが速いのは{faster}、安定しているのは{steadier}である。"

    def gaps(self, c: dict) -> str:
        these = "この値" if c["n"] == 1 else "これらの値"
        return f"{c['unit']}については、{c['of']}指標のうち{c['list']}の{c['n']}指標のデータがない。{these}は推計せず、空欄のままにしている。"

    def gaps_both(self, c: dict) -> str:
        these = "この値" if c["n"] == 1 else "これらの値"
        return f"{self.a}、{self.b}とも、{c['of']}指標のうち{c['list']}の{c['n']}指標のデータがない。{these}は推計せず、空欄のままにしている。"

    def method(self, m: dict) -> str:
        s = []
        if m["denominated"]:
            s.append(f"まず{m['denominated']}指標をそれぞれの分母で割った。")
        if m["impute"] == "none":
            s.append(f"欠損値は補完せず、集計には各{'対象' if self.generic else '都市'}が持つ指標のみを用いた。")
        else:
            s.append(f"欠損値{m['n_imputed']:,}件は{i18n.method_name(m['impute'], 'ja')}で補完し、すべての出力に明示した。"
                     if m["n_imputed"] else "補完を要する欠損値はなかった。")
        if m["min_coverage"]:
            noun = "対象" if self.generic else "都市"
            left = f"{'、'.join(m['dropped'])}を除外" if m["dropped"] else f"除外された{noun}はない"
            s.append(f"指標の{m['min_coverage']:.0%}以上がそろう{noun}のみを順位付けした（{left}）。")
        if m["treat"] == "winsorise_log":
            excl = f"枠組みで処理の対象外としたのは{m['n_excluded']}指標である。" if m["n_excluded"] else ""
            s.append("外れ値はCOINrの規則で処理した。歪度と尖度が基準を超える間は極端な値を一つずつウィンソライズし、それでも超える場合は対数変換した。"
                     f"ウィンソライズしたのは{m['n_winsorised']}指標、" + (f"対数変換したのは{m['n_log']}指標である。" if m["n_log"] else "対数変換した指標はない。") + excl)
        else:
            s.append("外れ値の処理は行っていない。")
        target = f"{m['n']}件の評価対象" if self.generic else f"ランキング対象の{m['n']}都市"
        if m.get("transforms"):
            listed = "、".join(f"{names.get('ja') or names.get('en', '')}（{TRANSFORM_NAMES[t]['ja']}）" for names, t in m["transforms"])
            s.append(f"正規化の前に次の指標を変換し、ゴールポストと目標値にも同じ変換を施した：{listed}。")
        if m["normalize"] == "none":
            s.append("各指標は正規化せず、低いほど良い指標の向きだけを反転させた。"
                     f"そのうえで{self._weights(m)}により、下位の段階から指数まで段階ごとに{self._aggregate(m)}を求めた。")
        else:
            s.append(f"各指標には、{target}の間で{self._normalization(m)}を施し、低いほど良い指標は向きを反転させた。"
                     f"そのうえで{self._weights(m)}により、下位の段階から指数まで段階ごとに{self._aggregate(m)}を求めた。")
        if m.get("own_methods"):
            listed = "、".join(f"{names.get('ja') or names.get('en', '')}は{self._method_noun(method)}" for names, method in m["own_methods"])
            s.append(f"ただし、{listed}で集計した。")
        if m.get("rank_digits") is not None:
            s.append(f"順位は得点を小数第{m['rank_digits']}位に丸めて付け、丸めた得点が等しい場合は同順位とした。")
        if m.get("national"):
            for names, share in m["national"]:
                s.append(f"国単位の数値は独立した分野「{names.get('ja') or names.get('en')}」（重みにして指数の{i18n.number(100 * share, 0)}%）にのみ入れ、"
                         "表示するすべての箇所で国単位の数値であることを明記した。")
        elif m["proxies"]:
            s.append("都市単位の数値がない場合は国単位の数値で代替し、その旨を示した。")
        return "".join(s)

    @staticmethod
    def _span(name: str, lo: float, hi: float, last: bool) -> str:
        """'東京は常に4位であり' or '東京の順位は3～5位の範囲に収まる'"""
        if lo == hi:
            return f"{name}は常に{int(lo)}位{'である' if last else 'であり'}"
        return f"{name}の順位は{int(lo)}～{int(hi)}位の範囲に{'収まる' if last else '収まり'}"

    @staticmethod
    def _method_noun(method: str) -> str:
        name = i18n.method_name(method, "ja")
        return f"{name}平均" if method in MEANS else ("合計" if method == "sum" else f"{name}法")

    def _weights(self, m: dict) -> str:
        return {"framework_equal": "枠組みの重み（各グループ内で均等）", "framework": "枠組みの重み",
                "equal": "均等な重み", "custom": "利用者指定の重み"}.get(m["weights"], f"重みセット「{m['weight_set']}」")


MEANS = {"arithmetic", "geometric", "harmonic", "generalised_mean"}


def _option_names(spec: Any, key: str) -> list:
    """The options of one uncertain input, as method names (or numbers for winmax)."""
    if not isinstance(spec, dict):
        return []
    out = []
    for v in spec.get("values", []):
        out.append(v.get("method") if isinstance(v, dict) else v)
    return [v for v in out if v is not None and v != "none"] if key != "winmax" else [int(v) for v in out]


WRITERS = {"en": English, "ko": Korean, "ja": Japanese}
PERSONA_ARTICLE = {"entrepreneur": "an", "policymaker": "a", "citizen": "a", "researcher": "a"}


# -- the report --------------------------------------------------------------------------


@dataclass
class Section:
    key: str
    title: str
    paragraphs: list[str]


@dataclass
class Report:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]
    footnotes: Footnotes
    figures: dict[str, Any]  # name -> plotly Figure
    tables: dict[str, pd.DataFrame]
    verdicts: list[Verdict]
    a: str
    b: str
    code_names: dict[str, str] = field(default_factory=dict)

    # rendering -------------------------------------------------------------------------
    def markdown(self) -> str:
        """The report as Markdown. HTML in any name or value (`<`, `>`, `&`) is escaped, so a
        unit called `<script>` shows as text wherever the Markdown is rendered."""
        esc = _md_text
        out = [f"# {esc(self.title)}", "", f"*{esc(self.subtitle)}*", ""]
        for sec in self.sections:
            out += [f"## {esc(sec.title)}", ""]
            for p in sec.paragraphs:
                out += [re.sub(r"\[\[(\d+)\]\]", r"[^\1]", esc(p)), ""]
        out += [f"## {esc(WRITERS[self.lang].headings['notes'])}", ""]
        for i, (text, url) in enumerate(zip(self.footnotes.items, self.footnotes.urls, strict=True), 1):
            out.append(f"[^{i}]: {esc(text)}" + (f" <{_md_url(url)}>" if url else ""))
        return "\n".join(out) + "\n"

    def html(self) -> str:
        from jinja2 import Environment, PackageLoader, select_autoescape
        from plotly.offline import get_plotlyjs

        env = Environment(loader=PackageLoader("aicity", "templates"), autoescape=select_autoescape(enabled_extensions=("html", "j2")))
        env.tests["safe_link"] = lambda url: http_url(url) is not None  # only http(s) sources become links

        def para(text: str) -> str:
            escaped = html.escape(text)
            return re.sub(r"\[\[(\d+)\]\]", r'<sup class="fn"><a href="#fn-\1" id="ref-\1">\1</a></sup>', escaped)

        figures = {
            name: fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True}, div_id=f"fig-{name}")
            for name, fig in self.figures.items()
        }
        writer = WRITERS[self.lang]
        claims = [
            {"text": v.claim.say(self.lang), "verdict": v.verdict, "label": writer.verdicts[v.verdict],
             "evidence": writer.list_sep.join(f"{self.code_names.get(e.code, e.code)} {'✓' if e.agrees else '✗'}" for e in v.evidence) or "–"}
            for v in self.verdicts
        ]
        return env.get_template("report.html.j2").render(
            lang=self.lang, title=self.title, subtitle=self.subtitle,
            sections=[{"key": s.key, "title": s.title, "paragraphs": [para(p) for p in s.paragraphs]} for s in self.sections],
            notes=list(zip(self.footnotes.items, self.footnotes.urls, strict=True)), headings=WRITERS[self.lang].headings,
            figures=figures, plotlyjs=get_plotlyjs(), claims=claims,
        )

    def write(self, out: Path, formats: tuple[str, ...] = ("html", "md", "xlsx", "pdf")) -> dict[str, Path | str]:
        """The report's files in `out`, written into a fresh folder beside them and moved into
        place together once all are written: a failure midway leaves the previous ones as they were."""
        from aicity.export import staged

        written: dict[str, Path | str] = {}
        with staged(out) as stage:
            # the PDF is printed from the HTML; asked for the PDF alone, the HTML stays in the
            # staging folder, never moved into place
            html_file = stage.path("report.html") if "html" in formats else stage.dir / ".report-for-pdf.html"
            if "html" in formats or "pdf" in formats:
                html_file.write_text(self.html(), encoding="utf-8")
            if "html" in formats:
                written["html"] = stage.final("report.html")
            if "md" in formats:
                stage.path("report.md").write_text(self.markdown(), encoding="utf-8")
                written["md"] = stage.final("report.md")
            if "xlsx" in formats:
                self._write_xlsx(stage.path("report.xlsx"))
                written["xlsx"] = stage.final("report.xlsx")
            if "pdf" in formats:
                try:
                    print_pdf(html_file, stage.path("report.pdf"))
                    written["pdf"] = stage.final("report.pdf")
                except BrowserMissing as exc:
                    stage.path("report.pdf").unlink(missing_ok=True)
                    written["pdf"] = f"skipped: {exc}"
        return written

    def _write_xlsx(self, path: Path) -> None:
        """Every table and the footnotes; text cells are text, never formulas (`export.to_excel`)."""
        from aicity.export import to_excel

        with pd.ExcelWriter(path, engine="openpyxl") as xl:
            for name, table in self.tables.items():
                to_excel(table, xl, sheet_name=name[:31], index=False)
            to_excel(pd.DataFrame({"n": range(1, len(self.footnotes.items) + 1), "source": self.footnotes.items,
                                   "url": self.footnotes.urls}), xl, sheet_name="Footnotes", index=False)


def _md_text(text: str) -> str:
    """Markdown text with HTML made inert by CommonMark's backslash escapes (`\\<`, `\\>`,
    `\\&`): rendered, it shows as written (<venue>, R&D) and is never a tag or an entity;
    read raw, it stays legible, where entities (&lt;venue&gt;) were not."""
    return text.replace("\\", "\\\\").replace("<", "\\<").replace(">", "\\>").replace("&", "\\&")


def _md_url(url: str) -> str:
    """A URL inside a Markdown autolink `<...>`: no character that could end it or start a tag."""
    return url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


class BrowserMissing(RuntimeError):
    pass


def chromium_path() -> str:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise BrowserMissing("no Chromium found (install Debian's 'chromium' and 'fonts-noto-cjk'; `make install-browser` does)")


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    """Print the HTML report with Debian's Chromium (through Playwright; no browser download)."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(html_path.resolve().as_uri(), wait_until="load")
            page.wait_for_function("window.reportReady === true", timeout=30_000)
            page.emulate_media(media="print")
            page.pdf(path=str(pdf_path), format="A4", print_background=True, margin={"top": "16mm", "bottom": "16mm", "left": "14mm", "right": "14mm"})
        finally:
            browser.close()


# -- assembling the content ---------------------------------------------------------------


def _prose_decimals(value: float, digits: int = 4) -> int | None:
    """The decimals that show `value` at `digits` significant digits; None for a whole or
    missing value, which needs none."""
    if value is None or not np.isfinite(value) or float(value).is_integer() or value == 0:
        return None
    return max(0, digits - 1 - int(np.floor(np.log10(abs(value)))))


def _prose_precision(value: float, digits: int = 4, decimals: int | None = None) -> float:
    """A value as prose states it: at most `digits` significant digits (770.854364 per
    million reads 770.9; a published 36.18 stays 36.18), or `decimals` places where two values
    are set side by side and must read alike. The tables keep every digit."""
    places = _prose_decimals(value, digits)
    if places is None:
        return value
    return float(round(value, places if decimals is None else decimals))


def _pair_decimals(a: float, b: float) -> int | None:
    """One precision for two values compared in one sentence (1.465 against 0.836, not
    0.8358): the fewer decimals of the two, so neither claims more digits than the other."""
    places = [d for d in (_prose_decimals(a), _prose_decimals(b)) if d is not None]
    return min(places) if places else None


def _value_with_unit(value: float, unit: str | None, lang: str, decimals: int | None = None,
                     counter: dict[str, str] | None = None) -> str:
    """A raw value as a reader expects it: ranks as ranks (16위, 16位, 16th: a bare 16 against
    72 would read as a score), percentages with %, a count with the language's counter word
    where the framework gives one (28곳, 28団体), short units (Mbps) attached as each
    language writes them; descriptive English units ('score (0-100)') stay in the tables,
    where the indicator's name already says what it counts."""
    text = value_text(_prose_precision(value, decimals=decimals), lang)
    if i18n.is_missing(value):
        return text  # "n/a", with no unit or counter after it
    unit = (unit or "").strip()
    head = unit.split()[0].lower() if unit else ""
    if head.startswith("rank"):
        return ordinal(value, lang)
    if unit.startswith("%"):
        return f"{text}%"
    if head == "ratio" and " over " in unit:  # one period's value over another's: so many times
        return {"en": f"{text} times", "ko": f"{text}배", "ja": f"{text}倍"}[lang]
    if counter and counter.get(lang):
        return f"{text} {counter[lang]}" if lang == "en" else f"{text}{counter[lang]}"
    if unit and len(unit) <= 6 and head not in {"score", "count", "index", "number", "share", "ratio", "binary", "persons"}:
        # Korean and Japanese attach a symbol (100Mbps); an English word (84.25 years) is not
        # written into their sentences: the framework's `counter` gives their word (84.25세,
        # 84.25歳), else the number stands alone and the tables name the unit
        word = unit.isascii() and unit.isalpha() and len(unit) > 4
        if lang == "en":
            return f"{text} {unit}"
        return text if word else f"{text}{unit}"
    return text


def _shown_geo(result: IndexResult, unit: str, row: dict) -> str | None:
    """The geography a value is labelled with: a national figure standing in for a city is
    said to be one; a country's own national figure (a country index) needs no label."""
    geo = row.get("geo")
    if geo == "country" and str(row.get("geo_name") or "") == result.dataset.unit_name(unit):
        return None
    return geo


def _obs_lookup(result: IndexResult) -> dict[tuple[str, str], dict]:
    return {(r["unit"], r["indicator"]): r for r in result.dataset.sources().to_dict(orient="records")}


DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xls", ".parquet", ".json"}


def _is_data_path(source: str) -> bool:
    """Whether a value's source is nothing but a data file's path (what a file without
    provenance columns gives), not a citation that happens to hold a slash ("papercopilot/
    paperlists", a URL): a citation is shown whole."""
    if not ("/" in source or "\\" in source) or ";" in source or "://" in source:
        return False
    return Path(source.strip()).suffix.lower() in DATA_SUFFIXES


def _cite_value(fn: Footnotes, row: dict | None, lang: str) -> str:
    if row is None:
        return ""
    source = str(row.get("source") or "")
    if _is_data_path(source):  # a data file's path (data without provenance columns): its name only
        source = Path(source).name
    # the label a derived source puts before its licence is the report's word, not the data's
    source = source.replace(f"; {LICENCE_LABELS['en']}", f"; {LICENCE_LABELS[lang]}")
    parts = [str(row.get("publisher") or ""), source]
    year = row.get("year")
    text = ", ".join(p for p in parts if p and p != "nan")
    if not i18n.is_missing(year):
        text += f" ({int(year)})"
    url = row.get("url") if isinstance(row.get("url"), str) else None
    return fn.cite(f"{row.get('source')}|{url}|{year}", text, url)


def _year(row: dict) -> int | None:
    """A value's year, or None where the data has no year column (or the cell is empty)."""
    y = row.get("year")
    try:
        return None if y is None or pd.isna(y) else int(y)
    except (TypeError, ValueError):
        return None


def _has_national_proxies(result: IndexResult, rows: pd.DataFrame | None) -> bool:
    """Whether a national figure stands in for a unit that is not that nation: a row measured
    at country level whose place is named otherwise than the unit (NYC's 'United States'); a
    country index's own national figures (the HDI's) are no proxies."""
    if rows is None or "geo" not in rows or not (rows["geo"] == "country").any():
        return False
    national = rows[rows["geo"] == "country"]
    if "geo_name" not in national:
        return True
    names = national["unit"].map(lambda u: result.dataset.unit_name(u) if u in result.dataset.units.index else u)
    return bool((national["geo_name"].astype(str) != names.astype(str)).any())


def method_facts(result: IndexResult, n_ranked: int) -> dict[str, Any]:
    """What the run really did, from its spec and its outputs: the Method section is written
    from these, never from a description of the bundled pipeline."""
    spec = dict(result.spec)
    fw = result.framework
    norm = spec.get("normalize", {})
    treat = spec.get("treat", {"method": "none"})
    status = result.treatment["status"] if len(result.treatment) and "status" in result.treatment else pd.Series(dtype=str)
    weights = spec.get("weights", {"set": "framework"})
    kind = weights.get("set", "framework")
    if kind == "framework":
        equal = all(len({fw.node(k).weight for k in kids}) <= 1 for kids in fw.children.values() if kids)
        kind = "framework_equal" if equal else "framework"
    imputed = result.imputed
    n_imputed = int(np.asarray(imputed).sum()) if imputed is not None and len(imputed) else 0
    dropped = [result.dataset.unit_name(u) for u in result.screened_out["unit"]] if len(result.screened_out) else []
    # only a long file carries a geography; a wide file's observations would be built for nothing
    rows = result.dataset.long_rows
    return {
        "index_code": fw.index_code, "index_name": fw.node(fw.index_code).name("en"), "index_names": fw.node(fw.index_code).names,
        "index_method": group_methods(result)[fw.index_code], "n": n_ranked,
        "normalize": norm.get("method", "minmax"),
        "range": tuple(norm["range"]) if norm.get("method") in ("minmax", "goalposts") and norm.get("range") else None,
        "aggregate": spec.get("aggregate", {}).get("method", "arithmetic"),
        "impute": spec.get("impute", {}).get("method", "none"), "n_imputed": n_imputed,
        "min_coverage": float(spec.get("screen", {}).get("min_coverage", 0) or 0), "dropped": dropped,
        "treat": treat.get("method", "none"),
        "n_winsorised": int((status == "winsorised").sum()), "n_log": int(status.astype(str).str.startswith("log").sum()),
        "n_excluded": int((status == "excluded").sum()),
        "weights": kind, "weight_set": weights.get("set", ""),
        "denominated": sum(1 for c in fw.indicators if fw.node(c).denominator) if spec.get("denominate", {}).get("enabled") else 0,
        "proxies": _has_national_proxies(result, rows),
        # a framework's groups of national figures: (names by language, share of the index by nominal weights)
        "national": [(fw.node(g).names, fw.nominal_share(g)) for g in fw.codes if fw.node(g).national],
        # indicators transformed before normalisation: (names by language, transform)
        "transforms": [(fw.node(c).names, fw.node(c).transform) for c in fw.indicators if fw.node(c).transform != "none"],
        # groups aggregated otherwise than the step says (their own `aggregate:` or their level's)
        "own_methods": [(fw.node(c).names, method) for c, method in group_methods(result).items()
                        if method != spec.get("aggregate", {}).get("method", "arithmetic")],
        "rank_digits": result.rank_digits,
    }


def make_report(
    result: IndexResult,
    a: str,
    b: str,
    lang: str = "en",
    *,
    claims_path: str | Path | None | bool = None,
    rank_intervals: pd.DataFrame | None = None,
    n_samples: int = 0,
    uncertainty_inputs: dict[str, Any] | None = None,
    uncertainty_default: bool = False,
    trends: Any | None = None,
    today: dt.date | None = None,
) -> Report:
    """The comparative report of two ranked units, in en, ko or ja, for any index: sections
    follow the framework's pillars, every value cites its source, the Method section comes from
    the run's spec. `Report.write(out, formats)` renders HTML, Markdown, XLSX and PDF.

        >>> import aicity
        >>> rep = make_report(aicity.build(), "Seoul", "Tokyo", "en", today=dt.date(2026, 1, 1))
        >>> rep.title
        'Seoul and Tokyo as AI cities: a data-driven comparison'
        >>> [s.key for s in rep.sections][:2]
        ['intro', 'infrastructure']
    """
    if lang not in WRITERS:
        raise InputError([Problem("report", f"language '{lang}': choose ko, en or ja")])
    fw = result.framework
    ua, ub = result.ranked_unit(a), result.ranked_unit(b)
    if ua == ub:
        raise InputError([Problem("--compare", f"'{a}' and '{b}' are the same unit ({ua}): compare two different ones")])
    comp: Comparison = compare(result, ua, ub, lang)
    name_a, name_b = result.dataset.unit_name(ua, lang), result.dataset.unit_name(ub, lang)
    from aicity.bundled import framework_path

    bundled = str(fw.source) == str(framework_path())
    w = WRITERS[lang](name_a, name_b, generic=not bundled)
    w.digits = result.score_digits
    fn = Footnotes()
    obs = _obs_lookup(result)
    day = today or dt.date.today()
    levels = comp.levels.set_index("code")
    n_ranked = int(np.sum(~np.isnan(result.ranks_array[:, result.codes.index(fw.index_code)])))
    facts = method_facts(result, n_ranked)
    fn_method = fn.cite("method", w.method_note(facts))
    sections: list[Section] = []
    pillar_contrib = comp.pillar_contributions()
    top_code = pillar_contrib.abs().idxmax() if len(pillar_contrib) else None
    top_pillar = fw.node(top_code).name(lang) if top_code else ""
    # a gap decided by a pillar of one measure says which measure that is
    top_leaves = fw.leaves_under(top_code) if top_code and fw.node(top_code).kind != "indicator" else []
    top_single = fw.node(top_leaves[0]).name(lang) if len(top_leaves) == 1 else None
    intro_ctx = {
        "index": fw.node(fw.index_code).name(lang), "sa": levels.at[fw.index_code, "score_a"], "sb": levels.at[fw.index_code, "score_b"],
        "ra": levels.at[fw.index_code, "rank_a"], "rb": levels.at[fw.index_code, "rank_b"], "n": n_ranked,
        "gap": comp.gap, "top_pillar": top_pillar, "top_single": top_single, "fn_method": fn_method,
    }
    if rank_intervals is not None and n_samples:
        ri = rank_intervals.set_index("unit")
        if ua in ri.index and ub in ri.index:
            ua_note = w.ua_note({"n": n_samples, "inputs": uncertainty_inputs or {}, "default": uncertainty_default})
            intro_ctx["ua"] = {"n": n_samples, "inputs": uncertainty_inputs or {}, "a05": ri.at[ua, "p05"], "a95": ri.at[ua, "p95"], "b05": ri.at[ub, "p05"], "b95": ri.at[ub, "p95"]}
            intro_ctx["fn_ua"] = fn.cite("ua", ua_note)
    sections.append(Section("intro", w.headings["intro"], [w.sentence_gap.join(w.intro(intro_ctx))]))
    # the claims of the bundled index's essay are checked only on the bundled index, unless a
    # claims file is given
    if claims_path is None:
        claims_path = None if bundled else False
    verdicts = about_pair(check_claims(result, load_claims(claims_path)), ua, ub) if claims_path is not False else []
    themes = {THEMES.get(p, p.lower()) for p in fw.pillars()}
    lost = [v.claim for v in verdicts if v.claim.theme not in themes]
    if lost:  # a claim under no pillar's section would be missing from the prose
        raise InputError([Problem(str(claims_path or "claims"), f"claim '{c.id}': theme '{c.theme}' is not a section of this "
                                  f"report (one of {', '.join(sorted(themes))})") for c in lost])
    contrib = comp.contributions.set_index("code")
    for pillar in fw.pillars():
        theme = THEMES.get(pillar, pillar.lower())
        paras = []
        paras.append(w.pillar({"name": fw.node(pillar).name(lang), "sa": levels.at[pillar, "score_a"], "sb": levels.at[pillar, "score_b"],
                               "ra": levels.at[pillar, "rank_a"], "rb": levels.at[pillar, "rank_b"], "fn_method": fn_method}))
        subs = [c for c in fw.children[pillar] if fw.node(c).kind != "indicator"]
        gaps = levels.loc[subs, "gap"].dropna() if subs else pd.Series(dtype=float)
        if len(gaps) > 1:
            widest = gaps.abs().idxmax()
            paras[-1] += w.sentence_gap + w.widest({"name": fw.node(widest).name(lang), "gap": gaps[widest]})
        if fw.node(pillar).limits:
            limits = fw.node(pillar).limits
            paras[-1] += w.sentence_gap + (limits.get(lang) or limits.get("en", ""))
        leaves = fw.leaves_under(pillar)
        shown = contrib.loc[leaves].assign(mag=lambda d: d.contribution.abs()).sort_values("mag", ascending=False)
        sentences = []
        for code in shown.index[:3]:
            if shown.at[code, "mag"] == 0 or np.isnan(shown.at[code, "mag"]):
                continue
            node = fw.node(code)
            ra_, rb_ = obs.get((ua, code)), obs.get((ub, code))
            if ra_ is not None and rb_ is not None:
                sentences.append(w.evidence({
                    "name": node.name(lang), "is_rank": (node.unit or "").lower().startswith("rank"),
                    "va": _value_with_unit(ra_["value"], node.unit, lang, _pair_decimals(ra_["value"], rb_["value"]), node.counter),
                    "vb": _value_with_unit(rb_["value"], node.unit, lang, _pair_decimals(ra_["value"], rb_["value"]), node.counter),
                    "ya": _year(ra_), "yb": _year(rb_), "geo_a": _shown_geo(result, ua, ra_), "geo_b": _shown_geo(result, ub, rb_),
                    "fn_a": _cite_value(fn, ra_, lang), "fn_b": _cite_value(fn, rb_, lang),
                }))
            elif ra_ is not None or rb_ is not None:
                row = ra_ if ra_ is not None else rb_
                sentences.append(w.one_sided({
                    "name": node.name(lang), "v": _value_with_unit(row["value"], node.unit, lang, counter=node.counter), "y": _year(row),
                    "has": name_a if ra_ is not None else name_b, "lacks": name_b if ra_ is not None else name_a,
                    "fn": _cite_value(fn, row, lang),
                }))
        if sentences:
            paras.append(w.sentence_gap.join(sentences))
        claims_here = [v for v in verdicts if v.claim.theme == theme]
        if claims_here:
            paras.append(w.sentence_gap.join(w.claim(v, first=(k == 0)) for k, v in enumerate(claims_here)))
        sections.append(Section(theme, w.headings.get(theme) or fw.node(pillar).name(lang), paras))
    # trends: speed against stability
    if trends is not None:
        tpar = []
        support = trends.support
        if support is not None:
            kept = trends.framework.indicators
            years = {"en": f"{trends.years[0]}-{trends.years[-1]}", "ko": f"{trends.years[0]}~{trends.years[-1]}년",
                     "ja": f"{trends.years[0]}～{trends.years[-1]}年"}[lang]
            sep = {"en": ", ", "ko": ", ", "ja": "、"}[lang]
            thin = [trends.framework.node(c).name(lang) for c in kept if bool(support.at[c, "thin"])]
            year_word = {"en": "", "ko": "년", "ja": "年"}[lang]
            thin_years = sep.join(f"{y}{year_word}" for y, _ in trends.thin_years())
            tpar.append(w.trend_basis({"n": len(kept), "names": sep.join(trends.framework.node(c).name(lang) for c in kept),
                                       "years": years, "left_out": len(trends.left_out), "thin": sep.join(thin),
                                       "thin_years": thin_years}))
        mom, stab = trends.momentum(), trends.stability()
        traj = trends.trajectories()
        n_trends = 0  # the two cities' trend sentences written (the basis sentence aside)
        for unit, name in ((ua, name_a), (ub, name_b)):
            if unit not in traj.index:
                continue
            ranks = traj.loc[unit].dropna()
            if len(ranks) < 2:
                continue
            n_trends += 1
            ranked = traj.notna().sum(axis=0)  # how many cities each year's rank is among
            tpar.append(w.trend({
                "name": name, "y0": int(ranks.index[0]), "y1": int(ranks.index[-1]), "r0": ranks.iloc[0], "r1": ranks.iloc[-1],
                "n0": int(ranked[ranks.index[0]]), "n1": int(ranked[ranks.index[-1]]),
                "momentum": mom.at[unit, "mean"], "volatility": stab.at[unit, "score_volatility"],
                "fn": fn.cite("trends", {
                    "en": f"Panel: the yearly values of {len(trends.framework.indicators)} indicators, {trends.years[0]}-{trends.years[-1]}, "
                          "normalised across years; a year without a value takes the latest earlier one, flagged.",
                    "ko": f"패널: {len(trends.framework.indicators)}개 지표의 {trends.years[0]}~{trends.years[-1]}년 연도별 값을 연도 전체에 걸쳐 "
                          "정규화했다. 값이 없는 해는 직전 값으로 채우고 표시했다.",
                    "ja": f"パネル：{len(trends.framework.indicators)}指標の{trends.years[0]}～{trends.years[-1]}年の年ごとの値を年をまたいで"
                          "正規化した。値のない年は直前の値で補い、その旨を示した。"}[lang]),
            }))
        if n_trends == 2:
            m = mom["mean"].reindex([ua, ub])
            v = stab["score_volatility"].reindex([ua, ub])
            if m.notna().all() and v.notna().all():
                faster = name_a if m[ua] >= m[ub] else name_b
                steadier = name_a if v[ua] <= v[ub] else name_b
                tpar.append(w.speed_vs_stability(faster, steadier))
        if len(tpar) > (support is not None):
            sections.append(Section("trends", w.headings["trends"], [w.sentence_gap.join(tpar)]))
    # conclusion: personas
    cpar = []
    persona_rows = []
    for code, persona in fw.personas.items():
        s = suits(result, persona_weights(fw, code), code, lang)
        rw = s.result
        col = rw.codes.index(fw.index_code)
        ra_, rb_ = rw.ranks_array[rw.units.index(ua), col], rw.ranks_array[rw.units.index(ub), col]
        top = s.ranking.index[0] if len(s.ranking) else ""
        a_first = ra_ <= rb_
        cpar.append(w.persona({"name": persona.name(lang), "article": PERSONA_ARTICLE.get(code, "a"), "why": persona.why(lang),
                               "top": result.dataset.unit_name(top, lang), "winner": name_a if a_first else name_b,
                               "loser": name_b if a_first else name_a, "wr": min(ra_, rb_), "lr": max(ra_, rb_)}))
        persona_rows.append({"persona": persona.name(lang), "first_city": result.dataset.unit_name(top, lang), "first_unit": top,
                             f"rank_{ua}": ra_, f"rank_{ub}": rb_, "weights": json.dumps(persona.weights)})
    tops = {r["first_unit"] for r in persona_rows}
    if len(persona_rows) > 1 and len(tops) == 1 and next(iter(tops)) in result.units and len(fw.pillars()) > 1:
        # the same first city for every reader is a finding: say what it rests on
        top_code = next(iter(tops))
        pr = {p: result.ranks_array[result.units.index(top_code), result.codes.index(p)] for p in fw.pillars()}
        ordered = sorted(pr, key=lambda p: pr[p])
        weakest, rest = ordered[-1], ordered[:-1]
        best = [p for p in rest if pr[p] <= 3] or rest[:1]
        cpar.append(w.same_top({"name": result.dataset.unit_name(top_code, lang), "n": len(persona_rows),
                                "best": [(fw.node(p).name(lang), pr[p]) for p in best],
                                "weak": (fw.node(weakest).name(lang), pr[weakest])}))
    if cpar:
        sections.append(Section("conclusion", w.headings["conclusion"], cpar))
    # what the data cannot tell
    raw = result.stages["raw"]
    gpar = []
    missing = {unit: [c for c in fw.indicators if np.isnan(raw.at[unit, c])] for unit in (ua, ub)}
    if missing[ua] and missing[ua] == missing[ub]:
        gpar.append(w.gaps_both({"n": len(missing[ua]), "of": len(fw.indicators), "list": w.list_sep.join(fw.node(c).name(lang) for c in missing[ua])}))
    else:
        for unit, name in ((ua, name_a), (ub, name_b)):
            if missing[unit]:
                gpar.append(w.gaps({"unit": name, "n": len(missing[unit]), "of": len(fw.indicators),
                                    "list": w.list_sep.join(fw.node(c).name(lang) for c in missing[unit])}))
    if gpar:
        sections.append(Section("gaps", w.headings["gaps"], gpar))
    sections.append(Section("method", w.headings["method"], [w.method(facts)]))
    figures = build_figures(result, comp, ua, ub, lang, rank_intervals, trends, generic=not bundled)
    tables = {
        "Comparison": comp.levels,
        "Contributions": comp.contributions,
        "Claims": pd.DataFrame([
            {"id": v.claim.id, "theme": v.claim.theme, "claim": v.claim.say(lang), "verdict": VERDICTS[lang][v.verdict],
             "evidence": "; ".join(f"{e.code}: {e.score_subject:.1f} vs {e.score_other:.1f} {'✓' if e.agrees else '✗'}" for e in v.evidence)}
            for v in verdicts
        ]),
        "Personas": pd.DataFrame(persona_rows),
        "Ranking": result.ranking(lang).reset_index(),
        "Sources": pd.DataFrame([r for (u, _), r in obs.items() if u in (ua, ub)]),
    }
    if rank_intervals is not None:
        shown = rank_intervals
        if "unit_name" in shown.columns:  # in the report's language, as on the Ranking sheet
            units = shown["unit"] if "unit" in shown.columns else shown.index.to_series()
            shown = shown.assign(unit_name=[result.dataset.unit_name(u, lang) for u in units])
        tables["Rank intervals"] = shown
    if trends is not None:
        tables["Trends"] = trends.trajectories().reset_index()
    return Report(lang, w.title(fw.node(fw.index_code).name(lang)), w.subtitle(n_ranked, day, fw.node(fw.index_code).name(lang)), sections, fn, figures, tables, verdicts, ua, ub,
                  {c: fw.node(c).name(lang) for c in fw.codes})


def build_figures(result: IndexResult, comp: Comparison, ua: str, ub: str, lang: str, rank_intervals: pd.DataFrame | None, trends: Any | None,
                  generic: bool = False) -> dict[str, Any]:
    import plotly.graph_objects as go

    fw = result.framework
    label = {
        "en": {"rank": "Rank (1 = best)", "score": "Score", "ranking": "Ranking with 5–95% rank intervals", "radar": "Pillar scores",
               "heat": "Pillar scores of every ranked city", "water": "What makes up the gap", "trend": "Rank over time", "gap": "Gap"},
        "ko": {"rank": "순위(1위가 최상위)", "score": "점수", "ranking": "순위와 5~95% 순위 구간", "radar": "부문별 점수",
               "heat": "순위에 오른 모든 도시의 부문별 점수", "water": "격차의 구성", "trend": "연도별 순위", "gap": "격차"},
        "ja": {"rank": "順位（1位が最上位）", "score": "得点", "ranking": "順位と5～95%の順位区間", "radar": "分野別得点",
               "heat": "ランキング対象全都市の分野別得点", "water": "差の内訳", "trend": "年ごとの順位", "gap": "差"},
    }[lang]
    if generic:  # an index other than the bundled one ranks units, not necessarily cities
        label["heat"] = {"en": "Pillar scores of every ranked unit", "ko": "순위에 오른 모든 평가 대상의 부문별 점수",
                         "ja": "全評価対象の分野別得点"}[lang]
    digits = result.score_digits
    names = {u: result.dataset.unit_name(u, lang) for u in result.units}
    ranking = result.ranking(lang).dropna(subset=["rank"])
    pillar_scores = result.scores[fw.pillars()].to_numpy(dtype=float)
    scale = [0.0, 100.0] if not np.isfinite(pillar_scores).any() or np.nanmax(pillar_scores) > 1.5 else [0.0, 1.0]
    colours = [COLOURS["a"] if u == ua else COLOURS["b"] if u == ub else COLOURS["other"] for u in ranking.index]
    figs: dict[str, Any] = {}
    bar = go.Figure(go.Bar(y=[names[u] for u in ranking.index], x=ranking[fw.index_code], orientation="h", marker_color=colours,
                           hovertemplate=f"%{{y}}: %{{x:.{digits}f}}<extra></extra>", name=label["score"]))
    if rank_intervals is not None:
        ri = rank_intervals.set_index("unit").reindex(ranking.index)
        bar.update_traces(text=[i18n.rank_with_interval(r, lo, hi, lang) for r, lo, hi in zip(ranking["rank"], ri.p05, ri.p95, strict=True)],
                          textposition="outside")
    top_score = float(np.nanmax(ranking[fw.index_code])) if len(ranking) else 100.0
    bar.update_layout(title=label["ranking"], yaxis={"autorange": "reversed"}, xaxis={"title": label["score"], "range": [0, top_score * 1.22]},
                      height=max(320, 26 * len(ranking)), margin={"l": 160})
    figs["ranking"] = bar
    pillars = fw.pillars()
    radar = go.Figure()
    rs = radar_series(result, ua, ub, lang)
    for unit, key, colour in ((ua, "a", COLOURS["a"]), (ub, "b", COLOURS["b"])):
        radar.add_trace(go.Scatterpolar(r=rs[key] + rs[key][:1], theta=rs["theta"] + rs["theta"][:1], fill="toself", name=names[unit], line_color=colour))
    radar.update_layout(title=label["radar"], polar={"radialaxis": {"range": scale}})
    figs["radar"] = radar
    heat = go.Figure(go.Heatmap(z=[[result.scores.at[u, p] for p in pillars] for u in ranking.index], x=[fw.node(p).name(lang) for p in pillars],
                                y=[names[u] for u in ranking.index], colorscale="Blues", zmin=scale[0], zmax=scale[1],
                                hovertemplate=f"%{{y}} · %{{x}}: %{{z:.{digits}f}}<extra></extra>"))
    heat.update_layout(title=label["heat"], yaxis={"autorange": "reversed"}, height=max(320, 24 * len(ranking)), margin={"l": 160})
    figs["heatmap"] = heat
    ws = waterfall_series(result, comp, lang)
    water = go.Figure(go.Waterfall(
        x=ws["x"], measure=ws["measure"], y=ws["y"],
        text=[f"{ws['y'][0]:.{digits}f}"] + [f"{v:+.{digits}f}" for v in ws["y"][1:-1]] + [f"{ws['total']:.{digits}f}"], textposition="outside",
    ))
    water.update_layout(title=label["water"], yaxis_title=label["score"], showlegend=False)
    figs["waterfall"] = water
    if trends is not None:
        traj = trends.trajectories().dropna(axis=1, how="all")  # years nobody was ranked in
        line = go.Figure()
        for unit in traj.index:
            if unit in (ua, ub):
                continue
            line.add_trace(go.Scatter(x=traj.columns, y=traj.loc[unit], mode="lines", line={"color": COLOURS["other"], "width": 1},
                                      name=names.get(unit, trends.unit_names.get(unit, unit)), showlegend=False, hoverinfo="name+y"))
        for unit, colour in ((ua, COLOURS["a"]), (ub, COLOURS["b"])):
            if unit in traj.index:
                line.add_trace(go.Scatter(x=traj.columns, y=traj.loc[unit], mode="lines+markers", line={"color": colour, "width": 3}, name=names.get(unit, unit)))
        line.update_layout(title=label["trend"], yaxis={"autorange": "reversed", "title": label["rank"]}, xaxis={"dtick": 1})
        figs["trends"] = line
    return figs
