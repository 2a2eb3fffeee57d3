"""The `aicity` command line: a thin layer over the Python API."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from aicity.errors import InputError, PipelineError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from aicity.result import IndexResult

# Heavy modules (pandas, the pipeline, the store) are imported inside the commands that use
# them, so `aicity --help` starts as fast as typer itself.

class _App(typer.Typer):
    """The one error handler of the command line: a problem with the input (any command, any
    file) is printed as the project's message and exits with 2, never as a traceback; so is a
    file the system will not let us read or write. Every command is wrapped when registered,
    so the rule holds however the command is invoked (the shell, CliRunner, another program)."""

    def command(self, *args: Any, **kwargs: Any) -> Any:
        register = super().command(*args, **kwargs)

        def decorator(fn: Any) -> Any:
            @functools.wraps(fn)
            def guarded(*a: Any, **k: Any) -> Any:
                try:
                    return fn(*a, **k)
                except (InputError, PipelineError) as exc:
                    _fail(exc)
                except OSError as exc:
                    where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
                    _fail(Exception(where + (exc.strerror or str(exc))))

            register(guarded)
            return fn

        return decorator


app = _App(
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
    err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
    raise typer.Exit(code=2)


def _inputs(framework: Path | None, data: Path | None, units: Path | None):
    from aicity.inputs import resolve_inputs
    return resolve_inputs(framework, data, units)


def _share(x: float) -> str:
    import numpy as np
    return "–" if x is None or np.isnan(x) else f"{x:.1%}"


def _problem(reason: str) -> Problem:
    return Problem("command line", reason)


def _fmt(value: Any, digits: int = 2) -> str:
    import numpy as np
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
    from aicity.build import build as build_index
    from aicity.export import write_outputs
    from aicity.store import Store, default_store_path

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
    print_ranking(result, top, lang)
    if pair:
        print_versus(result, pair[0], pair[1], lang)
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
    from aicity.build import resolve_spec
    from aicity.data import describe_coverage
    fw, ds = _inputs(framework, data, units)
    steps = resolve_spec(fw, pipeline)
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
    import numpy as np

    from aicity.data import describe_coverage
    fw, ds = _inputs(framework, data, units)
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
    if framework is None and data is None:
        print_metros()


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
        pop = "–" if np.isnan(r.population) else f"{r.population:,.0f} ({r.population_area}, {_fmt(r.population_year, 0)})"
        table.add_row(r.unit, f"{r.centre_name} ({r.centre_lat:.4f}, {r.centre_lon:.4f})", f"{r.radius_km:g} km",
                      str(r.definition), pop)
    console.print(table)


@app.command()
def derive(
    recipe: list[Path] = typer.Argument(None, help="Recipe YAML file(s)."),
    bundled: bool = typer.Option(False, "--bundled", help="Run every bundled recipe (the index's derived indicators)."),
    records: Path = typer.Option(None, "--records", help="Directory the recipes' record paths start from. Default: each recipe's folder."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory: values.csv, coverage.csv, unplaced.csv, indicators.csv (replaced as a whole; new, empty, or a previous output)."),
    metros: Path = typer.Option(None, "--metros", help="Metro definitions CSV. Default: the bundled one (see `aicity info`)."),
    gazetteer: Path = typer.Option(None, "--gazetteer", help="Place-name crosswalk used as `places`. Default: the bundled GeoNames one."),
    countries: Path = typer.Option(None, "--countries", help="Country names and aliases (code, alias). Default: the bundled list."),
    dask: str = typer.Option(None, "--dask", help="Run on Dask: local:N (a LocalCluster) or tcp://scheduler:8786."),
    unplaced_top: int = typer.Option(200, "--unplaced-top", min=0, help="Rows of unplaced.csv per indicator, most frequent first (0: all)."),
) -> None:
    """Indicators counted from record files (papers, companies, universities...) by city."""
    from aicity.derive import bundled_recipes, derive_recipes, write_derived

    if bundled and recipe:
        raise InputError([_problem("give recipe files or --bundled, not both")])
    if bundled and records is None:
        raise InputError([_problem("--bundled needs --records DIR: the record files are not shipped with aicity "
                                   "(see docs/derive.md; e.g. --records ../shared/data/records)")])
    paths = bundled_recipes() if bundled else list(recipe or [])
    if not paths:
        raise InputError([_problem("give a RECIPE.yaml, or --bundled")])
    if dask is not None and not (dask.startswith("local:") or "://" in dask):
        raise InputError([_problem(f"--dask '{dask}' is not local:N or a scheduler address such as tcp://host:8786")])
    if err.is_terminal:
        with err.status("deriving...") as status:
            result = derive_recipes(paths, records=records, metros=metros, dask=dask, gazetteer=gazetteer,
                                    countries=countries, progress=lambda msg: status.update(escape(msg)))
    else:  # a log or a pipe: one line per step, with the time it happened
        import time

        start = time.perf_counter()
        result = derive_recipes(paths, records=records, metros=metros, dask=dask, gazetteer=gazetteer,
                                countries=countries,
                                progress=lambda msg: err.print(f"[{time.perf_counter() - start:6.1f} s] {escape(msg)}",
                                                               highlight=False))
    written = write_derived(result, out, unplaced_top)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False)
    table = Table(title="Coverage: how much of the records was placed")
    for col in ("Indicator", "Records", "Placed", "In units", "At a company HQ"):
        table.add_column(col, justify="left" if col == "Indicator" else "right")
    for r in result.coverage.itertuples(index=False):
        table.add_row(r.indicator, f"{r.records:,}", *(_share(x) for x in (r.placed_share, r.in_units_share, r.hq_share)))
    console.print(table)
    console.print(f"{len(result.values):,} values -> " + ", ".join(str(p) for p in written))


@app.command("audit")
def audit_cmd(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    out: Path = typer.Option(Path("out/audit"), "--out", "-o"),
    corr_threshold: float = typer.Option(0.9, "--corr-threshold", help="Flag sibling correlations with |r| above this."),
    weak_threshold: float = typer.Option(0.2, "--weak-threshold", help="Flag a code correlating with its parent below this."),
) -> None:
    """Statistical audit: indicator statistics, correlations, Cronbach's alpha, PCA,
    effective and optimised weights, leave-one-out rank shifts (CSV and audit.xlsx)."""
    import pandas as pd

    from aicity.audit import audit as run_audit

    result = _build_or_fail(framework, data, units, pipeline)
    with console.status("Auditing…"):
        report = run_audit(result, corr_threshold=corr_threshold, weak_threshold=weak_threshold)
        written = report.write(out)
    flags = report.correlations[report.correlations.flag.fillna("") != ""] if "flag" in report.correlations else pd.DataFrame()
    console.print(f"{len(report.stats)} indicators; {int((report.stats.flag_skew_kurt == 'OUT').sum())} flagged for skew and kurtosis; "
                  f"{len(flags)} correlation flag(s)")
    alpha = report.cronbach.dropna(subset=["alpha"])
    if len(alpha):
        console.print(_frame_table(alpha, "Cronbach's alpha"))
    loo = report.leave_one_out.sort_values("mean_abs_rank_shift", ascending=False).head(8)
    console.print(_frame_table(loo, "Leave one out: mean absolute rank shift of the index"))
    console.print(f"written: {len(written)} files in {out}")


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
    store: Path = StoreOpt,
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the rank intervals in the store."),
) -> None:
    """Monte Carlo rank intervals and Sobol' sensitivity of the index to the uncertain inputs
    of the pipeline file's or the framework's `uncertainty:` section (else the default inputs)."""
    from rich.progress import Progress

    from aicity.uncertainty import run_uncertainty

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
    if not no_store:
        from aicity.store import Store

        with Store(store) as st:
            written["store"] = f"{st.save_uncertainty(result, result.index_code, result.hashes)} in {st.path}"
    if result.defaulted:
        err.print("note: no 'uncertainty:' section in the pipeline or framework; the default inputs were varied "
                  "(weights ±25%, min-max [1, 100] or rank normalisation, arithmetic or geometric aggregation)",
                  highlight=False, markup=False)
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


def _build_or_fail(framework, data, units, pipeline):
    from aicity.build import build as build_index
    return build_index(framework, data, pipeline, units=units)


def _frame_table(frame: pd.DataFrame, title: str, digits: int = 2) -> Table:
    import numpy as np
    import pandas as pd

    from aicity.i18n import value_text
    table = Table(title=title)
    for col in frame.columns:
        table.add_column(str(col), justify="right" if pd.api.types.is_numeric_dtype(frame[col]) else "left")
    # Ranks, counts and years are whole numbers; scores keep `digits`.
    whole = [str(c).startswith(("rank", "of", "year", "n_", "shared")) or str(c).endswith("rank") for c in frame.columns]
    raw_value = [str(c) in ("value", "now", "needed") for c in frame.columns]  # raw data: as published

    def cell(v, w: bool, raw: bool) -> str:
        if not isinstance(v, float):
            return str(v)
        if raw and not np.isnan(v):
            return value_text(v)
        return _fmt(v, 0) if w else _fmt(v, digits)

    for _, row in frame.iterrows():
        table.add_row(*[cell(v, w, r) for v, w, r in zip(row, whole, raw_value, strict=True)])
    return table


@app.command()
def profile(
    city: str = typer.Argument(..., help="Code or name in en/ko/ja (SEL, Seoul, 서울, ソウル)."),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    lang: str = typer.Option("en", "--lang"),
    out: Path = typer.Option(None, "--out", "-o", help="Also write profile.csv, strengths.csv, sources.csv here."),
    intervals: Path = typer.Option(None, "--intervals", help="rank_intervals.csv of an uncertainty run (default: the store's latest on the same data)."),
    store: Path = StoreOpt,
) -> None:
    """A city's scores and ranks at every level, strengths and weaknesses, peers and sources."""
    import pandas as pd

    from aicity.compare import profile as make_profile
    from aicity.store import Store

    result = _build_or_fail(framework, data, units, pipeline)
    ri = pd.read_csv(intervals) if intervals else None
    if ri is None:
        with Store(store) as st:
            found = st.latest_rank_intervals(result.framework.index_code, result.dataset.hashes)
        if found:
            run_id, n, ri = found
            console.print(f"rank intervals: uncertainty run {run_id} ({n:,} samples)")
    p = make_profile(result, city, lang, rank_intervals=ri)
    console.print(f"[bold]{p.name} ({p.unit})[/]: {p.coverage['present']}/{p.coverage['of']} indicators with data")
    levels = p.scores[p.scores.level > 1][["code", "name", "score", "rank", "of"] + [c for c in ("rank_p05", "rank_p95") if c in p.scores]]
    console.print(_frame_table(levels, "Scores and ranks"))
    console.print(_frame_table(p.strengths[["code", "name", "rank", "of", "value", "year", "geo"]], "Strengths"))
    console.print(_frame_table(p.weaknesses[["code", "name", "rank", "of", "value", "year", "geo"]], "Weaknesses"))
    console.print(_frame_table(p.peers, "Nearest peers"))
    if p.coverage["missing"]:
        console.print("Missing (left missing, not estimated): " + ", ".join(p.coverage["missing"]))
    if len(p.sources):
        cols = [c for c in ("indicator", "value", "year", "geo", "publisher", "url") if c in p.sources.columns]
        console.print(_frame_table(p.sources[cols], "Sources of every value", 4))
    if out:
        from aicity.export import atomic_write

        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("profile", p.scores), ("strengths", p.strengths), ("weaknesses", p.weaknesses), ("peers", p.peers), ("sources", p.sources)):
            atomic_write(out / f"{name}.csv", lambda path, f=frame: f.to_csv(path, index=False))
        console.print(f"written: {out}")


