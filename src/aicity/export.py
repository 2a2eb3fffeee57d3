"""Writing a result to files: tidy CSV (full precision), JSON, and an XLSX workbook for analysts.

Every file is written beside its target and moved into place, so an interrupted write never
leaves half a file where a complete one was. A build's files are written together
(`staged`): all into a fresh folder inside the output folder, then moved into place only
once every one of them is complete, so a build that fails midway leaves the previous outputs
exactly as they were. Only the files a build writes are replaced; nothing else in the output
folder is touched.

Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return
first) is written with a leading `'` in every CSV and XLSX file (`neutralise`), as OWASP
recommends for spreadsheet exports; numbers stay numbers.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from aicity.result import IndexResult

# openpyxl writes roughly 100k cells a second; past this a workbook would dominate the build.
XLSX_AUTO_MAX_CELLS = 1_000_000


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- text a spreadsheet must not run --------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The one rule for text in spreadsheet exports (OWASP, CSV injection): text beginning
    with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel,
    LibreOffice or Sheets show it as text and never run it as a formula; anything else,
    numbers included (a negative number is a number), is returned unchanged.

        >>> neutralise('=HYPERLINK("http://x","y")'), neutralise("-3"), neutralise(-3), neutralise("Seoul")
        ('\'=HYPERLINK("http://x","y")', "'-3", -3, 'Seoul')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _safe_values(values: pd.Series | pd.Index) -> pd.Series | pd.Index:
    if isinstance(values.dtype, pd.CategoricalDtype):
        if not any(isinstance(c, str) and c.startswith(FORMULA_STARTS) for c in values.dtype.categories):
            return values
        return values.astype(object).map(neutralise)
    if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
        return values  # numbers, booleans, dates: never text
    try:
        risky = values.str.startswith(FORMULA_STARTS, na=False)
    except AttributeError:  # no text at all (e.g. only None)
        return values
    risky = np.asarray(risky, dtype=bool)
    if not risky.any():
        return values
    return values.map(neutralise)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `neutralise` applied to every text cell, column label and index label
    (the frame itself is left as it was)."""
    out = frame.copy(deep=False)
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        safe = _safe_values(col)
        if safe is not col:
            out.isetitem(i, safe)
    if not isinstance(out.columns, pd.MultiIndex):
        out.columns = pd.Index([neutralise(c) for c in out.columns], name=neutralise(out.columns.name))
    if not isinstance(out.index, pd.MultiIndex):
        out.index = _safe_values(out.index).rename(neutralise(out.index.name))
    return out


def to_excel(frame: pd.DataFrame, writer: pd.ExcelWriter, sheet_name: str, index: bool = True) -> None:
    """`DataFrame.to_excel` with every text cell written as text (`safe_frame`): no cell of an
    export is ever a formula."""
    safe_frame(frame).to_excel(writer, sheet_name=sheet_name, index=index)


def to_csv(frame: pd.DataFrame, path: Path, index: bool = False) -> None:
    """`DataFrame.to_csv` with every text cell neutralised (`safe_frame`)."""
    safe_frame(frame).to_csv(path, index=index)


# -- a build's files, moved into place together --------------------------------------------


class Staging:
    """Output files written into a fresh folder inside `out` (the same file system, so moving
    them is a rename) and moved into place together by `commit`. Write each file to
    `path(name)`; `final(name)` is where it will be."""

    def __init__(self, out: Path):
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".aicity-staging-", dir=out))
        self.names: list[str] = []

    def path(self, name: str) -> Path:
        if name not in self.names:
            self.names.append(name)
        return self.dir / name

    def final(self, name: str) -> Path:
        return self.out / name

    def commit(self) -> None:
        """Move every staged file into place. Should a move fail, the files already moved are
        put back as they were (the previous file, or none), so the folder holds either all
        the new files or all the old ones."""
        backups = self.dir / ".previous"
        backups.mkdir()
        umask = os.umask(0)
        os.umask(umask)
        moved: list[tuple[str, bool]] = []
        try:
            for name in self.names:
                src = self.dir / name
                if not src.exists():
                    continue
                os.chmod(src, 0o666 & ~umask)
                target = self.out / name
                had = target.exists()
                if had:
                    _keep(target, backups / name)
                os.replace(src, target)
                moved.append((name, had))
        except BaseException:
            for name, had in reversed(moved):
                if had:
                    os.replace(backups / name, self.out / name)
                else:
                    (self.out / name).unlink(missing_ok=True)
            raise
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _keep(target: Path, backup: Path) -> None:
    """A copy of the previous file to put back should the commit fail (a hard link: free)."""
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)


@contextmanager
def staged(out: Path) -> Iterator[Staging]:
    """A `Staging` for `out`: committed when the block ends, discarded (the previous outputs
    untouched) when it raises."""
    stage = Staging(out)
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise
    stage.commit()


