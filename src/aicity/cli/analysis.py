"""`aicity audit`, `uncertainty`, `profile`, `compare`, `rank`, `whatif` and `trends`: the
analyses of a built index."""

from __future__ import annotations

import math
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
    build_result,
    console,
    err,
    out_folder,
    problem,
    styled,
)
from aicity.cli.output import fmt, frame_table, print_ranking
from aicity.errors import InputError, Problem


@app.command("audit")
def audit_cmd(
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    out: Path = typer.Option(Path("out/audit"), "--out", "-o", callback=out_folder, help="Folder for the audit's CSV files and audit.xlsx."),
    corr_threshold: float = typer.Option(0.9, "--corr-threshold", help="Flag sibling correlations with |r| above this."),
    weak_threshold: float = typer.Option(0.2, "--weak-threshold", help="Flag a code correlating with its parent below this."),
) -> None:
    """Statistical audit: indicator statistics, correlations, Cronbach's alpha, PCA,
    effective and optimised weights, leave-one-out rank shifts (CSV and audit.xlsx)."""
    import pandas as pd

    from aicity.audit import audit as run_audit

    result = build_result(framework, data, units, pipeline)
    with console.status("Auditing…"):
        report = run_audit(result, corr_threshold=corr_threshold, weak_threshold=weak_threshold)
        written = report.write(out)
    flags = report.correlations[report.correlations.flag.fillna("") != ""] if "flag" in report.correlations else pd.DataFrame()
    console.print(f"{len(report.stats)} indicators; {int((report.stats.flag_skew_kurt == 'OUT').sum())} flagged for skew and kurtosis; "
                  f"{len(flags)} correlation flag(s)")
    alpha = report.cronbach.dropna(subset=["alpha"])
    if len(alpha):
        console.print(frame_table(alpha, "Cronbach's alpha"))
    loo = report.leave_one_out.sort_values("mean_abs_rank_shift", ascending=False).head(8)
    console.print(frame_table(loo, "Leave one out: mean absolute rank shift of the index"))
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
    out: Path = typer.Option(Path("out/uncertainty"), "--out", "-o", callback=out_folder, help="Folder for rank_intervals.csv, sensitivity.csv (with --sobol) and samples.parquet (with --save-samples)."),
    save_samples: bool = typer.Option(False, "--save-samples", help="Also write every sampled score to samples.parquet."),
    top: int = TopOpt,
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
        table.add_row(f"{row.unit_name} ({row.unit})", fmt(row.nominal_rank, 0), fmt(row.mean_rank, 1), fmt(row.median_rank, 1), fmt(row.p05, 1), fmt(row.p95, 1))
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


@app.command()
def profile(
    city: str = typer.Argument(..., help="Code or name in en/ko/ja (SEL, Seoul, 서울, ソウル)."),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    lang: str = LangOpt,
    out: Path = typer.Option(None, "--out", "-o", callback=out_folder, help="Also write profile.csv, strengths.csv, sources.csv here."),
    intervals: Path = typer.Option(None, "--intervals", help="rank_intervals.csv of an uncertainty run (default: the store's latest on the same data)."),
    store: Path = StoreOpt,
) -> None:
    """A city's scores and ranks at every level, strengths and weaknesses, peers and sources."""
    from aicity.compare import profile as make_profile
    from aicity.store import Store
    from aicity.uncertainty import read_rank_intervals

    ri = read_rank_intervals(intervals) if intervals else None  # a bad file stops before the build
    result = build_result(framework, data, units, pipeline)
    if ri is None:
        with Store(store) as st:
            found = st.latest_rank_intervals(result.framework.index_code, result.dataset.hashes)
        if found:
            run_id, n, ri = found
            console.print(f"rank intervals: uncertainty run {run_id} ({n:,} samples)")
    p = make_profile(result, city, lang, rank_intervals=ri)
    console.print(styled((f"{p.name} ({p.unit})", "bold"), f": {p.coverage['present']}/{p.coverage['of']} indicators with data"))
    levels = p.scores[p.scores.level > 1][["code", "name", "score", "rank", "of"] + [c for c in ("rank_p05", "rank_p95") if c in p.scores]]
    console.print(frame_table(levels, "Scores and ranks"))
    def marked(frame):  # a national figure says so on screen (the CSVs keep the plain level)
        return frame.assign(geo=frame["geo"].replace({"country": "country (national figure)"})) if "geo" in frame else frame

    console.print(frame_table(marked(p.strengths[["code", "name", "rank", "of", "value", "year", "geo"]]), "Strengths"))
    console.print(frame_table(marked(p.weaknesses[["code", "name", "rank", "of", "value", "year", "geo"]]), "Weaknesses"))
    console.print(frame_table(p.peers, "Nearest peers"))
    if p.coverage["missing"]:
        console.print("Missing (left missing, not estimated): " + ", ".join(p.coverage["missing"]))
    if len(p.sources):
        cols = [c for c in ("indicator", "value", "year", "geo", "publisher", "url") if c in p.sources.columns]
        console.print(frame_table(marked(p.sources[cols]), "Sources of every value", 4))
    if out:
        from aicity.export import atomic_write, to_csv

        out.mkdir(parents=True, exist_ok=True)
        for name, frame in (("profile", p.scores), ("strengths", p.strengths), ("weaknesses", p.weaknesses), ("peers", p.peers), ("sources", p.sources)):
            atomic_write(out / f"{name}.csv", lambda path, f=frame: to_csv(f, path))
        console.print(f"written: {out}")


