"""Writing a result to files: tidy CSV (full precision), JSON, and an XLSX workbook for analysts.

Every file is written beside its target and moved into place, so an interrupted write never
leaves half a file where a complete one was.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
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


def write_csv(result: IndexResult, path: Path, group: str | None = None) -> None:
    table = pa.Table.from_pandas(result.to_frame(group=group), preserve_index=False)
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
                result.table(level).to_excel(xl, sheet_name=name)
            result.stages["raw"].to_excel(xl, sheet_name="Data")
            imputed = result.imputed.stack()
            imputed = imputed[imputed].reset_index()
            if len(imputed):
                imputed.columns = ["unit", "indicator", "imputed"]
                imputed.to_excel(xl, sheet_name="Imputed", index=False)
            fw.to_frame().to_excel(xl, sheet_name="Metadata", index=False)
            obs = result.dataset.observations
            obs.to_excel(xl, sheet_name="Sources", index=False)
            if len(result.treatment):
                result.treatment.to_excel(xl, sheet_name="Treatment", index=False)
            result.screened_out.to_excel(xl, sheet_name="Screened out", index=False)
            if len(result.bod_weights):
                result.bod_weights.to_excel(xl, sheet_name="BoD weights", index=False)
            spec = pd.DataFrame(
                [{"step": s, "parameters": json.dumps(p, ensure_ascii=False)} for s, p in result.spec]
            )
            spec.to_excel(xl, sheet_name="Spec", index=False)

    atomic_write(path, write)


def write_outputs(result: IndexResult, out: Path, *, xlsx: str = "auto", group: str | None = None) -> dict[str, Path | str]:
    """results.csv, results.json and (unless too large under `auto`) results.xlsx in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path | str] = {}
    write_csv(result, out / "results.csv", group=group)
    written["csv"] = out / "results.csv"
    write_json(result, out / "results.json")
    written["json"] = out / "results.json"
    if len(result.bod_weights):  # benefit of the doubt: each unit's own weights
        atomic_write(out / "bod_weights.csv", lambda p: result.bod_weights.to_csv(p, index=False))
        written["bod_weights"] = out / "bod_weights.csv"
    cells = xlsx_cells(result)
    if xlsx == "always" or (xlsx == "auto" and cells <= XLSX_AUTO_MAX_CELLS):
        write_xlsx(result, out / "results.xlsx")
        written["xlsx"] = out / "results.xlsx"
    elif xlsx == "auto":
        written["xlsx"] = f"skipped: {cells:,} cells (over {XLSX_AUTO_MAX_CELLS:,}); use --xlsx always"
    return written