@app.command("compare")
def compare_cmd(
    a: str = typer.Argument(...),
    b: str = typer.Argument(...),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    lang: str = typer.Option("en", "--lang"),
    out: Path = typer.Option(Path("out/compare"), "--out", "-o"),
) -> None:
    """Head-to-head: scores per pillar and indicator, the gap, and each indicator's
    contribution to it (contributions.csv, waterfall.html)."""
    from aicity.compare import compare
    from aicity.export import atomic_write

    result = _build_or_fail(framework, data, units, pipeline)
    c = compare(result, a, b, lang)
    fw = result.framework
    na, nb = result.dataset.unit_name(c.a, lang), result.dataset.unit_name(c.b, lang)
    top = c.levels[c.levels.level >= fw.n_levels - 1][["code", "name", "score_a", "rank_a", "score_b", "rank_b", "gap"]]
    console.print(_frame_table(top.rename(columns={"score_a": na, "rank_a": f"{na} rank", "score_b": nb, "rank_b": f"{nb} rank"}), f"{na} vs {nb}"))
    console.print(_frame_table(c.pillar_contributions().rename("contribution").reset_index(), f"Contribution to the gap of {c.gap:.2f} points, by pillar"))
    fav_a, fav_b = c.drivers(5)
    console.print(_frame_table(fav_a[["code", "score_a", "score_b", "contribution"]], f"What favours {na}"))
    console.print(_frame_table(fav_b[["code", "score_a", "score_b", "contribution"]], f"What favours {nb}"))
    out.mkdir(parents=True, exist_ok=True)
    contrib = c.contributions[["code", "level", "pillar", "score_a", "score_b", "contribution"]]
    atomic_write(out / "contributions.csv", lambda p: contrib.to_csv(p, index=False))
    atomic_write(out / "levels.csv", lambda p: c.levels.to_csv(p, index=False))
    import plotly.graph_objects as go

    pc = c.pillar_contributions()
    base = float(c.levels.set_index("code").at[fw.index_code, "score_b"])
    fig = go.Figure(go.Waterfall(x=[nb] + [fw.node(p).name(lang) for p in pc.index] + [na], measure=["absolute"] + ["relative"] * len(pc) + ["total"], y=[base] + pc.tolist() + [0]))
    fig.update_layout(title=f"{nb} → {na}: contributions to the gap")
    atomic_write(out / "waterfall.html", lambda p: p.write_text(fig.to_html(include_plotlyjs=True), encoding="utf-8"))
    console.print(f"written: {out / 'contributions.csv'}, {out / 'waterfall.html'}")