@app.command("compare")
def compare_cmd(
    a: str = typer.Argument(...),
    b: str = typer.Argument(...),
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    lang: str = LangOpt,
    out: Path = typer.Option(Path("out/compare"), "--out", "-o", callback=out_folder, help="Folder for levels.csv, contributions.csv and waterfall.html."),
) -> None:
    """Head-to-head: scores per pillar and indicator, the gap, and each indicator's
    contribution to it (contributions.csv, waterfall.html)."""
    from aicity.compare import compare
    from aicity.export import atomic_write, to_csv

    result = build_result(framework, data, units, pipeline)
    c = compare(result, a, b, lang)
    fw = result.framework
    na, nb = result.dataset.unit_name(c.a, lang), result.dataset.unit_name(c.b, lang)
    top = c.headline(fw)[["code", "name", "score_a", "rank_a", "score_b", "rank_b", "gap"]]
    console.print(frame_table(top.rename(columns={"score_a": na, "rank_a": f"{na} rank", "score_b": nb, "rank_b": f"{nb} rank"}), f"{na} vs {nb}"))
    console.print(frame_table(c.pillar_contributions().rename("contribution").reset_index(), f"Contribution to the gap of {c.gap:.2f} points, by pillar"))
    fav_a, fav_b = c.drivers(5)
    console.print(frame_table(fav_a[["code", "score_a", "score_b", "contribution"]], f"What favours {na}"))
    console.print(frame_table(fav_b[["code", "score_a", "score_b", "contribution"]], f"What favours {nb}"))
    out.mkdir(parents=True, exist_ok=True)
    contrib = c.contributions[["code", "level", "pillar", "score_a", "score_b", "contribution"]]
    atomic_write(out / "contributions.csv", lambda p: to_csv(contrib, p))
    atomic_write(out / "levels.csv", lambda p: to_csv(c.levels, p))
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
    lang: str = LangOpt,
    top: int = TopOpt,
) -> None:
    """The ranking under a persona's or your own weights, and why the first city wins."""
    from aicity.personas import persona_weights, suits
    from aicity.weights import parse_weights

    if persona and weights:  # as the API says: one or the other, never one silently dropped
        raise InputError([Problem("--persona", "give a persona or --weights, not both")])
    result = build_result(framework, data, units, pipeline)
    fw = result.framework
    if not persona and not weights:
        table = Table(title="Personas")
        table.add_column("Persona")
        table.add_column("Weights", overflow="fold")
        table.add_column("Why", overflow="fold")
        for code, p in fw.personas.items():
            table.add_row(f"{code} ({p.name(lang)})", ", ".join(f"{k}={v:g}" for k, v in p.weights.items()), p.why(lang))
        console.print(table)
        return
    w = persona_weights(fw, persona) if persona else parse_weights(fw, weights)
    label = fw.personas[persona].name(lang) if persona else "your weights"
    s = suits(result, w, label, lang, top=top)
    if persona:
        console.print(styled((label, "bold"), f": {fw.personas[persona].why(lang)}"))
    console.print("weights: " + ", ".join(f"{k}={v:g}" for k, v in w.items()))
    print_ranking(s.result, top, lang)
    reasons = s.reasons()
    if len(s.ranking) >= 2 and len(reasons):
        first, second = s.ranking.name.iloc[0], s.ranking.name.iloc[1]
        items = ", ".join(f"{fw.node(r.code).name(lang)} (+{r.contribution:.2f})" for r in reasons.itertuples())
        console.print(styled("Which city suits you: ", (first, "bold"), f". It leads {second} most through {items}."))


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
    lang: str = LangOpt,
) -> None:
    """New scores and ranks if a city's data changed; with --reach-rank/--beat, what it takes."""
    import pandas as pd

    from aicity.data import parse_number
    from aicity.whatif import changes_table, cheapest_set, check_target, what_it_takes
    from aicity.whatif import whatif as run_whatif

    if not changes and reach_rank is None and beat is None:
        raise InputError([problem("give INDICATOR=VALUE changes, --reach-rank or --beat")])
    parsed: dict[str, float] = {}
    for item in changes or []:
        if "=" not in item:
            raise InputError([problem(f"'{item}' is not INDICATOR=VALUE")])
        code, value = item.split("=", 1)
        number = parse_number(value.strip())
        if number is None or not math.isfinite(number):
            raise InputError([problem(f"value of '{code}' is not a finite number: '{value}'")])
        if code.strip() in parsed:
            raise InputError([problem(f"'{code.strip()}' is changed twice")])
        parsed[code.strip()] = number
    result = build_result(framework, data, units, pipeline)
    fw = result.framework
    unit = result.ranked_unit(city)
    if reach_rank is not None or beat is not None:
        check_target(result, unit, reach_rank, beat)  # before anything is printed
    if parsed:
        after = run_whatif(result, unit, parsed)
        table = changes_table(result, after, unit, lang)
        console.print(frame_table(table[table.level > 1], f"What if {result.dataset.unit_name(unit, lang)}: " + ", ".join(changes)))
    if reach_rank is not None or beat is not None:
        rows = []
        for code in fw.indicators:
            req = what_it_takes(result, unit, code, rank=reach_rank, beat=beat)
            rows.append({"indicator": code, "now": req.current, "needed": req.needed, "note": req.message})
        console.print(frame_table(pd.DataFrame(rows), "What it takes, one indicator at a time (full rebuilds)", 3))
        cheap = cheapest_set(result, unit, rank=reach_rank, beat=beat)
        verdict = "possible" if cheap.attrs.get("possible") else "not possible even at the best observed scores"
        console.print(frame_table(cheap, f"Cheapest set of changes in normalised points ({verdict}; normalisation held fixed)"))


