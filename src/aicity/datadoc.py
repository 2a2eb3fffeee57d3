"""The generated parts of docs/data.md: the framework tree, one section per indicator, the
coverage table, the metro circles and the derived indicators' coverage and values, all read from the bundled data files so the page cannot drift from them.

    python -m aicity.datadoc [docs/data.md]      # rewrite the generated blocks in place

Each block sits between `<!-- BEGIN GENERATED: name -->` and `<!-- END GENERATED: name -->`;
everything outside the markers (rules, caveats, gaps, licences) is written by hand.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from importlib import resources
from pathlib import Path

import pandas as pd

from aicity.bundled import data_path, framework_path, units_path
from aicity.derive import bundled_derived_dir, derive_dir
from aicity.framework import Framework, load_framework

GEO_LETTER = {"city": "c", "metro": "m", "cluster": "k", "country": "n"}
BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (\w+) -->\n)(.*?)(<!-- END GENERATED: \2 -->)", re.S)


def _names(fw: Framework, code: str) -> str:
    node = fw.node(code)
    return " / ".join(node.names[lang] for lang in ("en", "ko", "ja") if node.names.get(lang))


def framework_block(fw: Framework) -> str:
    def leaf(code: str) -> str:
        return f"`{code}` ({fw.node(code).geo or 'geo not declared'})"

    lines = []
    for pillar in fw.children[fw.index_code]:
        node = fw.node(pillar)
        mark = " (national)" if node.national else ""
        lines.append(f"- **{pillar}** {_names(fw, pillar)}{mark}: weight {node.weight:g}, "
                     f"{fw.nominal_share(pillar):.0%} of the index")
        for sub in fw.children[pillar]:
            if fw.node(sub).kind == "indicator":
                lines.append(f"  - {leaf(sub)}")
            else:
                kids = ", ".join(leaf(c) for c in fw.children[sub])
                lines.append(f"  - **{sub}** {_names(fw, sub)}: {kids}")
    context = ", ".join(f"`{c.code}`" for c in fw.context)
    city = [c for c in fw.indicators if not fw.is_national(c)]
    lines.append("")
    lines.append(f"{len(fw.indicators)} scored indicators ({len(city)} measured at city, metro or cluster level, "
                 f"{len(fw.indicators) - len(city)} national); context (shown, not scored): {context}.")
    return "\n".join(lines) + "\n"


def _path_to_pillar(fw: Framework, code: str) -> str:
    chain = []
    parent = fw.node(code).parent
    while parent and parent != fw.index_code:
        chain.append(parent)
        parent = fw.node(parent).parent
    return " > ".join(reversed(chain))


def indicators_block(fw: Framework, values: pd.DataFrame, unit_order: list[str]) -> str:
    out = []
    n_units = len(unit_order)
    for code in fw.indicators:
        node = fw.node(code)
        rows = values[values.indicator == code]
        direction = "1 (higher is better)" if node.direction == 1 else "-1 (lower is better)"
        meta = node.meta
        publishers = Counter(rows.publisher.fillna("?"))
        geos = Counter(rows.geo.fillna("?"))
        years = sorted({int(y) for y in rows.year.dropna()})
        present = [u for u in unit_order if u in set(rows.unit)]
        other_names = " / ".join(node.names[lang] for lang in ("ko", "ja") if node.names.get(lang))
        why = meta.get("rationale", "")
        theme = meta.get("theme")
        out += [
            f"### `{code}`: {node.name('en')}",
            "",
            f"- Names: {other_names}",
            f"- Pillar: {_path_to_pillar(fw, code)}; direction {direction}; unit: {node.unit}; "
            f"measured at: {node.geo or '?'}" + (" (national figure, scored only in the national pillar)" if fw.is_national(code) else "")
            + ("" if node.treat else "; outlier treatment: none (`treat: false`)"),
            f"- Definition: {node.description}",
            *([f"- Why: {why}" + (f" Theme: {theme}." if theme else "")] if why else ([f"- Theme: {theme}."] if theme else [])),
            "- Sources: " + "; ".join(f"{p} ({n})" for p, n in sorted(publishers.items(), key=lambda kv: (-kv[1], kv[0]))),
            "- Geo of the values: "
            + ", ".join(f"{g} {n}" for g, n in sorted(geos.items(), key=lambda kv: (-kv[1], kv[0])))
            + f"; years: {', '.join(str(y) for y in years)}",
            f"- Coverage: {len(present)}/{n_units} units: {', '.join(present)}",
            "",
        ]
    return "\n".join(out)


def coverage_block(fw: Framework, values: pd.DataFrame, units: pd.DataFrame) -> str:
    codes = fw.indicators
    scored = values[values.indicator.isin(codes)]
    geo = {(r.unit, r.indicator): GEO_LETTER.get(str(r.geo), "?") for r in scored.itertuples()}
    header = "| Unit | City | Present | Share | " + " | ".join(str(i + 1) for i in range(len(codes))) + " |"
    lines = [
        "Share of the scored indicators with a value (`c` city, `m` metro, `k` cluster, `n` national figure, `.` missing).",
        "",
        header,
        "|" + "---|" * (4 + len(codes)),
    ]
    for unit in units.index:
        marks = [geo.get((unit, c), ".") for c in codes]
        have = sum(m != "." for m in marks)
        lines.append(
            f"| {unit} | {units.at[unit, 'name_en']} | {have}/{len(codes)} | {have / len(codes):.0%} | "
            + " | ".join(marks)
            + " |"
        )
    filled, cells = len(scored), len(units) * len(codes)
    by_geo = Counter(scored.geo)
    shares = ", ".join(f"{g} {n} ({n / filled:.0%})" for g, n in sorted(by_geo.items(), key=lambda kv: -kv[1]))
    columns = ", ".join(f"{i + 1} `{c}`" for i, c in enumerate(codes))
    lines += [
        "",
        f"Overall: {filled}/{cells} unit-indicator cells filled ({filled / cells:.0%}). "
        f"Geographic unit of the values: {shares}. Column numbers: {columns}.",
    ]
    context = []
    for ctx in fw.context:
        rows = values[(values.indicator == ctx.code)]
        cells_text = ", ".join(f"{r.unit} {r.value:,.10g} ({int(r.year)})" for r in rows.itertuples())
        context.append(f"`{ctx.code}`: {cells_text or 'none'}")
    lines += ["", "Context values: " + "; ".join(context) + "."]
    return "\n".join(lines) + "\n"


def metros_block(metros: pd.DataFrame) -> str:
    """The metro circles that derived indicators place records by."""
    lines = ["| unit | centre | radius | approximates | population (area, year; source) |", "|---|---|---|---|---|"]
    for r in metros.itertuples(index=False):
        pop = "–"
        if pd.notna(r.population):
            year = "" if pd.isna(r.population_year) else f", {int(r.population_year)}"
            pop = f"{r.population:,.0f} ({r.population_area}{year}; [{r.population_source}]({r.population_url}))"
        lines.append(f"| {r.unit} | {r.centre_name} ({r.centre_lat:.4f}, {r.centre_lon:.4f}) | {r.radius_km:g} km | "
                     f"{str(r.definition).replace('|', '/')} | {pop.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def derived_block(coverage: pd.DataFrame, values: pd.DataFrame, unit_order: list[str]) -> str:
    """Coverage of each derived indicator, and its latest values by unit."""
    lines = ["| indicator | records | located | in a unit | at a company HQ |", "|---|---|---|---|---|"]
    for r in coverage.itertuples(index=False):
        lines.append(f"| `{r.indicator}` | {r.records:,} | {r.placed_share:.1%} | {r.in_units_share:.1%} | {r.hq_share:.1%} |")
    latest = values.sort_values("year").groupby(["unit", "indicator"]).tail(1)
    table = latest.pivot(index="unit", columns="indicator", values="value").reindex(unit_order)
    years = latest.groupby("indicator")["year"].max()
    lines += ["", "Latest values (year in the header):", "",
              "| unit | " + " | ".join(f"`{c}` ({int(years[c])})" for c in table.columns) + " |",
              "|---|" + "---|" * len(table.columns)]
    for unit, row in table.iterrows():
        cells = ["–" if pd.isna(v) else (f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}") for v in row]
        lines.append(f"| {unit} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def citylevel_block(folder: Path, unit_order: list[str]) -> str:
    """The published city rankings staged one row per unit: edition, list size, coverage."""
    lines = ["| indicator | file | edition | publisher | entity | cities of the "
             f"{len(unit_order)} with a value | not found |", "|---|---|---|---|---|---|---|"]
    for f in sorted(folder.glob("*.csv")):
        if not f.read_text(encoding="utf-8").startswith("unit,indicator,"):
            continue
        d = pd.read_csv(f, dtype=str, keep_default_na=False)
        for code, g in d.groupby("indicator", sort=False):
            absent = [u for u in unit_order if u not in set(g["unit"])]
            shown = ", ".join(absent[:12]) + (f" and {len(absent) - 12} more" if len(absent) > 12 else "")
            lines.append(f"| `{code}` | `{f.name}` | {g['year'].iat[0]} ({g['unit_of_measure'].iat[0]}) | "
                         f"{g['publisher'].iat[0]} | {', '.join(sorted(set(g['geo'])))} | {len(g)} | {shown or '–'} |")
    return "\n".join(lines) + "\n"


def lists_block(folder: Path, unit_order: list[str]) -> str:
    """The ranking lists that enter as percentiles, and which cities each one ranks."""
    from aicity.citylevel import LISTS, PERCENTILE_RULE

    lines = [f"Each rank enters as {PERCENTILE_RULE}; a city absent from a complete list scores 0 (rank N + 1).", "",
             "| indicator | list (file) | edition | N | publisher | source read | cities of the "
             f"{len(unit_order)} ranked | absent (scored 0) |", "|---|---|---|---|---|---|---|---|"]
    for src in LISTS:
        d = pd.read_csv(folder / "lists" / src.file, dtype=str, keep_default_na=False)
        ranked = [u for u in unit_order if u in set(" ".join(d["unit"]).split())]
        absent = [u for u in unit_order if u not in ranked]
        lines.append(f"| `{src.indicator}` | {src.what} (`{src.file}`) | {src.year} | {src.n} | {d['publisher'].iat[0]} | "
                     f"{d['url'].iat[0]} | {len(ranked)} | {', '.join(absent) or '–'} |")
    return "\n".join(lines) + "\n"


def correlations_block(result) -> str:
    """Indicator pairs the audit flags (|r| > 0.9 within a group: collinear; across groups:
    redundant), on the bundled build's normalised indicators."""
    from aicity.audit import correlation_table

    c = correlation_table(result)
    fw = result.framework
    hits = c[(c.level_x == 1) & (c.level_y == 1) & c.flag.str.contains("collinear|redundant")]
    if hits.empty:
        return "No pair of scored indicators has |r| > 0.9.\n"
    lines = ["| x | y | method | r | flag |", "|---|---|---|---|---|"]
    for r in hits.sort_values(["method", "r"], ascending=[True, False]).itertuples():
        flag = ";".join(f for f in r.flag.split(";") if f in ("collinear", "redundant"))
        lines.append(f"| `{r.x}` | `{r.y}` | {r.method} | {r.r:.3f} | {flag} |")
    lines += ["", f"Computed on the {len(result.units)} ranked cities of the bundled build "
                  f"({len(fw.indicators)} scored indicators)."]
    return "\n".join(lines) + "\n"