@app.command()
def rank(
    persona: str = typer.Option(None, "--persona", help="entrepreneur, policymaker, citizen or researcher (the framework's personas)."),
    weights: str = typer.Option(None, "--weights", help="Your own weights, e.g. infrastructure=2,industry=1,policy=1,trust=1."),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    lang: str = typer.Option("en", "--lang"),
    top: int = typer.Option(10, "--top"),
) -> None:
    """The ranking under a persona's or your own weights, and why the first city wins."""
    from aicity.personas import persona_weights, suits
    from aicity.weights import parse_weights

    result = _build_or_fail(framework, data, units, pipeline)
    fw = result.framework
    if not persona and not weights:
        table = Table(title="Personas")
        table.add_column("Persona")
        table.add_column("Weights")
        table.add_column("Why")
        for code, p in fw.personas.items():
            table.add_row(f"{code} ({p.name(lang)})", ", ".join(f"{k}={v:g}" for k, v in p.weights.items()), p.why(lang))
        console.print(table)
        return
    w = persona_weights(fw, persona) if persona else parse_weights(fw, weights)
    label = fw.personas[persona].name(lang) if persona else "your weights"
    s = suits(result, w, label, lang, top=top)
    if persona:
        console.print(f"[bold]{label}[/]: {fw.personas[persona].why(lang)}")
    console.print("weights: " + ", ".join(f"{k}={v:g}" for k, v in w.items()))
    print_ranking(s.result, top, lang)
    reasons = s.reasons()
    if len(s.ranking) >= 2 and len(reasons):
        first, second = s.ranking.name.iloc[0], s.ranking.name.iloc[1]
        items = ", ".join(f"{fw.node(r.code).name(lang)} (+{r.contribution:.2f})" for r in reasons.itertuples())
        console.print(f"Which city suits you: [bold]{first}[/]. It leads {second} most through {items}.")


