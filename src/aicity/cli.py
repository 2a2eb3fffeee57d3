"""The `aicity` command line: a thin layer over the Python API."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from aicity.build import build as build_index
from aicity.build import resolve_spec
from aicity.data import describe_coverage, find_unit, load_data
from aicity.errors import InputError, PipelineError
from aicity.framework import load_framework
from aicity.result import IndexResult
from aicity.store import default_store_path

app = typer.Typer(
    help="AI City Index: build, audit and compare composite indices of cities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

FrameworkOpt = typer.Option(None, "--framework", "-f", help="Framework YAML or COINr iMeta (CSV/XLSX). Default: the bundled index.")
DataOpt = typer.Option(None, "--data", "-d", help="Data: long or wide CSV, XLSX or Parquet. Default: the bundled data.")
UnitsOpt = typer.Option(None, "--units", help="Unit metadata (names, country, region, groups) if not in the data file.")
PipelineOpt = typer.Option(None, "--pipeline", "-p", help="Pipeline spec YAML. Default: the framework's pipeline section.")
StoreOpt = typer.Option(None, "--store", help="DuckDB run store. Default: $AICITY_STORE or the user data directory.")


def _fail(exc: Exception) -> None:
    err.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
    raise typer.Exit(code=2)


def _inputs(framework: Path | None, data: Path | None, units: Path | None):
    fw = load_framework(framework)
    if data is None and framework is None:
        ds = load_data(None, fw, units)
    elif data is None:
        raise InputError([_problem("--data is required with --framework")])
    else:
        ds = load_data(data, fw, units)
    return fw, ds


def _problem(reason: str):
    from aicity.errors import Problem

    return Problem("command line", reason)


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    if isinstance(value, float) and value.is_integer() and digits == 0:
        return str(int(value))
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def print_ranking(result: IndexResult, top: int, lang: str = "en") -> None:
    fw = result.framework
    ranking = result.ranking(lang).head(top)
    table = Table(title=f"{fw.node(fw.index_code).name(lang)}: top {min(top, len(ranking))} of {len(result.units)}")
    table.add_column("Rank", justify="right")
    table.add_column("Unit")
    table.add_column(fw.index_code, justify="right")
    for p in fw.pillars():
        table.add_column(p, justify="right")  # codes keep the table narrow; names in the caption
    table.add_column("Missing", justify="right")
    table.add_column("Imputed", justify="right")
    table.caption = " · ".join(f"{p}: {fw.node(p).name(lang)}" for p in fw.pillars())
    for unit, row in ranking.iterrows():
        table.add_row(
            _fmt(row["rank"], 0),
            f"{row['name']} ({unit})",
            _fmt(row[fw.index_code]),
            *[_fmt(row[p]) for p in fw.pillars()],
            str(int(row["missing"])),
            str(int(row["imputed"])),
        )
    console.print(table)


def print_versus(result: IndexResult, a: str, b: str, lang: str = "en") -> None:
    fw = result.framework
    ua, ub = find_unit(result.dataset, a), find_unit(result.dataset, b)
    for u in (ua, ub):
        if u not in result.units:
            raise InputError([_problem(f"{u} was screened out of this build; it has no scores")])
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
            _fmt(sa), _fmt(ranks.at[ua, code], 0), _fmt(sb), _fmt(ranks.at[ub, code], 0), _fmt(sa - sb),
        )
    console.print(table)


@app.command()
def build(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    out: Path = typer.Option(Path("out"), "--out", "-o", help="Output directory."),
    normalize: str = typer.Option(None, "--normalize", help="Override the normalisation method."),
    range_: tuple[float, float] | None = typer.Option(None, "--range", help="Normalisation range LO HI."),
    aggregate: str = typer.Option(None, "--aggregate", help="Override the aggregation method."),
    impute: str = typer.Option(None, "--impute", help="Override the imputation method."),
    treat: str = typer.Option(None, "--treat", help="Override the outlier treatment (none, winsorise_log)."),
    no_denominate: bool = typer.Option(False, "--no-denominate", help="Skip the denominate step."),
    store: Path = StoreOpt,
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the run in the store."),
    top: int = typer.Option(10, "--top", help="How many units to print."),
    versus: str = typer.Option(None, "--versus", help="Two units to compare by pillar, e.g. Seoul,Tokyo (codes or names)."),
    xlsx: str = typer.Option("auto", "--xlsx", help="auto (skip when very large), always or never."),
    group_ranks: str = typer.Option(None, "--group-ranks", help="Unit column to rank within (adds group_rank)."),
    label: str = typer.Option(None, "--label", help="A label stored with the run."),
    lang: str = typer.Option("en", "--lang", help="Language for names: en, ko or ja."),
) -> None:
    """Build an index and write results.csv, results.json and results.xlsx."""
    from aicity.export import write_outputs
    from aicity.store import Store

    overrides: dict[str, dict[str, Any]] = {}
    if normalize:
        overrides.setdefault("normalize", {})["method"] = normalize
    if range_ and range_[0] is not None:
        overrides.setdefault("normalize", {})["range"] = [range_[0], range_[1]]
    if aggregate:
        overrides["aggregate"] = {"method": aggregate}
    if impute:
        overrides["impute"] = {"method": impute}
    if treat:
        overrides["treat"] = {"method": treat}
    if no_denominate:
        overrides["denominate"] = {"enabled": False}
    pair = [v.strip() for v in versus.split(",")] if versus else []
    if versus and len(pair) != 2:
        _fail(ValueError("--versus takes two units separated by a comma, e.g. Seoul,Tokyo"))
    try:
        with console.status("Building…") as status:
            result = build_index(
                framework, data, pipeline, units=units, overrides=overrides,
                progress=lambda step: status.update(f"Building: {step}…"),
            )
            status.update("Writing results…")
            written = write_outputs(result, out, xlsx=xlsx, group=group_ranks)
            run_id = None
            if not no_store:
                status.update("Recording the run…")
                with Store(store) as st:
                    run_id = st.save(
                        result, framework=str(framework or "bundled"), data=str(data or "bundled"), label=label
                    )
    except (InputError, PipelineError) as exc:
        _fail(exc)
        return
    print_ranking(result, top, lang)
    if pair:
        try:
            print_versus(result, pair[0], pair[1], lang)
        except InputError as exc:
            _fail(exc)
    if len(result.screened_out):
        names = ", ".join(f"{u} ({c:.0%})" for u, c in zip(result.screened_out.unit, result.screened_out.coverage, strict=True))
        console.print(f"[yellow]Screened out (data coverage below the threshold):[/] {names}")
    n_imp = int(result.imputed_array.sum())
    if n_imp:
        console.print(f"[yellow]{n_imp} imputed value(s)[/], flagged in every output (column 'imputed').")
    for w in result.warnings:
        console.print(f"[yellow]warning:[/] {w}", highlight=False)
    for kind, path in written.items():
        console.print(f"{kind}: {path}")
    if run_id:
        console.print(f"run: {run_id} (store: {store or default_store_path()})")


@app.command()
def validate(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
) -> None:
    """Check a framework, data and pipeline without building; report every problem found."""
    try:
        fw, ds = _inputs(framework, data, units)
        steps = resolve_spec(fw, pipeline)
    except (InputError, PipelineError) as exc:
        _fail(exc)
        return
    cov = describe_coverage(ds, fw.indicators)
    console.print(
        f"[green]OK[/]: {len(fw.indicators)} indicators, {len(fw.aggregates)} aggregates, "
        f"{fw.n_levels} levels; {len(ds.unit_codes)} units, "
        f"{int(cov.present.sum())} of {len(ds.unit_codes) * len(fw.indicators)} values present; "
        f"pipeline: {' -> '.join(s for s, _ in steps)}"
    )


@app.command()
def info(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """The framework as a tree, and data coverage per unit and per indicator."""
    try:
        fw, ds = _inputs(framework, data, units)
    except InputError as exc:
        _fail(exc)
        return
    present = ~np.isnan(ds.matrix(fw.indicators))

    def label(code: str) -> str:
        n = fw.node(code)
        text = f"[bold]{code}[/] {n.name(lang)} (w={n.weight:g}"
        if n.kind == "indicator":
            j = fw.indicators.index(code)
            text += f", dir={n.direction:+d}, {present[:, j].mean():.0%} of units"
        return text + ")"

    def add(tree: Tree, code: str) -> None:
        for kid in fw.children[code]:
            add(tree.add(label(kid)), kid)

    root = Tree(label(fw.index_code))
    add(root, fw.index_code)
    console.print(root)
    cov = describe_coverage(ds, fw.indicators).sort_values("coverage", ascending=False)
    table = Table(title="Data coverage per unit")
    for col in ("Unit", "Name", "Present", "Coverage"):
        table.add_column(col, justify="right" if col in ("Present", "Coverage") else "left")
    for unit, row in cov.iterrows():
        table.add_row(str(unit), ds.unit_name(unit, lang), f"{int(row.present)}/{int(row.of)}", f"{row.coverage:.0%}")
    console.print(table)
    if fw.context:
        console.print("Context (shown, not scored): " + ", ".join(c.code for c in fw.context))


@app.command()
def uncertainty(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    samples: int = typer.Option(None, "--samples", "-n", help="Monte Carlo samples (default: the spec's, else 10,000)."),
    seed: int = typer.Option(None, "--seed", help="Random seed (default: the spec's, else 1)."),
    sobol: bool = typer.Option(False, "--sobol", help="Also estimate first-order and total Sobol' indices."),
    sobol_samples: int = typer.Option(None, "--sobol-samples", help="Sobol' base samples N, a power of 2 (runs: N x (inputs + 2))."),
    dask: str = typer.Option(None, "--dask", help="Run chunks on Dask: tcp://HOST:PORT, or local:N for a LocalCluster of N workers."),
    out: Path = typer.Option(Path("out/uncertainty"), "--out", "-o"),
    save_samples: bool = typer.Option(False, "--save-samples", help="Also write every sampled score to samples.parquet."),
    top: int = typer.Option(10, "--top"),
) -> None:
    """Monte Carlo rank intervals and Sobol' sensitivity of the index to the uncertain inputs
    declared in the pipeline file's `uncertainty:` section."""
    from rich.progress import Progress

    from aicity.uncertainty import run_uncertainty

    try:
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task("Preparing…", total=None)

            def progress(stage: str, done: int, total: int) -> None:
                if total:
                    bar.update(task, description=f"Evaluating {stage}", completed=done, total=total)
                else:
                    bar.update(task, description=stage[:60])

            result = run_uncertainty(
                framework, data, pipeline, units=units, samples=samples, seed=seed, sobol=sobol,
                sobol_samples=sobol_samples, dask=dask, progress=progress,
            )
        written = result.write(out, save_samples=save_samples)
    except (InputError, PipelineError) as exc:
        _fail(exc)
        return
    n = len(result.scores)
    table = Table(title=f"Rank intervals over {n:,} samples (seed {result.spec.seed})")
    for col in ("Unit", "Nominal", "Mean", "Median", "5%", "95%"):
        table.add_column(col, justify="right" if col != "Unit" else "left")
    for _, row in result.rank_intervals().head(top).iterrows():
        table.add_row(f"{row.unit_name} ({row.unit})", _fmt(row.nominal_rank, 0), _fmt(row.mean_rank, 1), _fmt(row.median_rank, 1), _fmt(row.p05, 1), _fmt(row.p95, 1))
    console.print(table)
    if result.sensitivity is not None:
        sens = Table(title=f"Sobol' indices of the mean absolute rank shift ({result.sobol_runs:,} runs, 90 % bootstrap intervals)")
        for col in ("Input", "S1", "S1 interval", "ST", "ST interval"):
            sens.add_column(col, justify="right" if col != "Input" else "left")
        for _, row in result.sensitivity.iterrows():
            sens.add_row(row["input"], f"{row.S1:.3f}", f"[{row.S1_low:.3f}, {row.S1_high:.3f}]", f"{row.ST:.3f}", f"[{row.ST_low:.3f}, {row.ST_high:.3f}]")
        console.print(sens)
    for kind, path in written.items():
        console.print(f"{kind}: {path}")


