"""Which framework and which data a command works on: the one rule, in one place.

- neither given: the bundled Global AI City Index (its framework and its values);
- a framework without data: an error. The bundled values belong to the bundled framework, so
  reading them against another framework would report every row as unknown;
- data without a framework: the data is read against the bundled framework (values for the
  bundled indicators, e.g. an updated copy of the bundled data set);
- both: as given.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aicity.data import Dataset, load_data
from aicity.errors import InputError, Problem
from aicity.framework import Framework, load_framework

FrameworkSource = str | Path | dict | Framework | None
DataSource = str | Path | Dataset | pd.DataFrame | None


def resolve_inputs(
    framework: FrameworkSource,
    data: DataSource,
    units: str | Path | pd.DataFrame | None = None,
    *,
    bundled_data: Path | None = None,
) -> tuple[Framework, Dataset]:
    """The framework and data set to work on (see the module's rule). `bundled_data` replaces
    the bundled values as the default data (the trends use the bundled panel)."""
    if framework is not None and data is None:
        shown = str(framework) if isinstance(framework, str | Path) else "the framework given"
        raise InputError([Problem(shown, "a framework needs its data: give the data file too (--data / data=); "
                                         "the bundled values belong to the bundled framework")])
    fw = load_framework(framework)
    if data is None and bundled_data is not None:
        from aicity.bundled import units_path

        return fw, load_data(bundled_data, fw, units if units is not None else units_path())
    try:
        return fw, load_data(data, fw, units)
    except InputError as exc:
        if framework is None and data is not None:  # the data may belong to another index
            hint = Problem(str(data) if isinstance(data, str | Path) else "data",
                           "(read against the bundled framework's indicators, as no framework was given; "
                           "for your own index give its framework too: --framework / framework=)")
            raise InputError([*exc.problems, hint]) from None
        raise