@app.command()
def whatif(
    city: str = typer.Argument(...),
    changes: list[str] = typer.Argument(None, help="INDICATOR=VALUE (raw units), any number."),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    reach_rank: int = typer.Option(None, "--reach-rank", help="What it takes to reach this rank."),
    beat: str = typer.Option(None, "--beat", help="What it takes to pass this city."),
    lang: str = typer.Option("en", "--lang"),
) -> None:
    """New scores and ranks if a city's data changed; with --reach-rank/--beat, what it takes."""
    import pandas as pd

    from aicity.whatif import changes_table, cheapest_set, what_it_takes
    from aicity.whatif import whatif as run_whatif

    result = _build_or_fail(framework, data, units, pipeline)
    fw = result.framework
    unit = result.ranked_unit(city)
    parsed: dict[str, float] = {}
    for item in changes or []:
        if "=" not in item:
            raise InputError([_problem(f"'{item}' is not INDICATOR=VALUE")])
        code, value = item.split("=", 1)
        try:
            parsed[code.strip()] = float(value)
        except ValueError:
            raise InputError([_problem(f"value of '{code}' is not a number: '{value}'")]) from None
    if parsed:
        after = run_whatif(result, unit, parsed)
        table = changes_table(result, after, unit, lang)
        console.print(_frame_table(table[table.level > 1], f"What if {result.dataset.unit_name(unit, lang)}: " + ", ".join(changes)))
    if reach_rank or beat:
        rows = []
        for code in fw.indicators:
            req = what_it_takes(result, unit, code, rank=reach_rank, beat=beat)
            rows.append({"indicator": code, "now": req.current, "needed": req.needed, "note": req.message})
        console.print(_frame_table(pd.DataFrame(rows), "What it takes, one indicator at a time (full rebuilds)", 3))
        cheap = cheapest_set(result, unit, rank=reach_rank, beat=beat)
        verdict = "possible" if cheap.attrs.get("possible") else "not possible even at the best observed scores"
        console.print(_frame_table(cheap, f"Cheapest set of changes in normalised points ({verdict}; normalisation held fixed)"))


