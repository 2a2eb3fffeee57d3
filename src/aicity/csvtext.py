"""Reading a small CSV as text: every cell a string, nothing coerced, and no row wider than the
header, nor narrower.

pandas, given a header shorter than every data row (a value holding an unquoted comma on each
line), takes the extra leading fields as an index and shifts every column silently; this reader
takes the header as the first row, so such a row is an error naming its line instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_WIDTH = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def read_csv_text(path: str | Path, encoding: str = "utf-8-sig") -> pd.DataFrame:
    """The CSV's rows under its header, every cell as text ('' where empty). A row with more
    fields than the header, or a header naming a column twice, raises pandas' ParserError with
    the line; a file without even a header raises EmptyDataError. `utf-8-sig` reads a
    spreadsheet's byte-order mark as no part of the first column's name."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[], header=None, encoding=encoding)
    except pd.errors.ParserError as exc:
        m = _WIDTH.search(str(exc))
        if m is None:
            raise
        width, line, saw = m.groups()
        raise pd.errors.ParserError(f"line {line} has {saw} fields, the header {width} "
                                    f"(a value holding a comma needs double quotes)") from None
    _check_narrow_rows(path, encoding, frame.shape[1])
    header = [str(h).strip() for h in frame.iloc[0]]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise pd.errors.ParserError(f"the header names column(s) {', '.join(repr(h) for h in twice)} more than once")
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = header
    return body


def _check_narrow_rows(path: str | Path, encoding: str, width: int) -> None:
    """pandas fills a row with fewer fields than the header with '' (as empty cells), so a
    ragged row would pass for one with empty cells: counted here, by the csv module's
    reading of the same quoting rules."""
    import csv

    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        for row in reader:
            if row and len(row) < width:
                raise pd.errors.ParserError(f"line {reader.line_num} has {len(row)} fields, the header {width} "
                                            f"(every row needs a field for each column, empty ones included)")
