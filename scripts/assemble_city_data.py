"""Write the bundled city data set from its staged sources.

    python scripts/assemble_city_data.py

Reads `src/aicity/data/citylevel/` (ranking lists, Oxford Economics ranks, national values,
population) and `src/aicity/data/derived/values.csv` (counts from record files, made by
`aicity derive --bundled`), applies the rules in `aicity.citylevel` (ranks as percentiles,
absence from a complete top-N list, one edition per indicator, growth of the paper counts),
and writes `src/aicity/data/values.csv` and `src/aicity/data/panel.csv`. A test rebuilds both
in memory and fails when the files drift from their sources.
"""

from __future__ import annotations

from pathlib import Path

from aicity.citylevel import assemble

DATA = Path(__file__).resolve().parents[1] / "src" / "aicity" / "data"


def main() -> None:
    values, panel = assemble(DATA)
    values.to_csv(DATA / "values.csv", index=False, lineterminator="\n")
    panel.to_csv(DATA / "panel.csv", index=False, lineterminator="\n")
    print(f"values.csv: {len(values)} rows, {values['indicator'].nunique()} indicators, {values['unit'].nunique()} units; "
          f"panel.csv: {len(panel)} rows")


if __name__ == "__main__":
    main()