@app.command()
def trends(
    framework: Path = FrameworkOpt,
    data: Path = typer.Option(None, "--data", "-d", help="Long data with a year column. Default: the bundled panel."),
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    carry: str = typer.Option("latest", "--carry", help="Missing years: none, latest or linear (flagged either way)."),
    cities: str = typer.Option(None, "--cities", help="Comma-separated cities to show (default: all)."),
    out: Path = typer.Option(Path("out/trends"), "--out", "-o"),
) -> None:
    """An index per year (normalised across years), rank trajectories, momentum and stability."""
    from aicity.export import atomic_write
    from aicity.trends import build_trends

    t = build_trends(framework, data, pipeline, units=units, carry=carry)
    traj = t.trajectories()
    stab, mom = t.stability(), t.momentum()
    if cities:
        keep = []
        for q in cities.split(","):
            keep.append(next((u for u in t.units if u.casefold() == q.strip().casefold() or t.unit_names.get(u, "").casefold() == q.strip().casefold()), q.strip()))
        traj, stab, mom = traj.reindex(keep), stab.reindex(keep), mom.reindex(keep)
    traj.columns = [str(c) for c in traj.columns]
    console.print(_frame_table(traj.reset_index(), "Index rank by year", 0))
    joined = mom[["mean"]].rename(columns={"mean": "momentum (pts/yr)"}).join(stab[["score_volatility", "rank_change"]])
    console.print(_frame_table(joined.reset_index(), "Momentum against stability"))
    out.mkdir(parents=True, exist_ok=True)
    tidy = t.to_frame()
    atomic_write(out / "trends.csv", lambda p: tidy.to_csv(p, index=False))
    summary = mom.add_prefix("momentum_").join(stab)
    atomic_write(out / "momentum_stability.csv", lambda p: summary.to_csv(p))
    console.print(f"written: {out}; carried values are counted in n_carried ({carry})")


