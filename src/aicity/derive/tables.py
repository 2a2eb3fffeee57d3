"""Reading the small CSV tables a derivation is configured by (crosswalks, metro circles)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aicity.csvtext import read_csv_text
from aicity.errors import InputError, Problem


def read_table(path: Path, what: str) -> pd.DataFrame:
    """Every cell as text, nothing coerced; a missing, unreadable or non-UTF-8 file is an
    InputError naming the file and `what` it should have been."""
    shown = str(path)
    try:
        return read_csv_text(path)
    except FileNotFoundError:
        raise InputError([Problem(shown, f"{what} not found")]) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError([Problem(shown, f"{what}: not a readable UTF-8 CSV: {exc}")]) from None
    except OSError as exc:
        raise InputError([Problem(shown, f"{what} cannot be read: {exc.strerror or exc}")]) from None


def conform(df: pd.DataFrame, shown: str, required: tuple[str, ...], known: tuple[str, ...]) -> pd.DataFrame:
    """The table with exactly the `known` columns in their order (optional ones empty): a
    required column missing or a column nobody reads is an InputError naming each."""
    problems = [Problem(shown, f"missing required column '{c}'", column=c) for c in required if c not in df.columns]
    problems += [Problem(shown, f"unknown column '{c}' (known: {', '.join(known)})", column=c) for c in df.columns if c not in known]
    if problems:
        raise InputError(problems)
    return df.reindex(columns=list(known), fill_value="")
