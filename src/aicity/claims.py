"""Claims check: statements about cities (an essay's, a press release's) tested on the data.

A claim names a subject unit, the unit it is compared with, the indicators (or aggregates)
that test it and the expected direction. Each code with scores for both units is evidence:
it agrees when the subject's direction-adjusted score is higher (or lower, as expected).
All evidence agreeing: supported; all disagreeing: contradicted; both: mixed; none: not
enough data. The verdict never goes beyond the evidence listed with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aicity.errors import InputError, Problem
from aicity.keys import unknown_keys
from aicity.result import IndexResult
from aicity.yamlfile import read_yaml

VERDICTS = ("supported", "contradicted", "mixed", "not enough data")


@dataclass(frozen=True)
class Claim:
    id: str
    theme: str
    text: dict[str, str]
    subject: str
    other: str
    indicators: list[str]
    expected: str  # "higher" | "lower"
    note: dict[str, str] = field(default_factory=dict)

    def say(self, lang: str) -> str:
        return self.text.get(lang) or self.text.get("en", self.id)


@dataclass
class Evidence:
    code: str
    score_subject: float
    score_other: float
    value_subject: float | None
    value_other: float | None
    agrees: bool


@dataclass
class Verdict:
    claim: Claim
    verdict: str
    evidence: list[Evidence]


CLAIM_KEYS = ("id", "theme", "text", "subject", "other", "indicators", "expected", "note")


def load_claims(path: str | Path | None = None) -> list[Claim]:
    if path is None:
        from aicity.bundled import claims_path

        path = claims_path()
    path = Path(path)
    raw, text = read_yaml(path, "claims file")
    raw = raw or {}
    if not isinstance(raw, dict) or not isinstance(raw.get("claims") or [], list):
        raise InputError([Problem(str(path), "a claims file is a mapping with a list under 'claims'")])
    problems = unknown_keys(raw, ("claims",), source=str(path), where="the claims file", text=text)
    claims = []
    for i, entry in enumerate(raw.get("claims") or []):
        if not isinstance(entry, dict):
            problems.append(Problem(str(path), f"claim {i + 1} must be a mapping (id, text, subject, other, expected...)"))
            continue
        problems += unknown_keys(entry, CLAIM_KEYS, source=str(path), where=f"claim '{entry.get('id', i + 1)}'",
                                 text=text, loc=("claims", i))
        missing = [k for k in ("id", "text", "subject", "other", "expected") if k not in entry]
        if missing:
            problems.append(Problem(str(path), f"claim {i + 1} lacks {', '.join(missing)}"))
            continue
        if entry["expected"] not in ("higher", "lower"):
            problems.append(Problem(str(path), f"claim '{entry['id']}': expected must be 'higher' or 'lower'"))
            continue
        from aicity.framework import TEXT_LANGS

        texts = [("text", entry["text"]), ("note", entry.get("note") or {})]
        bad = [f"{key}: {lang!r}" for key, value in texts if isinstance(value, dict) for lang in value if lang not in TEXT_LANGS]
        shaped = all(isinstance(value, dict) and all(isinstance(t, str) and t.strip() for t in value.values())
                     for _, value in texts) and "en" in entry["text"]
        if not shaped or bad:
            problems.append(Problem(str(path), f"claim '{entry['id']}': text and note map languages ({', '.join(TEXT_LANGS)}; "
                                               f"text needs en) to text" + (f"; unknown language(s) {', '.join(bad)}" if bad else "")))
            continue
        if not isinstance(entry["id"], str) or not isinstance(entry.get("indicators") or [], list) \
                or not all(isinstance(c, str) for c in entry.get("indicators") or []):
            problems.append(Problem(str(path), f"claim {i + 1}: 'id' is a name and 'indicators' a list of codes"))
            continue
        if entry["id"] in {c.id for c in claims}:
            problems.append(Problem(str(path), f"claim '{entry['id']}' is given twice"))
            continue
        if str(entry["subject"]) == str(entry["other"]):
            problems.append(Problem(str(path), f"claim '{entry['id']}': subject and other are the same unit"))
            continue
        claims.append(
            Claim(
                id=str(entry["id"]),
                theme=str(entry.get("theme", "")),
                text={str(k): str(v) for k, v in entry["text"].items()},
                subject=str(entry["subject"]),
                other=str(entry["other"]),
                indicators=[str(c) for c in entry.get("indicators") or []],
                expected=entry["expected"],
                note={str(k): str(v) for k, v in (entry.get("note") or {}).items()},
            )
        )
    if problems:
        raise InputError(problems)
    return claims


def about_pair(verdicts: list[Verdict], a: str, b: str) -> list[Verdict]:
    """The verdicts on claims comparing units `a` and `b` (either way round): a report on
    Paris and London shows none of an essay's claims about Seoul and Tokyo."""
    return [v for v in verdicts if {v.claim.subject, v.claim.other} == {a, b}]


def check_claims(result: IndexResult, claims: list[Claim]) -> list[Verdict]:
    unknown = sorted({c for claim in claims for c in claim.indicators if c not in result.framework.nodes})
    if unknown:
        raise InputError([Problem("claims", f"unknown code(s) {unknown}")])
    known_units = set(result.dataset.unit_codes)  # a unit screened out is known, and has no evidence
    strangers = [Problem("claims", f"claim '{claim.id}': unknown unit '{u}' (not in the data)")
                 for claim in claims for u in (claim.subject, claim.other) if u not in known_units]
    if strangers:
        raise InputError(strangers)
    raw = result.stages["raw"]
    out = []
    for claim in claims:
        evidence = []
        tied = False
        if claim.subject in result.units and claim.other in result.units:
            i, k = result.units.index(claim.subject), result.units.index(claim.other)
            for code in claim.indicators:
                j = result.codes.index(code)
                s, o = result.scores_array[i, j], result.scores_array[k, j]
                if np.isnan(s) or np.isnan(o) or s == o:
                    tied = tied or s == o  # a tie is evidence of neither; said apart from missing data
                    continue
                is_indicator = code in raw.columns
                evidence.append(
                    Evidence(
                        code=code,
                        score_subject=float(s),
                        score_other=float(o),
                        value_subject=float(raw.at[claim.subject, code]) if is_indicator else None,
                        value_other=float(raw.at[claim.other, code]) if is_indicator else None,
                        agrees=(s > o) == (claim.expected == "higher"),
                    )
                )
        if not evidence:
            verdict = "tied" if tied else "not enough data"
        elif all(e.agrees for e in evidence):
            verdict = "supported"
        elif not any(e.agrees for e in evidence):
            verdict = "contradicted"
        else:
            verdict = "mixed"
        out.append(Verdict(claim, verdict, evidence))
    return out