@app.command()
def trends(
    framework: Path = FrameworkOpt,
    data: Path = typer.Option(None, "--data", "-d", help="Long data with a year column. Default: the bundled panel."),
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    carry: str = typer.Option("latest", "--carry", help="Missing years: none, latest or linear (flagged either way)."),
    cities: str = typer.Option(None, "--cities", help="Comma-separated cities to show (default: all)."),
    out: Path = typer.Option(Path("out/trends"), "--out", "-o", callback=out_folder, help="Folder for trends.csv and momentum_stability.csv."),
) -> None:
    """An index per year (normalised across years), rank trajectories, momentum and stability."""
    from aicity.export import atomic_write, to_csv
    from aicity.trends import build_trends

    t = build_trends(framework, data, pipeline, units=units, carry=carry)
    for caveat in t.caveats():  # what the trend rests on, said before any trajectory is shown
        console.print(styled(("Note: ", "bold"), caveat))
    traj = t.trajectories()
    stab, mom = t.stability(), t.momentum()
    if cities:
        keep = [t.unit(q) for q in cities.split(",") if q.strip()]  # an unknown city is an error, never a blank row
        traj, stab, mom = traj.reindex(keep), stab.reindex(keep), mom.reindex(keep)
    traj.columns = [str(c) for c in traj.columns]
    console.print(frame_table(traj.reset_index(), "Index rank by year", 0))
    joined = mom[["mean"]].rename(columns={"mean": "momentum (pts/yr)"}).join(stab[["score_volatility", "rank_change"]])
    console.print(frame_table(joined.reset_index(), "Momentum against stability"))
    out.mkdir(parents=True, exist_ok=True)
    tidy = t.to_frame()
    atomic_write(out / "trends.csv", lambda p: to_csv(tidy, p))
    summary = mom.add_prefix("momentum_").join(stab)
    atomic_write(out / "momentum_stability.csv", lambda p: to_csv(summary, p, index=True))
    console.print(f"written: {out}; carried values are counted in n_carried ({carry})")
