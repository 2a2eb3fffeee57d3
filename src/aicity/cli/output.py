"""What the commands print: rankings, head-to-heads, tables of frames, metro definitions, and
the formatting of numbers in them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from aicity.cli._app import console

if TYPE_CHECKING:
    import pandas as pd

    from aicity.result import IndexResult


def fmt(value: Any, digits: int = 2) -> str:
    import numpy as np
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, float) and value.is_integer() and digits == 0:
        return str(int(value))
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def share(x: float) -> str:
    import numpy as np
    return "–" if x is None or np.isnan(x) else f"{x:.1%}"


def print_ranking(result: IndexResult, top: int, lang: str = "en") -> None:
    fw = result.framework
    ranking = result.ranking(lang).head(top)
    table = Table(title=f"{fw.node(fw.index_code).name(lang)}: top {min(top, len(ranking))} of {len(result.units)}")
    digits = max(2, result.score_digits)  # 2 on a 0-100 scale; 3 on a 0-1 index or when ranked at 3 decimals
    # A score is never cut ("100.…"): the scores keep their width and the names fold; codes keep
    # the table narrow (names in the caption); missing and imputed share one column (2/0).
    width = len(f"{100:.{digits}f}")
    table.add_column("Rank", justify="right", no_wrap=True)
    table.add_column("Unit", overflow="fold", min_width=6)
    for code in [fw.index_code, *fw.pillars()]:
        table.add_column(code, justify="right", min_width=width, overflow="fold")
    table.add_column("Miss/Imp", justify="right", overflow="fold")
    table.caption = " · ".join(f"{p}: {fw.node(p).name(lang)}" for p in fw.pillars()) + \
        " · Miss/Imp: indicators missing / values imputed"
    for unit, row in ranking.iterrows():
        table.add_row(
            fmt(row["rank"], 0),
            f"{row['name']} ({unit})",
            fmt(row[fw.index_code], digits),
            *[fmt(row[p], digits) for p in fw.pillars()],
            f"{int(row['missing'])}/{int(row['imputed'])}",
        )
    console.print(table)


def print_versus(result: IndexResult, a: str, b: str, lang: str = "en") -> None:
    fw = result.framework
    ua, ub = result.ranked_unit(a), result.ranked_unit(b)
    na, nb = result.dataset.unit_name(ua, lang), result.dataset.unit_name(ub, lang)
    table = Table(title=f"{na} vs {nb}")
    table.add_column("Level")
    for col in (f"{na} score", f"{na} rank", f"{nb} score", f"{nb} rank", "Gap"):
        table.add_column(col, justify="right")
    scores, ranks = result.scores, result.ranks
    for code in [fw.index_code] + fw.pillars():
        sa, sb = scores.at[ua, code], scores.at[ub, code]
        table.add_row(
            fw.node(code).name(lang),
            fmt(sa), fmt(ranks.at[ua, code], 0), fmt(sb), fmt(ranks.at[ub, code], 0), fmt(sa - sb),
        )
    console.print(table)


def frame_table(frame: pd.DataFrame, title: str, digits: int = 2) -> Table:
    import numpy as np
    import pandas as pd

    from aicity.i18n import value_text
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left",
                         overflow="fold")  # wide (Korean, Japanese) text folds, never cut to "…"
    # Ranks, counts and years are whole numbers; scores keep `digits`.
    whole = [str(c).startswith(("rank", "of", "year", "n_", "shared")) or str(c).endswith("rank") for c in frame.columns]
    raw_value = [str(c) in ("value", "now", "needed") for c in frame.columns]  # raw data: as published

    def cell(v, w: bool, raw: bool) -> str:
        if not isinstance(v, float):
            return str(v)
        if raw and not np.isnan(v):
            return value_text(v)
        return fmt(v, 0) if w else fmt(v, digits)

    for _, row in frame.iterrows():
        table.add_row(*[cell(v, w, r) for v, w, r in zip(row, whole, raw_value, strict=True)])
    return table


def print_metros(metros_path: Path | None = None) -> None:
    """The metro definitions that `aicity derive` places records by."""
    import numpy as np

    from aicity.derive import bundled_metros_path, read_metros

    m = read_metros(metros_path or bundled_metros_path())
    table = Table(title=f"Metro definitions for derived indicators ({Path(m.path).name}): a record belongs to a "
                        "unit within radius_km of its centre; overlaps go to the nearest centre")
    for col in ("Unit", "Centre", "Radius", "Approximates", "Population"):
        table.add_column(col, justify="right" if col in ("Radius", "Population") else "left", overflow="fold")
    for r in m.table.itertuples(index=False):
        pop = "–" if np.isnan(r.population) else f"{r.population:,.0f} ({r.population_area}, {fmt(r.population_year, 0)})"
        table.add_row(r.unit, f"{r.centre_name} ({r.centre_lat:.4f}, {r.centre_lon:.4f})", f"{r.radius_km:g} km",
                      str(r.definition), pop)
    console.print(table)