SOURCE_COLUMNS = ["unit", "unit_name", "indicator", "value", "year", "geo", "geo_name", "unit_of_measure",
                  "publisher", "source", "url", "quote", "note"]


@app.command()
def sources(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    format_: str = typer.Option("table", "--format", help="table (for people) or csv."),
    unit: str = typer.Option(None, "--unit", help="Only this unit (code or name)."),
    indicator: str = typer.Option(None, "--indicator", help="Only this indicator code."),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """Every value with its source: unit, indicator, value, year, geographic unit, publisher, URL."""
    try:
        fw, ds = _inputs(framework, data, units)
        rows = ds.observations.copy()
        if unit:
            rows = rows[rows.unit == find_unit(ds, unit)]
    except InputError as exc:
        _fail(exc)
        return
    if indicator:
        rows = rows[rows.indicator == indicator]
    if "used" in rows.columns:
        rows = rows[rows.used]
    rows.insert(1, "unit_name", [ds.unit_name(u, lang) for u in rows.unit])
    for col in SOURCE_COLUMNS:
        if col not in rows.columns:
            rows[col] = None
    rows = rows[SOURCE_COLUMNS]
    if "year" in rows:
        rows["year"] = rows["year"].astype("Int64")
    if format_ == "csv":
        sys.stdout.write(rows.to_csv(index=False))
        return
    if format_ != "table":
        _fail(ValueError("--format must be table or csv"))
    table = Table(title=f"{len(rows)} values with their sources")
    for col in ("Unit", "Indicator", "Value", "Year", "Geo", "Publisher", "URL"):
        table.add_column(col, overflow="fold")
    for _, r in rows.iterrows():
        geo = r.geo if r.geo != "country" else f"country proxy ({r.geo_name})"
        table.add_row(f"{r.unit_name} ({r.unit})", r.indicator, f"{r.value:g}", str(r.year), str(geo), str(r.publisher), str(r.url))
    console.print(table)


@app.command()
def runs(store: Path = StoreOpt) -> None:
    """List the runs in the store."""
    from aicity.store import Store

    with Store(store) as st:
        frame = st.runs()
    if frame.empty:
        console.print(f"No runs yet in {store or default_store_path()}.")
        return
    table = Table(title="Runs")
    for col in ("run_id", "created_at", "index_code", "n_units", "label", "data"):
        table.add_column(col)
    for _, row in frame.iterrows():
        table.add_row(row.run_id, str(row.created_at)[:19], row.index_code, str(row.n_units), row.label or "", row.data or "")
    console.print(table)


@app.command()
def show(
    run: str = typer.Argument("latest", help="Run id, unique prefix, 'latest' or 'previous'."),
    store: Path = StoreOpt,
    top: int = typer.Option(10, "--top"),
    code: str = typer.Option(None, "--code", help="Code to rank by (default: the index)."),
) -> None:
    """A stored run: its spec and its ranking."""
    from aicity.store import RunNotFound, Store

    try:
        with Store(store) as st:
            meta = st.run_info(run)
            frame = st.results(run, code=code or meta["index_code"])
    except RunNotFound as exc:
        _fail(exc)
        return
    console.print(f"[bold]{meta['run_id']}[/] {str(meta['created_at'])[:19]} UTC  {meta['index_code']}  {meta['n_units']} units")
    console.print("spec: " + ", ".join(f"{k}={v}" for k, v in meta["spec"]["pipeline"].items()), highlight=False)
    table = Table()
    for col in ("Rank", "Unit", "Score"):
        table.add_column(col)
    for _, row in frame.sort_values("rank").head(top).iterrows():
        table.add_row(_fmt(row["rank"], 0), f"{row.unit_name} ({row.unit})", _fmt(row.score))
    console.print(table)


@app.command()
def diff(
    run_a: str = typer.Argument(..., help="Earlier run."),
    run_b: str = typer.Argument(..., help="Later run."),
    store: Path = StoreOpt,
    code: str = typer.Option(None, "--code"),
    all_units: bool = typer.Option(False, "--all", help="Show units whose rank did not change too."),
) -> None:
    """Rank changes between two runs (positive change = moved up)."""
    from aicity.store import RunNotFound, Store

    try:
        with Store(store) as st:
            frame = st.diff(run_a, run_b, code)
    except RunNotFound as exc:
        _fail(exc)
        return
    if not all_units:
        frame = frame[(frame.rank_change != 0) | frame.rank_change.isna()]
    table = Table(title=f"{run_a} -> {run_b}: {len(frame)} unit(s) changed")
    for col in ("Unit", "Rank A", "Rank B", "Change", "Score A", "Score B"):
        table.add_column(col, justify="right")
    for _, row in frame.iterrows():
        change = row.rank_change
        arrow = "" if pd.isna(change) else ("▲" if change > 0 else "▼" if change < 0 else "=")
        table.add_row(
            f"{row.unit_name} ({row.unit})", _fmt(row.rank_a, 0), _fmt(row.rank_b, 0),
            f"{arrow}{_fmt(abs(change), 0) if not pd.isna(change) else 'new/gone'}", _fmt(row.score_a), _fmt(row.score_b),
        )
    console.print(table)


def main() -> None:  # pragma: no cover - console entry for `python -m aicity`
    app(prog_name="aicity")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