def write_csv(result: IndexResult, path: Path, group: str | None = None) -> None:
    table = pa.Table.from_pandas(safe_frame(result.to_frame(group=group)), preserve_index=False)
    atomic_write(path, lambda p: pacsv.write_csv(table, p))


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def result_json(result: IndexResult, matrices: bool = True) -> dict[str, Any]:
    """Everything but the big matrices, which `write_json` streams in with a C encoder."""
    fw = result.framework
    codes = result.codes

    def matrix(a: np.ndarray) -> list[list[float | None]]:
        return [[_clean(v) for v in row] for row in a.tolist()] if matrices else []

    return {
        "index": fw.index_code,
        "spec": result.spec_dict(),
        "units": [{"code": u, "name": result.dataset.unit_name(u)} for u in result.units],
        "codes": [{"code": c, "level": fw.levels[c], "parent": fw.node(c).parent, "name": fw.node(c).name()} for c in codes],
        "scores": matrix(result.scores_array),
        "ranks": matrix(result.ranks_array),
        "imputed": {c: [u for u, flag in zip(result.units, result.imputed_array[:, j], strict=True) if flag] for j, c in enumerate(fw.indicators)},
        "screened_out": result.screened_out.to_dict(orient="records"),
        "warnings": result.warnings,
        **({"bod_weights": result.bod_weights.to_dict(orient="records")} if len(result.bod_weights) else {}),
    }


def _matrix_json(a: np.ndarray) -> str:
    # pandas' C JSON encoder: full 15-digit precision, NaN as null, ~20x faster than json.dumps
    # on a million cells.
    return pd.DataFrame(a).to_json(orient="values", double_precision=15)


def write_json(result: IndexResult, path: Path) -> None:
    """results.json: units, codes, spec, warnings, and scores/ranks as units x codes matrices."""
    payload = result_json(result, matrices=False)
    head = json.dumps(payload, ensure_ascii=False, allow_nan=False, default=str)
    text = (
        head.replace('"scores": []', '"scores": ' + _matrix_json(result.scores_array), 1)
        .replace('"ranks": []', '"ranks": ' + _matrix_json(result.ranks_array), 1)
    )
    atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def xlsx_cells(result: IndexResult) -> int:
    return result.scores_array.size * 2 + result.stages["raw"].size


def write_xlsx(result: IndexResult, path: Path) -> None:
    """A sheet per level (scores and ranks), the raw data with imputed cells listed, metadata,
    sources, treatment and screening reports, and the spec."""
    fw = result.framework

    def write(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as xl:
            for level in range(fw.n_levels, 0, -1):
                name = "Index" if level == fw.n_levels else ("Indicators" if level == 1 else f"Level {level}")
                to_excel(result.table(level), xl, sheet_name=name)
            to_excel(result.stages["raw"], xl, sheet_name="Data")
            imputed = result.imputed.stack()
            imputed = imputed[imputed].reset_index()
            if len(imputed):
                imputed.columns = ["unit", "indicator", "imputed"]
                to_excel(imputed, xl, sheet_name="Imputed", index=False)
            to_excel(fw.to_frame(), xl, sheet_name="Metadata", index=False)
            obs = result.dataset.observations
            to_excel(obs, xl, sheet_name="Sources", index=False)
            if len(result.treatment):
                to_excel(result.treatment, xl, sheet_name="Treatment", index=False)
            to_excel(result.screened_out, xl, sheet_name="Screened out", index=False)
            if len(result.bod_weights):
                to_excel(result.bod_weights, xl, sheet_name="BoD weights", index=False)
            spec = pd.DataFrame(
                [{"step": s, "parameters": json.dumps(p, ensure_ascii=False)} for s, p in result.spec]
            )
            to_excel(spec, xl, sheet_name="Spec", index=False)

    atomic_write(path, write)


def write_outputs(result: IndexResult, out: Path | Staging, *, xlsx: str = "auto", group: str | None = None) -> dict[str, Path | str]:
    """results.csv, results.json, bod_weights.csv (benefit of the doubt) and (unless too large
    under `auto`) results.xlsx in `out`, moved into place together once all are written (or
    into a `Staging` the caller commits)."""
    if not isinstance(out, Staging):
        with staged(out) as stage:
            return write_outputs(result, stage, xlsx=xlsx, group=group)
    stage = out
    written: dict[str, Path | str] = {}
    write_csv(result, stage.path("results.csv"), group=group)
    written["csv"] = stage.final("results.csv")
    write_json(result, stage.path("results.json"))
    written["json"] = stage.final("results.json")
    if len(result.bod_weights):  # benefit of the doubt: each unit's own weights
        to_csv(result.bod_weights, stage.path("bod_weights.csv"))
        written["bod_weights"] = stage.final("bod_weights.csv")
    cells = xlsx_cells(result)
    if xlsx == "always" or (xlsx == "auto" and cells <= XLSX_AUTO_MAX_CELLS):
        write_xlsx(result, stage.path("results.xlsx"))
        written["xlsx"] = stage.final("results.xlsx")
    elif xlsx == "auto":
        written["xlsx"] = f"skipped: {cells:,} cells (over {XLSX_AUTO_MAX_CELLS:,}); use --xlsx always"
    return written