def comparisons_block(result) -> str:
    """Spearman correlation of the index ranking with each published ranking used as an
    input, on the cities both rank. Descriptive only: never used to set weights."""
    from scipy.stats import spearmanr

    from aicity.citylevel import LISTS, best_entries

    folder = Path(str(resources.files("aicity") / "data" / "citylevel"))
    index_rank = result.ranks[result.framework.index_code].dropna()
    published: list[tuple[str, pd.Series]] = []
    for src in LISTS:
        d = pd.read_csv(folder / "lists" / src.file, dtype=str, keep_default_na=False)
        ranks = {u: float(e["rank"]) for u, e in best_entries(d).items()}  # the rank the index scores
        published.append((f"{src.what.split(' (')[0]} {src.year} (`{src.file}`)", pd.Series(ranks)))
    oxford = pd.read_csv(folder / "oxford_gci.csv", dtype=str, keep_default_na=False)
    overall = oxford[oxford.indicator == "oxford_gci_overall_rank"]
    published.append(("Oxford Economics Global Cities Index 2024, overall rank (its categories are inputs)",
                      pd.Series(overall["value"].astype(float).to_numpy(), index=overall["unit"])))
    lines = ["| published ranking | cities in common | Spearman ρ |", "|---|---|---|"]
    for label, ranks in published:
        common = [u for u in index_rank.index if u in ranks.index]
        rho = spearmanr(index_rank[common], ranks[common]).statistic if len(common) > 2 else float("nan")
        lines.append(f"| {label} | {len(common)} | {rho:.2f} |")
    return "\n".join(lines) + "\n"