@app.command()
def report(
    compare_pair: tuple[str, str] = typer.Option(("Seoul", "Tokyo"), "--compare", help="The two cities: --compare Seoul Tokyo (codes or names)."),
    lang: str = typer.Option("en", "--lang", help="ko, en or ja."),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    claims: Path = typer.Option(None, "--claims", help="Claims YAML (default: the bundled Seoul–Tokyo claims)."),
    panel: Path = typer.Option(None, "--panel", help="Multi-year data for the trends section (default: the bundled panel)."),
    samples: int = typer.Option(2000, "--samples", help="Monte Carlo samples for the rank intervals."),
    out: Path = typer.Option(Path("out/report"), "--out", "-o"),
    formats: str = typer.Option("html,md,xlsx,pdf", "--formats"),
) -> None:
    """The comparative report: report.html (offline), report.pdf, report.md and report.xlsx."""
    from aicity.build import build as build_index
    from aicity.bundled import claims_path, panel_path
    from aicity.report import make_report
    from aicity.trends import build_trends
    from aicity.uncertainty import run_uncertainty

    pair = [c.strip() for c in compare_pair]
    bundled = framework is None and data is None
    with console.status("Building…") as status:
        result = build_index(framework, data, pipeline, units=units)
        ri, n, ua_inputs, ua_default = None, 0, None, False
        if samples:  # the pipeline's uncertain inputs, else the documented default ones
            status.update("Uncertainty…")
            ua = run_uncertainty(framework, data, pipeline, units=units, samples=samples)
            ri, n, ua_inputs, ua_default = ua.rank_intervals(), samples, ua.inputs_raw, ua.defaulted
        tr = None
        panel_file = panel or (panel_path() if bundled and panel_path().exists() else None)
        if panel_file:
            status.update("Trends…")
            tr = build_trends(framework if not bundled else None, panel_file if not bundled or panel else None, pipeline, units=units)
        claims_file = claims or (claims_path() if bundled and claims_path().exists() else False)
        status.update("Writing the report…")
        rep = make_report(result, pair[0], pair[1], lang, claims_path=claims_file, rank_intervals=ri, n_samples=n, trends=tr,
                          uncertainty_inputs=ua_inputs, uncertainty_default=ua_default)
        chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
        unknown = [f for f in chosen if f not in ("html", "md", "xlsx", "pdf")]
        if unknown or not chosen:
            raise InputError([_problem(f"--formats: {', '.join(unknown) or 'none given'}; choose from html, md, xlsx, pdf")])
        written = rep.write(out, chosen)
    console.print(f"[bold]{rep.title}[/]")
    if rep.verdicts:
        claims_table = Table(title="Claims check")
        claims_table.add_column("Verdict", no_wrap=True)
        claims_table.add_column("Claim")
        colour = {"supported": "green", "contradicted": "red", "mixed": "yellow", "not enough data": "dim"}
        for v in rep.verdicts:
            claims_table.add_row(f"[{colour[v.verdict]}]{v.verdict}[/]", v.claim.say(lang))
        console.print(claims_table)
    for kind, path in written.items():
        console.print(f"{kind}: {path}")


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    store: Path = StoreOpt,
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    workers: int = typer.Option(1, "--workers", help="Worker processes (each builds the index at start)."),
) -> None:
    """The web explorer and REST API (OpenAPI at /openapi.json and /docs). Writes need the
    bearer token in $AICITY_TOKEN; CORS stays closed unless $AICITY_CORS_ORIGINS lists origins."""
    import os

    import uvicorn

    os.environ["AICITY_SERVE_ARGS"] = json.dumps({k: str(v) if v else None for k, v in
                                                  {"framework": framework, "data": data, "units": units, "pipeline": pipeline, "store": store}.items()})
    console.print(f"AI City Index explorer on http://{host}:{port}/ (API docs: /docs)")
    uvicorn.run("aicity.web:app_from_env", host=host, port=port, workers=workers, factory=True, log_level="warning")


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
    from aicity.data import find_unit
    fw, ds = _inputs(framework, data, units)
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
    from aicity.store import Store, default_store_path

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
    import pandas as pd

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
