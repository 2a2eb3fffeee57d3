"""Ranks as inputs, absence from a top-N list, and the geography rules of a framework."""

from __future__ import annotations

import pandas as pd
import pytest

from aicity.citylevel import RankedList, rank_percentile, ranked_rows
from aicity.errors import InputError
from aicity.framework import framework_from_dict


def test_rank_percentile_by_hand():
    assert rank_percentile(1, 40) == 100.0
    assert rank_percentile(20, 40) == pytest.approx(52.5)  # 100 * 21 / 40
    assert rank_percentile(40, 40) == pytest.approx(2.5)
    assert rank_percentile(41, 40) == 0.0  # below the last rank
    assert rank_percentile(3, 1000) == pytest.approx(99.8)
    with pytest.raises(ValueError):
        rank_percentile(42, 40)
    with pytest.raises(ValueError):
        rank_percentile(0, 40)


UNITS = pd.DataFrame({"name_en": ["Alpha", "Beta", "Gamma", "Delta"]}, index=pd.Index(["A", "B", "G", "D"], name="code"))


def _list(complete: bool, n: int = 4) -> RankedList:
    entries = pd.DataFrame({
        "rank": [1, 2, 2, 4],
        "name": ["Alpha", "Beta-Gamma cluster", "Elsewhere", "Beta"],
        "unit": ["A", "B G", "", "B"],
        "publisher": "P", "source": "S", "url": "https://example.org/list", "quote": ["q1", "q2", "q3", "q4"], "note": "",
    })
    return RankedList("x_rank", 2025, n, "cluster", entries.head(n), complete, "clusters")


def test_ranked_rows_score_percentiles_best_entry_and_absence():
    rows = ranked_rows(_list(complete=True), UNITS).set_index("unit")
    assert rows.at["A", "value"] == 100.0
    # B appears twice (2nd as part of a cluster, 4th alone): the best rank counts
    assert rows.at["B", "value"] == pytest.approx(75.0)  # 100 * (4 + 1 - 2) / 4
    assert rows.at["G", "value"] == pytest.approx(75.0)
    assert rows.at["D", "value"] == 0.0 and "Absent from the complete top 4" in rows.at["D", "note"]
    assert "Rank 2 of 4" in rows.at["B", "note"] and rows.at["B", "geo"] == "cluster"
    assert set(rows["year"]) == {2025}


def test_absence_from_an_incomplete_list_stays_missing():
    rows = ranked_rows(_list(complete=False), UNITS)
    assert set(rows["unit"]) == {"A", "B", "G"}


def test_a_complete_list_must_hold_n_entries_and_ranks_in_range():
    short = RankedList("x_rank", 2025, 5, "city", _list(True).entries, True, "cities")
    with pytest.raises(InputError, match="holds 4 of 5 entries"):
        ranked_rows(short, UNITS)
    bad = _list(True).entries.assign(rank=[1, 2, 3, 9])
    with pytest.raises(InputError, match=r"ranks must lie in 1\.\.4"):
        ranked_rows(RankedList("x_rank", 2025, 4, "city", bad, True, "cities"), UNITS)
    unknown = _list(True).entries.assign(unit=["A", "Z", "", "B"])
    with pytest.raises(InputError, match="unit 'Z'"):
        ranked_rows(RankedList("x_rank", 2025, 4, "city", unknown, True, "cities"), UNITS)


def _fw(national_geo: str = "country", city_geo: str = "city") -> dict:
    return {
        "index": {"code": "I"},
        "groups": [{"code": "CITY", "parent": "I"}, {"code": "NAT", "parent": "I", "national": True, "weight": 0.25}],
        "indicators": [
            {"code": "c1", "parent": "CITY", "geo": city_geo},
            {"code": "n1", "parent": "NAT", "geo": national_geo},
        ],
    }


def test_framework_geography_rules():
    fw = framework_from_dict(_fw())
    assert fw.is_national("n1") and fw.is_national("NAT") and not fw.is_national("c1")
    assert fw.nominal_share("NAT") == pytest.approx(0.2)  # 0.25 / 1.25
    with pytest.raises(InputError, match="below the national group 'NAT' but its geo is metro"):
        framework_from_dict(_fw(national_geo="metro"))
    with pytest.raises(InputError, match="country-level but not below a national group"):
        framework_from_dict(_fw(city_geo="country"))
    with pytest.raises(InputError, match="unknown geo 'town'"):
        framework_from_dict(_fw(city_geo="town"))
    spec = _fw()
    spec["groups"][0]["geo"] = "city"
    with pytest.raises(InputError, match="unknown key 'geo' in group 'CITY'"):
        framework_from_dict(spec)


def test_a_value_measured_at_another_level_is_an_error(tmp_path):
    from aicity.data import load_data

    fw = framework_from_dict(_fw())
    path = tmp_path / "v.csv"
    path.write_text("unit,indicator,value,year,geo\nA,c1,1,2024,city\nA,n1,2,2024,country\nB,c1,3,2024,country\nB,n1,4,2024,country\n")
    with pytest.raises(InputError) as err:
        load_data(path, fw)
    text = str(err.value)
    assert "'c1' is measured at city level (framework) but this value's geo is 'country'" in text and "row 4" in text


def test_a_framework_restricted_to_some_indicators_drops_the_empty_groups():
    spec = _fw()
    spec["personas"] = {"p": {"names": {"en": "P"}, "weights": {"CITY": 2, "NAT": 3}}}
    fw = framework_from_dict(spec).restricted(["c1"])
    assert fw.indicators == ["c1"] and fw.codes == ["c1", "CITY", "I"]
    assert fw.personas["p"].weights == {"CITY": 2}
    assert "restricted to 1 indicators" in fw.source


def test_ranks_read_as_text_sort_as_numbers():
    """Lists are read as text; a unit listed at 9 and at 10 takes 9, not the "10" that sorts first."""
    entries = pd.DataFrame({"rank": ["10", "9"], "name": ["B-west", "B-east"], "unit": ["B", "B"],
                            "publisher": "P", "source": "S", "url": "https://example.org", "quote": "q", "note": ""})
    rows = ranked_rows(RankedList("x", 2025, 10, "city", entries, False, "cities"), UNITS).set_index("unit")
    assert rows.at["B", "value"] == pytest.approx(20.0)  # 100 * (10 + 1 - 9) / 10