def render_blocks(fw: Framework | None = None, values: pd.DataFrame | None = None, units: pd.DataFrame | None = None) -> dict[str, str]:
    """The generated blocks of docs/data.md, by name, from the bundled data (or the given)."""
    fw = fw or load_framework(framework_path())
    values = values if values is not None else pd.read_csv(data_path())
    units = units if units is not None else pd.read_csv(units_path()).set_index("code")
    from aicity.build import build

    folder = Path(str(resources.files("aicity") / "data" / "citylevel"))
    order = list(pd.read_csv(derive_dir() / "metros.csv")["unit"])
    result = build()
    return {
        "lists": lists_block(folder, order),
        "correlations": correlations_block(result),
        "comparisons": comparisons_block(result),
        "framework": framework_block(fw),
        "indicators": indicators_block(fw, values, list(units.index)),
        "coverage": coverage_block(fw, values, units),
        "metros": metros_block(pd.read_csv(derive_dir() / "metros.csv")),
        "citylevel": citylevel_block(Path(str(resources.files("aicity") / "data" / "citylevel")),
                                     list(pd.read_csv(derive_dir() / "metros.csv")["unit"])),
        "derived": derived_block(pd.read_csv(bundled_derived_dir() / "coverage.csv"),
                                 pd.read_csv(bundled_derived_dir() / "values.csv"),
                                 list(pd.read_csv(derive_dir() / "metros.csv")["unit"])),
    }


def update(text: str, blocks: dict[str, str]) -> str:
    """`text` with every generated block replaced; a block named in neither is an error."""
    found = {m.group(2) for m in BLOCK.finditer(text)}
    if found != set(blocks):
        raise ValueError(f"generated blocks in the page {sorted(found)} differ from those rendered {sorted(blocks)}")
    return BLOCK.sub(lambda m: m.group(1) + blocks[m.group(2)] + m.group(4), text)


def main(argv: list[str] | None = None) -> None:
    path = Path((argv or sys.argv[1:] or ["docs/data.md"])[0])
    text = path.read_text(encoding="utf-8")
    new = update(text, render_blocks())
    if new != text:
        path.write_text(new, encoding="utf-8")
    print(f"{path}: {'updated' if new != text else 'already up to date'}")


if __name__ == "__main__":
    main()
