"""`aicity report`: the comparative report of two cities."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from aicity.cli._app import (
    DataOpt,
    FrameworkOpt,
    PipelineOpt,
    ReportLangOpt,
    UnitsOpt,
    app,
    console,
    out_folder,
    problem,
    styled,
)
from aicity.errors import InputError
from aicity.messages import REPORT_HEADINGS, VERDICTS


@app.command()
def report(
    compare_pair: tuple[str, str] = typer.Option(("Seoul", "Tokyo"), "--compare", help="The two cities: --compare Seoul Tokyo (codes or names)."),
    lang: str = ReportLangOpt,
    framework: Path = FrameworkOpt,
    data: Path = DataOpt,
    units: Path = UnitsOpt,
    pipeline: Path = PipelineOpt,
    claims: Path = typer.Option(None, "--claims", help="Claims YAML (default: the bundled Seoul–Tokyo claims)."),
    panel: Path = typer.Option(None, "--panel", help="Multi-year data for the trends section (default: the bundled panel)."),
    samples: int = typer.Option(2000, "--samples", min=0, help="Monte Carlo samples for the rank intervals (0: no uncertainty analysis)."),
    out: Path = typer.Option(Path("out/report"), "--out", "-o", callback=out_folder, help="Folder for the report's files."),
    formats: str = typer.Option("html,md,xlsx,pdf", "--formats", help="Comma-separated: html, md, xlsx, pdf (pdf needs Debian's chromium)."),
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
            raise InputError([problem(f"--formats: {', '.join(unknown) or 'none given'}; choose from html, md, xlsx, pdf")])
        written = rep.write(out, chosen)
    console.print(styled((rep.title, "bold")))
    if rep.verdicts:
        heads = REPORT_HEADINGS[lang]
        claims_table = Table(title=heads["claims"])
        claims_table.add_column(heads["verdict"], no_wrap=True)
        claims_table.add_column(heads["claim"], overflow="fold")
        colour = {"supported": "green", "contradicted": "red", "mixed": "yellow", "not enough data": "dim", "tied": "dim"}
        for v in rep.verdicts:
            claims_table.add_row(styled((VERDICTS[lang][v.verdict], colour[v.verdict])), v.claim.say(lang))
        console.print(claims_table)
    for kind, path in written.items():
        console.print(f"{kind}: {path}")
