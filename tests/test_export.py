"""results.csv written in parts at once: the same bytes as one write, and nothing left behind."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import aicity
from aicity import export
from aicity.export import results_table, write_csv_parts


def _tricky_table(n: int = 1_001) -> pa.Table:
    rng = np.random.default_rng(3)
    units = [f'u{i}, "quoted"\nline' if i % 97 == 0 else f"u{i}" for i in range(37)]
    scores = rng.normal(size=n)
    scores[rng.random(n) < 0.1] = np.nan
    return pa.table({
        "unit": pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, len(units), n).astype(np.int32)), pa.array(units)),
        "score": pa.array(scores, from_pandas=True),
        "flag": rng.random(n) < 0.5,
        "count": rng.integers(0, 200, n),
    })


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_a_csv_in_parts_is_the_same_bytes_as_one_write(tmp_path, parts):
    for name, table in {"tricky": _tricky_table(), "results": results_table(aicity.build())}.items():
        whole, split = tmp_path / f"{name}-whole.csv", tmp_path / f"{name}-{parts}.csv"
        pacsv.write_csv(table, whole)
        write_csv_parts(table, split, parts=parts)
        assert split.read_bytes() == whole.read_bytes(), name
    assert sorted(p.name for p in tmp_path.iterdir() if ".part" in p.name) == []


@pytest.mark.parametrize("parts", [1, 3])
def test_larger_csv_batches_write_the_same_bytes_across_batch_boundaries(tmp_path, monkeypatch, parts):
    monkeypatch.setattr(export, "CSV_BATCH_ROWS", 64)  # 1,001 rows: many batches, a short last one
    table = _tricky_table()
    whole, split = tmp_path / "whole.csv", tmp_path / "batched.csv"
    pacsv.write_csv(table, whole)  # Arrow's default batches (1,024 rows): one batch here
    write_csv_parts(table, split, parts=parts)
    assert split.read_bytes() == whole.read_bytes()


def test_a_long_table_is_split_by_default_and_a_short_one_is_not(tmp_path, monkeypatch):
    calls: list[int] = []
    real = pacsv.write_csv

    def counting(table, path, *args):
        calls.append(len(table))
        real(table, path, *args)

    monkeypatch.setattr(export.pacsv, "write_csv", counting)
    monkeypatch.setattr(export.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(export, "CSV_PART_ROWS", 400)
    write_csv_parts(_tricky_table(1_001), tmp_path / "long.csv")
    assert sorted(calls) == [500, 501]
    calls.clear()
    write_csv_parts(_tricky_table(399), tmp_path / "short.csv")
    assert calls == [399]


def test_a_part_that_fails_fails_the_write_and_leaves_no_part_files(tmp_path, monkeypatch):
    real = pacsv.write_csv

    def failing(table, path, options=None):
        if options is not None and not options.include_header:
            raise OSError("disk full")
        real(table, path)

    monkeypatch.setattr(export.pacsv, "write_csv", failing)
    with pytest.raises(OSError, match="disk full"):
        write_csv_parts(_tricky_table(), tmp_path / "r.csv", parts=3)
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []


def test_an_append_that_fails_after_the_parts_are_written_leaves_no_part_files(tmp_path, monkeypatch):
    written: list[str] = []

    def failing_append(source, out):
        written.extend(sorted(p.name for p in tmp_path.iterdir() if ".part" in p.name))
        raise OSError("disk full")

    monkeypatch.setattr(export, "_append", failing_append)
    with pytest.raises(OSError, match="disk full"):
        write_csv_parts(_tricky_table(), tmp_path / "r.csv", parts=3)
    assert written == ["r.csv.part1", "r.csv.part2"]  # the parts were there when it failed...
    assert [p.name for p in tmp_path.iterdir() if ".part" in p.name] == []  # ...and are gone


def test_without_sendfile_the_parts_are_copied_through_python(tmp_path, monkeypatch):
    table = _tricky_table()
    pacsv.write_csv(table, tmp_path / "whole.csv")
    monkeypatch.delattr(export.os, "sendfile")  # as on Windows
    write_csv_parts(table, tmp_path / "split.csv", parts=3)
    assert (tmp_path / "split.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


@pytest.mark.parametrize("shape", [(0, 3), (1, 4), (7, 0), (2_050, 13)])
@pytest.mark.parametrize("rows", [1, 3, 1_024, 10_000])
def test_a_json_matrix_in_pieces_is_what_one_dump_gives(shape, rows):
    import orjson

    rng = np.random.default_rng(sum(shape) + rows)
    a = np.asfortranarray(rng.normal(size=shape) * 10.0 ** rng.integers(-5, 9, size=shape))
    a[rng.random(shape) < 0.1] = np.nan
    whole = orjson.dumps(np.ascontiguousarray(a), option=orjson.OPT_SERIALIZE_NUMPY)
    assert b"".join(export.matrix_json(a, rows)) == whole
    decoded = orjson.loads(whole) if shape[0] else []
    assert len(decoded) == shape[0]
