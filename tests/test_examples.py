"""The worked examples in examples/ reproduce their published results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import aicity

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_hdi_reproduces_undp_values_and_order():
    d = EXAMPLES / "hdi"
    r = aicity.build(d / "framework.yaml", d / "data.csv", units=d / "units.csv")
    expected = pd.read_csv(d / "expected.csv").set_index("unit")
    ours = r.scores["HDI"].loc[expected.index]
    # published to 3 decimals: ours must round to exactly that
    np.testing.assert_array_equal(np.round(ours.to_numpy(), 3), expected.hdi_published.to_numpy())
    order = expected.hdi_rank_published.rank(method="min").to_numpy()
    np.testing.assert_array_equal(r.ranks["HDI"].loc[expected.index].to_numpy(), order)
    # the parts that make it the HDI: the cap at 18 years, the log of income, each group's own mean
    assert r.scores.at["NOR", "eys"] == 1.0  # 18.64 years capped
    gni = 69432.78669
    assert r.scores.at["CHE", "gnipc"] == pytest.approx((np.log(gni) - np.log(100)) / (np.log(75000) - np.log(100)))
    assert r.scores.at["CHE", "education"] == pytest.approx((r.scores.at["CHE", "eys"] + r.scores.at["CHE", "mys"]) / 2)
    parts = r.scores.loc["CHE", ["health", "education", "income"]].to_numpy()
    assert r.scores.at["CHE", "HDI"] == pytest.approx(np.prod(parts) ** (1 / 3))


def test_topsis_reproduces_hwang_and_yoon():
    d = EXAMPLES / "topsis"
    r = aicity.build(d / "framework.yaml", d / "data.csv")
    expected = pd.read_csv(d / "expected.csv").set_index("unit")
    np.testing.assert_allclose(r.scores["closeness"].loc[expected.index], expected.closeness_published, atol=1e-3)
    np.testing.assert_array_equal(r.ranks["closeness"].loc[expected.index], expected.rank_published)


def test_examples_build_from_the_command_line(tmp_path):
    from aicity.cli import app

    d = EXAMPLES / "hdi"
    res = CliRunner().invoke(app, ["build", "-f", str(d / "framework.yaml"), "-d", str(d / "data.csv"),
                                   "--units", str(d / "units.csv"), "--out", str(tmp_path), "--no-store"])
    assert res.exit_code == 0, res.output
    out = pd.read_csv(tmp_path / "results.csv")
    assert set(out.unit) == {"CHE", "NOR", "KOR", "JPN", "CHN", "IND", "NGA", "NER"}


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        ("en", ["GNI per capita (natural logarithm)", "Human Development Index by geometric means", "rounded to 3 decimals"]),
        ("ko", ["1인당 국민총소득(자연로그)", "다만 인간개발지수는 기하평균으로 집계했다.", "소수점 이하 3자리"]),
        ("ja", ["1人当たり国民総所得（自然対数）", "ただし、人間開発指数は幾何平均で集計した。", "小数第3位"]),
    ],
)
def test_the_hdi_reports_method_says_what_the_run_did(lang, phrases):
    import datetime as dt

    from aicity.report import make_report

    d = EXAMPLES / "hdi"
    r = aicity.build(d / "framework.yaml", d / "data.csv", units=d / "units.csv")
    rep = make_report(r, "KOR", "JPN", lang, today=dt.date(2026, 11, 30))
    method = " ".join(p for s in rep.sections if s.key == "method" for p in s.paragraphs)
    for phrase in phrases:
        assert phrase in method
    # national figures of a country index are no proxies
    assert "Country-level figures stand in" not in method and "국가 단위 수치로 대신" not in method
