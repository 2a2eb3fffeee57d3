"""`aicity build`, `validate`, `info` and `derive`: make an index (or its derived values) and
check what goes into it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

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
    err,
    fail,
    out_folder,
    problem,
    read_inputs,
    styled,
)
from aicity.cli.output import print_metros, print_ranking, print_versus, share
from aicity.errors import InputError


@app.command()
def build(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    out: Path = typer.Option(Path("out"), "--out", "-o", callback=out_folder, help="Output directory."),
    normalize: str = typer.Option(None, "--normalize", help="Override the normalisation method."),
    range_: tuple[float, float] | None = typer.Option(None, "--range", help="Normalisation range LO HI."),
    aggregate: str = typer.Option(None, "--aggregate", help="Override the aggregation method."),
    impute: str = typer.Option(None, "--impute", help="Override the imputation method."),
    treat: str = typer.Option(None, "--treat", help="Override the outlier treatment (none, winsorise_log)."),
    no_denominate: bool = typer.Option(False, "--no-denominate", help="Skip the denominate step."),
    store: Path = StoreOpt,
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the run in the store."),
    top: int = TopOpt,
    versus: str = typer.Option(None, "--versus", help="Two units to compare by pillar, e.g. Seoul,Tokyo (codes or names)."),
    xlsx: str = typer.Option("auto", "--xlsx", help="auto (skip when very large), always or never."),
    group_ranks: str = typer.Option(None, "--group-ranks", help="Unit column to rank within (adds group_rank)."),
    label: str = typer.Option(None, "--label", help="A label stored with the run (printable text)."),
    lang: str = LangOpt,
) -> None:
    """Build an index and write results.csv, .parquet, .json and .xlsx, and record the run."""
    from concurrent.futures import ThreadPoolExecutor

    from aicity.build import build as build_index
    from aicity.export import Staging, check_xlsx_choice, results_table, write_outputs
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
    check_xlsx_choice(xlsx)
    pair = [v.strip() for v in versus.split(",")] if versus else []
    if versus and len(pair) != 2:
        fail(ValueError("--versus takes two units separated by a comma, e.g. Seoul,Tokyo"))
    # The store is checked (it opens, it can be written) before anything is computed; the
    # outputs are written into a staging folder while the run is recorded beside them (two
    # threads: the writers and DuckDB release the GIL), and only when both succeed are the
    # outputs moved into place. A failed write removes the run it recorded, a failed record
    # leaves the outputs unmoved: a build that fails anywhere leaves the previous outputs and
    # the store as they were.
    st = None if no_store else Store(store)
    with console.status("Building…") as status:
        result = build_index(
            framework, data, pipeline, units=units, overrides=overrides,
            progress=lambda step: status.update(f"Building: {step}…"),
        )
        for query in pair:  # an unknown or unranked unit stops the command before anything is written
            result.ranked_unit(query)
        status.update("Writing results…")
        run_id = None
        table = results_table(result, group_ranks)  # once, for every file and the store
        stage = Staging(out)
        with ThreadPoolExecutor(1, thread_name_prefix="aicity-store") as pool:
            saving = None if st is None else pool.submit(
                st.save, result, framework=str(framework or "bundled"), data=str(data or "bundled"), label=label, table=table)
            try:
                written = write_outputs(result, stage, xlsx=xlsx, group=group_ranks, table=table)
                if saving is not None:
                    status.update("Recording the run…")
                    run_id = saving.result()
                stage.commit()  # the files move into place only now; should that fail, the run goes too
            except BaseException:
                stage.discard()
                _undo_run(st, saving)
                raise
    print_ranking(result, top, lang)
    if pair:
        print_versus(result, pair[0], pair[1], lang)
    if len(result.screened_out):
        names = ", ".join(f"{u} ({c:.0%})" for u, c in zip(result.screened_out.unit, result.screened_out.coverage, strict=True))
        console.print(styled(("Screened out (data coverage below the threshold):", "yellow"), f" {names}"))
    n_imp = int(result.imputed_array.sum())
    if n_imp:
        console.print(styled((f"{n_imp} imputed value(s)", "yellow"), ", flagged in every output (column 'imputed')."))
    for w in result.warnings:
        console.print(styled(("warning:", "yellow"), f" {w}"), highlight=False)
    for kind, path in written.items():
        console.print(f"{kind}: {path}")
    if run_id:
        console.print(f"run: {run_id} (store: {st.path})")


def _undo_run(st: Any, saving: Any) -> None:
    """The outputs failed: the run recorded beside them must not stay without them."""
    if saving is None:
        return
    try:
        run_id = saving.result()
    except Exception:  # noqa: BLE001 - recording failed too: nothing to undo
        return
    st.delete_run(run_id)


@app.command()
def validate(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
) -> None:
    """Check a framework, data and pipeline without building; report every problem found
    (unknown keys in any file, with the nearest known one; transforms against the values)."""
    from aicity.build import check
    from aicity.data import describe_coverage
    fw, ds = read_inputs(framework, data, units)
    checked = check(fw, ds, pipeline)
    steps = checked.spec
    cov = describe_coverage(ds, fw.indicators)
    console.print(
        styled(("OK", "green"), f": {len(fw.indicators)} indicators, {len(fw.aggregates)} aggregates, "
        f"{fw.n_levels} levels; {len(ds.unit_codes)} units, "
        f"{int(cov.present.sum())} of {len(ds.unit_codes) * len(fw.indicators)} values present; "
        f"pipeline: {' -> '.join(s for s, _ in steps)}")
    )


@app.command()
def info(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    lang: str = LangOpt,
) -> None:
    """The framework as a tree, and data coverage per unit and per indicator."""
    import numpy as np

    from aicity.data import describe_coverage
    fw, ds = read_inputs(framework, data, units)
    present = ~np.isnan(ds.matrix(fw.indicators))

    def label(code: str) -> Text:
        n = fw.node(code)
        text = f" {n.name(lang)} (w={n.weight:g}"
        if n.kind == "indicator":
            j = fw.indicators.index(code)
            text += f", dir={n.direction:+d}, {present[:, j].mean():.0%} of units"
        return styled((code, "bold"), text + ")")

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
    if framework is None and data is None:
        print_metros()


@app.command()
def derive(
    recipe: list[Path] = typer.Argument(None, help="Recipe YAML file(s)."),
    bundled: bool = typer.Option(False, "--bundled", help="Run every bundled recipe (the index's derived indicators)."),
    records: Path = typer.Option(None, "--records", help="Directory the recipes' record paths start from. Default: each recipe's folder."),
    out: Path = typer.Option(..., "--out", "-o", callback=out_folder, help="Output directory: values.csv, coverage.csv, unplaced.csv, indicators.csv, distinct_values.csv (replaced as a whole; new, empty, or a previous output)."),
    metros: Path = typer.Option(None, "--metros", help="Metro definitions CSV. Default: the bundled one (see `aicity info`)."),
    gazetteer: Path = typer.Option(None, "--gazetteer", help="Place-name crosswalk used as `places`. Default: the bundled GeoNames one."),
    countries: Path = typer.Option(None, "--countries", help="Country names and aliases (code, alias). Default: the bundled list."),
    dask: str = typer.Option(None, "--dask", help="Run on Dask: local:N (a LocalCluster) or tcp://scheduler:8786."),
    unplaced_top: int = typer.Option(200, "--unplaced-top", min=0, help="Rows of unplaced.csv per indicator, most frequent first (0: all)."),
) -> None:
    """Indicators counted from record files (papers, companies, universities...) by city."""
    from aicity.derive import bundled_recipes, derive_recipes, write_derived

    if bundled and recipe:
        raise InputError([problem("give recipe files or --bundled, not both")])
    if bundled and records is None:
        raise InputError([problem("--bundled needs --records DIR: the record files are not shipped with aicity "
                                   "(see docs/derive.md; e.g. --records ../shared/data/records)")])
    paths = bundled_recipes() if bundled else list(recipe or [])
    if not paths:
        raise InputError([problem("give a RECIPE.yaml, or --bundled")])
    if dask is not None:
        from aicity.cluster import check_address

        check_address(dask)
    if err.is_terminal:
        with err.status("deriving...") as status:
            result = derive_recipes(paths, records=records, metros=metros, dask=dask, gazetteer=gazetteer,
                                    countries=countries, progress=lambda msg: status.update(escape(msg)))
    else:  # a log or a pipe: one line per step, with the time it happened
        import time

        start = time.perf_counter()
        result = derive_recipes(paths, records=records, metros=metros, dask=dask, gazetteer=gazetteer,
                                countries=countries,
                                progress=lambda msg: err.print(f"[{time.perf_counter() - start:6.1f} s] {msg}",
                                                               highlight=False))
    written = write_derived(result, out, unplaced_top)
    for w in result.warnings:
        err.print(styled(("warning:", "yellow"), f" {w}"), highlight=False)
    table = Table(title="Coverage: how much of the records was placed")
    for col in ("Indicator", "Records", "Placed", "In units", "At a company HQ"):
        table.add_column(col, justify="left" if col == "Indicator" else "right")
    for r in result.coverage.itertuples(index=False):
        table.add_row(r.indicator, f"{r.records:,}", *(share(x) for x in (r.placed_share, r.in_units_share, r.hq_share)))
    console.print(table)
    console.print(f"{len(result.values):,} values -> " + ", ".join(str(p) for p in written))
