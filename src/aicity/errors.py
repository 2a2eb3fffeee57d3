"""Input errors that name the file, row, column and reason, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input. `row` is the line number a spreadsheet would show
    (the header is row 1), so users can jump straight to it."""

    file: str
    reason: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


class InputError(ValueError):
    """Raised with every problem found in an input, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:200])
        more = len(self.problems) - 200
        if more > 0:
            shown += f"\n  ... and {more} more"
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{len(self.problems)} {noun} found:\n{shown}")


class UnitNotFound(InputError):
    """No unit has that code or name (the web answers 404)."""


class UnitNotRanked(InputError):
    """The unit exists but was screened out of this build, so it has no scores (404 on the web)."""


class PipelineError(ValueError):
    """A method cannot run on the data it was given (e.g. a geometric mean of a zero)."""
