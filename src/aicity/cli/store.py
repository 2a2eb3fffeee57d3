"""`aicity serve`, `sources`, `runs`, `show` and `diff`: the explorer, the values' sources and
the run store."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import typer
from rich.table import Table

from aicity.cli._app import (
    DataOpt,
    FrameworkOpt,
    LangOpt,
    PipelineOpt,
    StoreOpt,
    TopOpt,
    UnitsOpt,
    app,
    console,
    fail,
    read_inputs,
    styled,
)
from aicity.cli.output import fmt
from aicity.keys import INVISIBLE


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0 for every interface)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port, 1-65535."),
    store: Path = StoreOpt,
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="Worker processes, 1 to 32 (each builds the index at start)."),
) -> None:
    """The web explorer and REST API (OpenAPI at /openapi.json and /docs). Writes need the
    bearer token in $AICITY_TOKEN; CORS stays closed unless $AICITY_CORS_ORIGINS lists origins."""
    import os

    import uvicorn

    from aicity.errors import InputError
    from aicity.web.settings import Settings

    os.environ["AICITY_SERVE_ARGS"] = json.dumps({k: str(v) if v else None for k, v in
                                                  {"framework": framework, "data": data, "units": units, "pipeline": pipeline, "store": store}.items()})
    try:
        Settings.from_env()  # the environment's mistakes said here, once, not by each worker
    except InputError as exc:
        fail(exc)
    console.print(f"AI City Index explorer on http://{host}:{port}/ (API docs: /docs)")
    from aicity.web.settings import MAX_HEADERS_BYTES

    # h11's own cap on a request's head; the app answers 431 above its limits whatever the parser
    uvicorn.run("aicity.web:app_from_env", host=host, port=port, workers=workers, factory=True, log_level="warning",
                h11_max_incomplete_event_size=MAX_HEADERS_BYTES, access_log=False)


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
    lang: str = LangOpt,
) -> None:
    """Every value with its source: unit, indicator, value, year, geographic unit, publisher, URL."""
    from aicity.data import find_unit
    fw, ds = read_inputs(framework, data, units)
    if indicator:  # a typo is an error, never "0 values"
        from aicity.framework import find_code

        indicator = find_code(fw, indicator) if indicator not in ds.values.columns else indicator
    rows = ds.sources(find_unit(ds, unit) if unit else None, indicator or None).copy()
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
        fail(ValueError("--format must be table or csv"))
    table = Table(title=f"{len(rows)} values with their sources")
    for col in ("Unit", "Indicator", "Value", "Year", "Geo", "Publisher", "URL"):
        table.add_column(col, overflow="fold")
    for _, r in rows.iterrows():
        geo = r.geo if r.geo != "country" else f"country proxy ({r.geo_name})"
        table.add_row(f"{r.unit_name} ({r.unit})", r.indicator, f"{r.value:g}", str(r.year), str(geo), str(r.publisher), str(r.url))
    console.print(table)


_INVISIBLE = re.compile(INVISIBLE)


def _text(value: object) -> str:
    """A stored text column for a table cell: '' for a missing value (None or NaN); a control
    or bidi character (a label stored by an older version) shows as its escape, never raw to
    the terminal."""
    if value is None or value != value:
        return ""
    return _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode(), str(value))


@app.command()
def runs(store: Path = StoreOpt) -> None:
    """List the runs in the store."""
    from aicity.store import Store

    with Store(store, read_only=True) as st:
        frame = st.runs()
    if frame.empty:
        console.print(f"No runs yet in {st.path}.")
        return
    table = Table(title="Runs")
    for col in ("run_id", "created_at", "index_code", "n_units", "label", "data"):
        # a run id is copied to `show` and `diff`: never cut to "…" (the label and data fold)
        table.add_column(col, no_wrap=col == "run_id", overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(str(row.run_id), str(row.created_at)[:19], str(row.index_code), str(row.n_units),
                      _text(row.label), _text(row.data))
    console.print(table)


@app.command()
def show(
    run: str = typer.Argument("latest", help="Run id, unique prefix, 'latest' or 'previous'."),
    store: Path = StoreOpt,
    top: int = TopOpt,
    code: str = typer.Option(None, "--code", help="Code to rank by (default: the index)."),
) -> None:
    """A stored run: its spec and its ranking."""
    from aicity.store import RunNotFound, Store

    try:
        with Store(store, read_only=True) as st:
            meta = st.run_info(run)
            frame = st.results(run, code=code or meta["index_code"])
    except RunNotFound as exc:
        fail(exc)
        return
    console.print(styled((str(meta["run_id"]), "bold"), f" {str(meta['created_at'])[:19]} UTC  {meta['index_code']}  {meta['n_units']} units"))
    console.print("spec: " + ", ".join(f"{k}={v}" for k, v in meta["spec"]["pipeline"].items()), highlight=False)
    table = Table()
    for col in ("Rank", "Unit", "Score"):
        table.add_column(col)
    for _, row in frame.sort_values("rank").head(top).iterrows():
        table.add_row(fmt(row["rank"], 0), f"{row.unit_name} ({row.unit})", fmt(row.score))
    console.print(table)


@app.command()
def diff(
    run_a: str = typer.Argument(..., help="Earlier run."),
    run_b: str = typer.Argument(..., help="Later run."),
    store: Path = StoreOpt,
    code: str = typer.Option(None, "--code", help="Code to compare ranks on (default: the index)."),
    all_units: bool = typer.Option(False, "--all", help="Show units whose rank did not change too."),
) -> None:
    """Rank changes between two runs (positive change = moved up)."""
    import pandas as pd

    from aicity.store import RunNotFound, Store

    try:
        with Store(store, read_only=True) as st:
            frame = st.diff(run_a, run_b, code)
    except RunNotFound as exc:
        fail(exc)
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
            f"{row.unit_name} ({row.unit})", fmt(row.rank_a, 0), fmt(row.rank_b, 0),
            f"{arrow}{fmt(abs(change), 0) if not pd.isna(change) else 'new/gone'}", fmt(row.score_a), fmt(row.score_b),
        )
    console.print(table)
