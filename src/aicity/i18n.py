"""Language helpers for Korean, English and Japanese text: particles, numbers, ranks, dates.

Korean particles depend on the sound the preceding word ends with (서울은 / 도쿄는, 서울로 /
도쿄로), so they are chosen from the last syllable's final consonant rather than written into
templates. Registers: Korean in the plain written style (-다), Japanese in the plain である
style, as analytical articles are written in each language.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from aicity.messages import METHOD_NAMES  # re-exported: i18n.METHOD_NAMES

LANGS = ("en", "ko", "ja")

# Final-consonant (batchim) test for a precomposed Hangul syllable: (code - 0xAC00) % 28.
_HANGUL_START, _HANGUL_END = 0xAC00, 0xD7A3
_RIEUL = 8  # ㄹ as a final consonant: takes 로, not 으로
# How digits end when read aloud in Korean: 0 영, 1 일, 2 이, 3 삼, 4 사, 5 오, 6 육, 7 칠, 8 팔,
# 9 구 (batchim: 영 ㅇ, 일 ㄹ, 삼 ㅁ, 육 ㄱ, 칠 ㄹ, 팔 ㄹ). "0" also stands for the round numbers
# 10, 100, 1,000 (십, 백, 천): their finals ㅂ, ㄱ, ㄴ behave like 영's ㅇ, so the table is right
# for them too; do not "fix" it.
_DIGIT_FINAL = {"0": 21, "1": _RIEUL, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": _RIEUL, "8": _RIEUL, "9": 0}
# Acronyms are read letter by letter: el, em, en, ar end in a consonant; other letters in a vowel.
_LETTER_FINAL = {"l": _RIEUL, "m": 16, "n": 4, "r": _RIEUL}
# Words are read as words: New York (뉴욕), Hong Kong (홍콩), Paris (파리), Seoul (서울).
_WORD_ENDINGS = (("ng", 21), ("ck", 1), ("k", 1), ("m", 16), ("n", 4), ("l", _RIEUL), ("p", 17), ("b", 17))
_VOWELS = set("aeiouy")
# Unit symbols after a number are read as their Korean names: km 킬로미터, kg 킬로그램, t 톤,
# h 시간, min 분, ha 헥타르, Mbps 메가비피에스. The final consonant is the name's, not the
# letters' (12.5km다, 5kg이다). A superscript (km², m³: 제곱킬로미터) does not change it.
_UNIT_FINALS = {  # as written (SI symbols are case-sensitive: 5g is grams, 5G a network)
    "km": 0, "m": 0, "cm": 0, "mm": 0, "kg": 16, "g": 16, "mg": 16, "t": 4, "l": 0, "L": 0, "ml": 0, "mL": 0, "ha": 0,
    "h": 4, "min": 4, "s": 0, "ms": 0, "kW": 0, "MW": 0, "GW": 0, "kWh": 0, "MWh": 0, "GWh": 0, "TWh": 0,
    "Mbps": 0, "Gbps": 0, "kbps": 0, "TB": 0, "GB": 0, "MB": 0, "USD": 0, "EUR": 0, "KRW": 4, "JPY": 4,
}
_SUPERSCRIPTS = "²³¹⁰⁴⁵⁶⁷⁸⁹"
_OPEN, _CLOSE = "([{（［", ")]}）］"


def _latin_final(token: str) -> int:
    letters = [c for c in token if c.isalpha()]
    acronym = token.isupper() or (len(letters) <= 4 and sum(c.isupper() for c in letters) >= 2)
    if acronym:
        return _LETTER_FINAL.get(letters[-1].lower(), 0)
    low = token.lower()
    if low.endswith("t"):
        # a final t is ㅅ only after one short vowel (Internet 인터넷, Scott 스콧); after a
        # consonant or a vowel pair it is read 트 (Budapest 부다페스트, Detroit 디트로이트)
        stem = low.rstrip("t")
        short = len(stem) >= 1 and stem[-1] in _VOWELS and (len(stem) < 2 or stem[-2] not in _VOWELS)
        return 19 if short else 0
    return next((final for ending, final in _WORD_ENDINGS if low.endswith(ending)), 0)


def _final(word: str) -> int | None:
    """The final consonant index of the last pronounced syllable (0 = none). A bracketed
    gloss at the end is skipped: the particle agrees with the word before it (커피(coffee)를)."""
    text = word.strip()
    depth = 0
    i = len(text) - 1
    while i >= 0:
        ch = text[i]
        if ch in _CLOSE:
            depth += 1
        elif ch in _OPEN:
            depth -= 1
        elif depth > 0 or ch in "'\"’”" or ch in _SUPERSCRIPTS:
            pass
        elif _HANGUL_START <= ord(ch) <= _HANGUL_END:
            return (ord(ch) - _HANGUL_START) % 28
        elif ch.isdigit():
            return _DIGIT_FINAL[ch]
        elif ch == "%":
            return 0  # 퍼센트
        elif ch.isascii() and ch.isalpha():
            j = i
            while j > 0 and text[j - 1].isascii() and (text[j - 1].isalnum()):
                j -= 1
            token = text[j : i + 1]
            k = len(token) - len(token.lstrip("0123456789.,"))  # 12.5km is one token
            number_before = k > 0 or text[:j].rstrip().endswith(tuple("0123456789"))
            if number_before and token[k:] in _UNIT_FINALS:
                return _UNIT_FINALS[token[k:]]
            return _latin_final(token[k:] or token)
        i -= 1
    return None


PAIRS = {
    "은/는": ("은", "는"),
    "이/가": ("이", "가"),
    "을/를": ("을", "를"),
    "과/와": ("과", "와"),
    "이다/다": ("이다", "다"),
    "으로/로": ("으로", "로"),
    "이라는/라는": ("이라는", "라는"),
    "이며/며": ("이며", "며"),
    "이고/고": ("이고", "고"),
}


def particle(word: str, pair: str) -> str:
    """The particle of `pair` that fits after `word`: particle('서울', '은/는') -> '은'."""
    with_final, without = PAIRS[pair]
    final = _final(word)
    if final is None:
        return f"{with_final}({without})"  # unknown sound: show both, as Korean texts do
    if pair == "으로/로":
        return without if final in (0, _RIEUL) else with_final
    return with_final if final else without


def josa(word: str, pair: str) -> str:
    """`word` with the particle that fits it: josa('서울', '은/는') -> '서울은'."""
    return word + particle(word, pair)


def is_missing(value: object) -> bool:
    """The one test for a value that is not there: None or a float NaN (numpy's included)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def number(value: float, digits: int = 1, lang: str = "en") -> str:
    """A number with thousands separators (all three languages use commas)."""
    if is_missing(value):
        return {"en": "n/a", "ko": "자료 없음", "ja": "データなし"}[lang]
    if float(value).is_integer() and abs(value) >= 100:
        return f"{int(round(value)):,}"
    text = f"{value:,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # -0.04 shows as 0.0, never -0.0


def gap_digits(a: float, b: float, digits: int = 1) -> int:
    """Decimals for the gap between two scores shown with `digits` decimals: one more where the
    shown scores' difference is not the rounded gap (61.5 and 60.6 shown, a gap of 0.950 would
    read "1.0"; it reads "0.95"), and more (up to three more) while a gap that is not nil would
    read as 0 (60.04 against 60.0: "0.04", not "0.0"). `gap_digits(gap, 0)` is the rule for a
    gap shown without its two scores."""
    gap = abs(a - b)
    if math.isnan(gap):
        return digits
    shown = f"{abs(float(f'{a:.{digits}f}') - float(f'{b:.{digits}f}')):.{digits}f}"
    d = digits if shown == f"{gap:.{digits}f}" else digits + 1
    while gap > 0 and float(f"{gap:.{d}f}") == 0 and d < digits + 3:
        d += 1
    return d


def value_text(value: float, lang: str = "en") -> str:
    """A raw indicator value at the precision it was published with."""
    if is_missing(value):
        return number(float("nan"), lang=lang)
    if float(value).is_integer():
        return f"{int(value):,}"
    text = f"{value:,.10g}"  # 99.09789 stays 99.09789; 0.1 + 0.2 shows as 0.3
    if "e" in text:  # very small or large: positional digits, never 1e-05
        text = np.format_float_positional(value, precision=10, unique=True, trim="-")
    return text


def ordinal(n: float, lang: str = "en") -> str:
    """A rank: 1st, 2nd, 3rd / 1위 / 1位."""
    if is_missing(n):
        return {"en": "unranked", "ko": "순위 없음", "ja": "順位なし"}[lang]
    n = int(n)
    if lang == "ko":
        return f"{n}위"
    if lang == "ja":
        return f"{n}位"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank_interval(lo: float, hi: float, lang: str = "en") -> str:
    """A range of ranks in each language's way: 4–7 / 4~7위 / 4～7位 (one rank when lo = hi)."""
    lo_, hi_ = int(lo), int(hi)
    if lo_ == hi_:
        return {"en": f"{lo_}", "ko": f"{lo_}위", "ja": f"{lo_}位"}[lang]
    return {"en": f"{lo_}–{hi_}", "ko": f"{lo_}~{hi_}위", "ja": f"{lo_}～{hi_}位"}[lang]


def rank_with_interval(rank: float, lo: float, hi: float, lang: str = "en") -> str:
    """A rank and its interval: 7 (5–10) / 7위 (5~10위) / 7位（5～10位）; the rank alone
    where the interval is unknown."""
    shown = {"en": f"{int(rank)}", "ko": f"{int(rank)}위", "ja": f"{int(rank)}位"}[lang]
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return shown
    inner = rank_interval(lo, hi, lang)
    return f"{shown}（{inner}）" if lang == "ja" else f"{shown} ({inner})"


def date(day: dt.date, lang: str = "en") -> str:
    if lang == "ko":
        return f"{day.year}년 {day.month}월 {day.day}일"
    if lang == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {day.strftime('%B')} {day.year}"




def method_name(method: str, lang: str) -> str:
    return METHOD_NAMES.get(method, {}).get(lang, method)


def lower_first(text: str) -> str:
    """'Technology infrastructure' -> 'technology infrastructure' inside a sentence, but
    names stay as they are: 'AI talent', 'Safe Cities Index rank (EIU)'.

        >>> lower_first("A decent standard of living"), lower_first("AI talent")
        ('a decent standard of living', 'AI talent')
    """
    words = [w.strip("()[],.;:") for w in text.split()]
    # A later Titlecase word marks a proper name ('Safe Cities Index'); acronyms (AI, R&D) do not.
    titled = any(w and w[0].isupper() and not w.isupper() for w in words[1:])
    if len(text) > 1 and text[0].isupper() and text[1].islower() and not titled:
        return text[0].lower() + text[1:]
    if text.startswith("A ") and not titled:  # 'A decent standard of living'
        return "a" + text[1:]
    return text


def points(value: float, lang: str = "en", digits: int = 1) -> str:
    """A score with its unit word (1 decimal on the 0-100 scale; more on a 0-1 scale)."""
    text = number(value, digits, lang)
    return {"en": f"{text} points", "ko": f"{text}점", "ja": f"{text}点"}[lang]
