"""Statistical audit of a built index: the checks a reviewer runs before trusting a ranking.

`audit(result)` returns an `Audit` of six tables, each matching COINr 1.1.14 wherever COINr
computes the same thing (indicator statistics `get_stats`, correlation flags `get_corr_flags`,
`get_cronbach`, `get_PCA`, `get_eff_wts`, `get_opt_weights`), plus a leave-one-out rank
analysis. Everything works on arrays already in the `IndexResult`, so an audit of COINr's
ASEM example takes a few tens of milliseconds.

Tables (names are also the CSV file names and XLSX sheet names):

- `stats`: per indicator, on the raw data (before denomination, as COINr's `stats_Raw`) of the
  units kept: availability, moments, zeros, unique values, outlier counts and flags.
- `correlations`: long table of Pearson and Spearman correlations (pairwise complete) within
  each level and between each code and each of its ancestors, with flags.
- `cronbach`: Cronbach's alpha of the indicators under each group (normalised data).
- `pca`: per group, a correlation PCA of its children (and of all indicators for the index).
- `effective_weights`: nominal, effective and correlation-balancing optimised weights.
- `leave_one_out`: how far the index ranks move when one component's weight is set to 0.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from aicity.errors import InputError, Problem
from aicity.export import atomic_write, to_csv, to_excel
from aicity.pipeline.aggregate import METHODS as AGG_METHODS
from aicity.pipeline.aggregate import aggregate, aggregate_level, rescale_minmax
from aicity.pipeline.rank import at_precision, rank_desc
from aicity.pipeline.treat import kurtosis, passes, skewness
from aicity.result import IndexResult

# Cells (components x units x codes) aggregated per batch in the leave-one-out analysis; keeps
# memory bounded (~32 MB of float64 per array) whatever the size of the index.
_LOO_BATCH_CELLS = 4_000_000


@dataclass
class Audit:
    """The audit tables of one built index; `write` puts them on disk."""

    stats: pd.DataFrame
    correlations: pd.DataFrame
    cronbach: pd.DataFrame
    pca: pd.DataFrame
    effective_weights: pd.DataFrame
    leave_one_out: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, in a stable order (the order of the XLSX sheets)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def write(self, out_dir: Path) -> dict[str, Path]:
        """Write `<name>.csv` for every table and `audit.xlsx` with one sheet per table.

        Each file is written beside its target and moved into place (`atomic_write`), so an
        interrupted audit never leaves a truncated table where a complete one was.
        """
        out_dir = Path(out_dir)
        written: dict[str, Path] = {}
        for name, table in self.tables().items():
            path = out_dir / f"{name}.csv"
            atomic_write(path, lambda p, t=table: to_csv(t, p))
            written[name] = path

        def write_xlsx(p: Path) -> None:
            with pd.ExcelWriter(p, engine="openpyxl") as xl:
                for name, table in self.tables().items():
                    to_excel(table, xl, sheet_name=name[:31], index=False)

        xlsx = out_dir / "audit.xlsx"
        atomic_write(xlsx, write_xlsx)
        written["xlsx"] = xlsx
        return written


def audit(
    result: IndexResult,
    *,
    corr_threshold: float = 0.9,
    weak_threshold: float = 0.2,
    avail_threshold: float = 0.65,
    opt_reltol: float = 0.1,
) -> Audit:
    """Audit a built index.

    `corr_threshold`: |r| above which two siblings are flagged "collinear" (COINr's
    `get_corr_flags` default 0.9); `weak_threshold`: r below which a code is flagged
    "weak_with_parent"; `avail_threshold`: availability below which an indicator is flagged
    "LOW" (COINr's `get_stats` default `t_avail = 0.65`); `opt_reltol`: the relative
    tolerance of the weight optimisation (COINr's `toler` default 0.1, coarse: with more
    than two children it may stop near the starting equal weights; 1e-8 runs it to the end).
    """
    bad = [f"{name} must be a number from {lo:g} to {hi:g}, not {value!r}"
           for name, value, lo, hi in (("corr_threshold", corr_threshold, 0, 1), ("weak_threshold", weak_threshold, -1, 1),
                                       ("avail_threshold", avail_threshold, 0, 1), ("opt_reltol", opt_reltol, 0, 1))
           if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi]  # NaN fails too
    if bad:
        raise InputError([Problem("audit", reason) for reason in bad])
    fw = result.framework
    raw = result.stages["raw"].loc[result.units, fw.indicators]
    normalised = result.stages["normalised"].loc[result.units, fw.indicators]
    return Audit(
        stats=indicator_stats(raw, avail_threshold=avail_threshold),
        correlations=correlation_table(result, corr_threshold=corr_threshold, weak_threshold=weak_threshold),
        cronbach=cronbach_table(result, normalised),
        pca=pca_table(result, normalised),
        effective_weights=effective_weights_table(result, opt_reltol=opt_reltol),
        leave_one_out=leave_one_out(result),
    )


# -- statistics of indicators -----------------------------------------------------------------


def indicator_stats(
    raw: pd.DataFrame,
    *,
    skew: float = 2.0,
    kurt: float = 3.5,
    avail_threshold: float = 0.65,
    zero_threshold: float = 0.5,
    unique_threshold: float = 0.5,
) -> pd.DataFrame:
    """Per indicator (column of `raw`), the statistics of COINr's `get_stats`, unrounded.

    COINr's fractions of non-zero, unique and most frequent values are over the values
    present (`Frc.*`), but its non-zero and unique flags compare counts with the number of
    units; both are kept as COINr has them. `flag_skew_kurt` is "OUT" when the column fails
    the same test the treatment step applies (|skew| >= `skew` and kurtosis >= `kurt`;
    COINr's table uses strict inequalities there, which differ only on exact ties).
    `n_outliers_iqr` counts points beyond 1.5 interquartile ranges of the quartiles (R's
    default quantile type 7, numpy's "linear").
    """
    n_units = len(raw)
    rows = []
    for code in raw.columns:
        x = raw[code].to_numpy(dtype=float)
        v = x[~np.isnan(x)]
        n = len(v)
        if n:
            values, counts = np.unique(v, return_counts=True)
            q1, q3 = np.quantile(v, [0.25, 0.75])
            iqr = q3 - q1
            n_out = int(((v < q1 - 1.5 * iqr) | (v > q3 + 1.5 * iqr)).sum())
            n_same = int(counts.max())
        else:
            values, n_out, n_same = v, 0, 0
        n_nonzero = int((v != 0).sum())
        sk, kt = skewness(v), kurtosis(v)
        avail = n / n_units if n_units else math.nan
        rows.append(
            {
                "indicator": code,
                "availability": avail,
                "n_available": n,
                "min": float(v.min()) if n else math.nan,
                "max": float(v.max()) if n else math.nan,
                "mean": float(v.mean()) if n else math.nan,
                "median": float(np.median(v)) if n else math.nan,
                "sd": float(v.std(ddof=1)) if n > 1 else math.nan,
                "skewness": sk,
                "kurtosis": kt,
                "n_zero": n - n_nonzero,
                "n_nonzero": n_nonzero,
                "n_unique": len(values),
                "n_same": n_same,
                "frac_nonzero": n_nonzero / n if n else math.nan,
                "frac_unique": len(values) / n if n else math.nan,
                "frac_same": n_same / n if n else math.nan,
                "n_outliers_iqr": n_out,
                "flag_availability": "ok" if avail >= avail_threshold else "LOW",
                "flag_nonzero": "ok" if n_units and n_nonzero / n_units >= zero_threshold else "LOW",
                "flag_unique": "ok" if n_units and len(values) / n_units >= unique_threshold else "LOW",
                "flag_skew_kurt": "ok" if n < 4 or passes(v, skew, kurt) else "OUT",
            }
        )
    return pd.DataFrame(rows)


# -- correlations -----------------------------------------------------------------------------


def pairwise_pearson(x: np.ndarray) -> np.ndarray:
    """(k, k) Pearson correlations of the columns of (n, k) `x`, each pair on the rows where
    both are present (R's `cor(use = "pairwise.complete.obs")`); NaN where fewer than two
    rows remain or a column has no spread there.

    Computed from sums over the pairwise masks in five matrix products instead of k^2
    loops; the columns are centred first so that the one-pass formula stays accurate.
    """
    cov, n = _pairwise_cov_sums(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = cov["xy"] / np.sqrt(cov["xx"] * cov["yy"])
    r[(n < 2) | ~np.isfinite(r)] = np.nan
    return np.clip(r, -1.0, 1.0)


def pairwise_cov(x: np.ndarray) -> np.ndarray:
    """(k, k) sample covariances (n - 1), pairwise complete as R's `cov`."""
    cov, n = _pairwise_cov_sums(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = cov["xy"] / (n - 1)
    out[n < 2] = np.nan
    return out


def _pairwise_cov_sums(x: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    x = np.asarray(x, dtype=float)
    present = ~np.isnan(x)
    m = present.astype(float)
    with np.errstate(invalid="ignore"):
        centre = np.nanmean(np.where(present.any(axis=0), x, 0.0), axis=0)
    x0 = np.where(present, x - centre, 0.0)
    n = m.T @ m  # rows where both are present
    sx = x0.T @ m  # sx[i, j]: sum of column i over rows where j is present too
    sxx = (x0 * x0).T @ m
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        nz = np.where(n > 0, n, np.nan)
        out = {
            "xy": sxy - sx * sx.T / nz,
            "xx": np.maximum(sxx - sx * sx / nz, 0.0),
            "yy": np.maximum(sxx.T - sx.T * sx.T / nz, 0.0),
        }
    return out, n


def pairwise_spearman(x: np.ndarray) -> np.ndarray:
    """(k, k) Spearman correlations, pairwise complete as R's `cor(method = "spearman")`:
    the two columns are ranked (ties averaged) on the rows where both are present, then
    correlated. Columns missing on the same rows share one ranking; only pairs whose
    missing rows differ are re-ranked pair by pair."""
    x = np.asarray(x, dtype=float)
    present = ~np.isnan(x)
    ranks = np.where(present, rankdata(np.where(present, x, np.inf), axis=0), np.nan)
    r = pairwise_pearson(ranks)
    incomplete = ~present.all(axis=0)
    for i in np.flatnonzero(incomplete):
        for j in range(x.shape[1]):
            if j == i or (incomplete[j] and j < i) or (present[:, i] == present[:, j]).all():
                continue
            both = present[:, i] & present[:, j]
            if both.sum() < 2:
                r[i, j] = r[j, i] = np.nan
                continue
            a, b = rankdata(x[both, i]), rankdata(x[both, j])
            if a.std() == 0 or b.std() == 0:
                r[i, j] = r[j, i] = np.nan
            else:
                r[i, j] = r[j, i] = float(np.corrcoef(a, b)[0, 1])
    return r


def correlation_table(result: IndexResult, *, corr_threshold: float = 0.9, weak_threshold: float = 0.2) -> pd.DataFrame:
    """Long table `x, y, level_x, level_y, relation, method, r, flag` on `result.scores`.

    Pairs: every two codes of the same level (`relation` "sibling" when they share a parent,
    else "level"), and every code with each of its ancestors ("parent", "ancestor"). Flags,
    joined with ";" when several apply:

    - "negative_in_group": siblings (children of one group, at any level) correlate
      negatively: one pulls the group's score against the other.
    - "collinear": siblings with |r| > `corr_threshold`: possible double counting. COINr's
      `get_corr_flags(thresh_type = "high")` reports same-group pairs with r > threshold; the
      Pearson rows of level 1 with r > 0 and this flag are exactly its table.
    - "weak_with_parent": a code's r with its own parent is below `weak_threshold`: the group
      score hardly reflects it.
    - "redundant": two indicators of different groups with |r| > `corr_threshold` (a strongly
      negative pair too: one may be the other reversed): the same thing may be measured twice
      across the tree (merge them, or say why both stay).
    """
    fw = result.framework
    codes = result.codes
    pos = {c: i for i, c in enumerate(codes)}
    scores = result.scores_array
    parent = {c: fw.node(c).parent for c in codes}
    matrices = {"pearson": pairwise_pearson(scores), "spearman": pairwise_spearman(scores)}
    ii, jj, rel = [], [], []
    for level in sorted({fw.levels[c] for c in codes}):
        at = [c for c in codes if fw.levels[c] == level]
        for a in range(len(at)):
            for b in range(a + 1, len(at)):
                ii.append(pos[at[a]])
                jj.append(pos[at[b]])
                rel.append("sibling" if parent[at[a]] == parent[at[b]] else "level")
    for c in codes:
        for k, anc in enumerate(fw.ancestors(c)):
            ii.append(pos[c])
            jj.append(pos[anc])
            rel.append("parent" if k == 0 else "ancestor")
    i, j, relation = np.array(ii, dtype=int), np.array(jj, dtype=int), np.array(rel, dtype=object)
    levels = np.array([fw.levels[c] for c in codes])
    names = np.array(codes, dtype=object)
    frames = []
    for method, mat in matrices.items():
        r = mat[i, j]
        flags = [[] for _ in r]
        sib = relation == "sibling"
        for k in np.flatnonzero(sib & (r < 0)):
            flags[k].append("negative_in_group")
        for k in np.flatnonzero(sib & (np.abs(r) > corr_threshold)):
            flags[k].append("collinear")
        for k in np.flatnonzero((relation == "parent") & (r < weak_threshold)):
            flags[k].append("weak_with_parent")
        for k in np.flatnonzero((relation == "level") & (levels[i] == 1) & (np.abs(r) > corr_threshold)):
            flags[k].append("redundant")
        frames.append(
            pd.DataFrame(
                {
                    "x": names[i],
                    "y": names[j],
                    "level_x": levels[i],
                    "level_y": levels[j],
                    "relation": relation,
                    "method": method,
                    "r": r,
                    "flag": [";".join(f) for f in flags],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# -- Cronbach's alpha -------------------------------------------------------------------------


def cronbach_alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of the columns of (n, k) `x`, as COINr's `get_cronbach`:
    k / (k - 1) * (1 - trace(C) / sum(C)) with C the pairwise-complete covariance matrix.
    NaN for fewer than two columns."""
    k = x.shape[1]
    if k < 2:
        return math.nan
    c = pairwise_cov(x)
    total = np.nansum(c)
    if total == 0:
        return math.nan
    return float(k / (k - 1) * (1 - np.nansum(np.diag(c)) / total))


def cronbach_table(result: IndexResult, normalised: pd.DataFrame) -> pd.DataFrame:
    """`group, n_indicators, alpha` for every group and the index, on all the indicators
    (level 1) under it: how consistently they measure one thing."""
    fw = result.framework
    rows = []
    for group in fw.aggregates:
        leaves = fw.leaves_under(group)
        rows.append({"group": group, "n_indicators": len(leaves), "alpha": cronbach_alpha(normalised[leaves].to_numpy())})
    return pd.DataFrame(rows)


# -- PCA --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PCAResult:
    n_units: int  # complete rows used
    explained: np.ndarray  # share of variance per component, largest first
    pc1: np.ndarray  # loadings of the first component, per column


def pca(x: np.ndarray) -> PCAResult:
    """Correlation PCA of (n, k) `x` on its complete rows, as R's
    `prcomp(na.omit(x), center = TRUE, scale. = TRUE)` in COINr's `get_PCA`.

    The sign of an eigenvector is arbitrary (prcomp's can flip between platforms), so PC1 is
    oriented so that its loadings sum positive (on an exact zero sum, so that its largest
    loading is positive): aggregates then read "higher is more".
    """
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x).any(axis=1)
    xc = x[ok]
    n, k = xc.shape
    nan = PCAResult(int(n), np.full(k, np.nan), np.full(k, np.nan))
    if n < 2 or k == 0:
        return nan
    sd = xc.std(axis=0, ddof=1)
    if (sd == 0).any():
        return nan  # prcomp stops: "cannot rescale a constant/zero column to unit variance"
    z = (xc - xc.mean(axis=0)) / sd
    corr = z.T @ z / (n - 1)
    vals, vecs = np.linalg.eigh(corr)
    order = np.argsort(vals)[::-1]
    vals, vecs = np.clip(vals[order], 0.0, None), vecs[:, order]
    pc1 = vecs[:, 0]
    total = pc1.sum()
    # on a tie, the first of the largest loadings (rounded, so that last-bit noise of the
    # eigensolver does not pick between equal ones)
    if total < -1e-12 or (abs(total) <= 1e-12 and pc1[np.argmax(np.round(np.abs(pc1), 12))] < 0):
        pc1 = -pc1
    return PCAResult(int(n), vals / vals.sum(), pc1)


def pca_table(result: IndexResult, normalised: pd.DataFrame) -> pd.DataFrame:
    """A row per group and child: `group, basis, n_units, var_pc1, var_pc2, code, loading,
    pca_weight`.

    `basis` "children": PCA of the group's direct children (scores as in `result.scores`);
    "indicators": one PCA of all indicators, under the index's code. `var_pc1`/`var_pc2`:
    share of variance explained by the first two components; a high `var_pc1` says the
    children largely measure one latent dimension, which supports aggregating them.
    `pca_weight` = |loading| normalised to sum 1 in the group, usable as a weight set; COINr
    (`get_PCA(weights_to = ...)`) writes the raw signed loadings as weights instead, which
    can be negative and do not sum to 1.
    """
    fw = result.framework
    scores = result.scores
    jobs = [(g, "children", fw.children[g], scores[fw.children[g]].to_numpy()) for g in fw.aggregates]
    jobs.append((fw.index_code, "indicators", fw.indicators, normalised.to_numpy()))
    frames = []
    for group, basis, kids, x in jobs:
        res = pca(x)
        absl = np.abs(res.pc1)
        weights = absl / absl.sum() if np.isfinite(absl).all() and absl.sum() > 0 else np.full(len(kids), np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "group": group,
                    "basis": basis,
                    "n_units": res.n_units,
                    "var_pc1": res.explained[0] if len(kids) else math.nan,
                    "var_pc2": res.explained[1] if len(kids) > 1 else math.nan,
                    "code": kids,
                    "loading": res.pc1,
                    "pca_weight": weights,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# -- weights ----------------------------------------------------------------------------------


def effective_weights(result: IndexResult) -> dict[str, float]:
    """Each code's share of the index, as COINr's `get_eff_wts`: weights normalised to sum
    1 within each parent, then multiplied down from the index (which gets 1). Nominal
    weights say little on their own: an indicator weighted 1 among 3 siblings counts three
    times as much as one weighted 1 among 9."""
    fw = result.framework
    w = dict(zip(result.codes, np.asarray(result.weights, dtype=float), strict=True))
    eff = {fw.index_code: 1.0}

    def down(code: str) -> None:
        kids = fw.children[code]
        total = sum(w[k] for k in kids)
        for k in kids:
            eff[k] = eff[code] * (w[k] / total if total > 0 else math.nan)
            down(k)

    down(fw.index_code)
    return eff


def optimise_weights(result: IndexResult, *, reltol: float = 0.1, maxit: int = 500) -> dict[str, float]:
    """Weights of the index's direct children that make their correlations with the index as
    equal as possible: COINr's `get_opt_weights(optype = "balance", itarg = "equal")`.

    The objective is log(mean((1/n - r_i / sum(r))^2)) with r_i the Pearson correlation of
    child i with the index re-aggregated under the candidate weights (normalised to sum 1),
    minimised by Nelder-Mead from equal weights with R's `optim` defaults as COINr sets them
    (reltol 0.1, maxit 500). A child that dominates the index's variance correlates with it
    far more than its weight suggests; these weights undo that.
    """
    fw = result.framework
    kids = fw.children[fw.index_code]
    n = len(kids)
    if n < 2:
        return {k: 1.0 for k in kids}
    plan = result.plan
    top = plan.levels[-1]
    pos = {c: i for i, c in enumerate(result.codes)}
    child_cols = [pos[c] for c in kids]
    # the top level's children in plan order, and where each of `kids` sits among them
    order = [list(top.child_cols).index(c) for c in child_cols]
    xc = result.scores_array[:, top.child_cols]
    default_method, default_params = result.aggregation
    rescale = default_params.pop("rescale")
    own = plan.method_of(fw.index_code, {"method": default_method, **default_params})  # the index's own method
    target = np.full(n, 1.0 / n)
    children = result.scores_array[:, child_cols]

    def objective(w: np.ndarray) -> float:
        w = np.asarray(w, dtype=float) / np.sum(w)
        wl = np.zeros(len(top.child_cols))
        wl[order] = w
        index = aggregate_level(xc, top.membership, wl, **own)
        if rescale is not None:
            index = rescale_minmax(index, *rescale)
        r = _corr_with(children, index[:, 0])
        rn = r / r.sum()
        with np.errstate(divide="ignore"):
            return float(np.log(np.sum((target - rn) ** 2) / n))

    if not math.isfinite(objective(target)):
        # e.g. a child with no spread: no correlation to balance (R's optim stops here too)
        return {k: math.nan for k in kids}
    best, _, _, _ = nelder_mead(objective, target.copy(), reltol=reltol, maxit=maxit)
    best = np.asarray(best) / np.sum(best)
    return dict(zip(kids, best.tolist(), strict=True))


def _corr_with(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson correlation of each column of (n, k) `x` with `y`, pairwise complete."""
    return pairwise_pearson(np.column_stack([x, y]))[:-1, -1]


def effective_weights_table(result: IndexResult, *, opt_reltol: float = 0.1) -> pd.DataFrame:
    """`code, level, parent, nominal_weight, effective_weight, corr_with_index,
    optimised_weight` (the last only for the index's direct children)."""
    fw = result.framework
    codes = result.codes
    eff = effective_weights(result)
    corr = _corr_with(result.scores_array, result.scores_array[:, codes.index(fw.index_code)])
    opt = optimise_weights(result, reltol=opt_reltol)
    return pd.DataFrame(
        {
            "code": codes,
            "level": [fw.levels[c] for c in codes],
            "parent": [fw.node(c).parent for c in codes],
            "nominal_weight": np.asarray(result.weights, dtype=float),
            "effective_weight": [eff[c] for c in codes],
            "corr_with_index": corr,
            "optimised_weight": [opt.get(c, math.nan) for c in codes],
        }
    )


def nelder_mead(
    fn: Callable[[np.ndarray], float],
    x0: np.ndarray,
    *,
    abstol: float = -math.inf,
    reltol: float = 1.49e-8,
    alpha: float = 1.0,
    beta: float = 0.5,
    gamma: float = 2.0,
    maxit: int = 500,
) -> tuple[list[float], float, int, int]:
    """Minimise `fn` by Nelder-Mead, step for step as R's `optim(method = "Nelder-Mead")`.

    This follows `nmmin` in R's src/appl/optim.c (J. C. Nash's algorithm), including its
    initial simplex (step 10 % of the largest |x0|), convergence test (spread of the simplex
    values <= reltol * (|f(x0)| + reltol)), shrink rule and replacement of non-finite values
    by 1e35, so that COINr's optimised weights are reproduced to the last digits rather than
    to the tolerance of some other optimiser. Returns (x, f(x), function evaluations,
    fail code: 0 converged, 1 maxit reached, 10 simplex stopped shrinking).
    """
    big = 1.0e35

    def f(v: list[float]) -> float:
        value = fn(np.array(v, dtype=float))
        return value if math.isfinite(value) else big

    n = len(x0)
    b = [float(v) for v in x0]
    # P: rows 0..n-1 coordinates, row n function values; columns 0..n vertices, n+1 centroid
    P = [[0.0] * (n + 2) for _ in range(n + 1)]
    value = fn(np.array(b, dtype=float))
    if not math.isfinite(value):
        raise ValueError("function cannot be evaluated at initial parameters")
    funcount = 1
    convtol = reltol * (abs(value) + reltol)
    n1, c = n + 1, n + 2
    P[n1 - 1][0] = value
    for i in range(n):
        P[i][0] = b[i]
    lo = 1
    step = max([0.1 * abs(v) for v in b] + [0.0]) or 0.1
    size = 0.0
    for j in range(2, n1 + 1):
        for i in range(n):
            P[i][j - 1] = b[i]
        trystep = step
        while P[j - 2][j - 1] == b[j - 2]:
            P[j - 2][j - 1] = b[j - 2] + trystep
            trystep *= 10
        size += trystep
    oldsize = size
    calcvert = True
    fail = 0
    while True:
        if calcvert:
            for j in range(n1):
                if j + 1 != lo:
                    b = [P[i][j] for i in range(n)]
                    P[n1 - 1][j] = f(b)
                    funcount += 1
            calcvert = False
        vl = P[n1 - 1][lo - 1]
        vh = vl
        hi = lo
        for j in range(1, n1 + 1):
            if j != lo:
                fj = P[n1 - 1][j - 1]
                if fj < vl:
                    lo, vl = j, fj
                if fj > vh:
                    hi, vh = j, fj
        if vh <= vl + convtol or vl <= abstol:
            break
        for i in range(n):
            temp = -P[i][hi - 1]
            for j in range(n1):
                temp += P[i][j]
            P[i][c - 1] = temp / n
        b = [(1.0 + alpha) * P[i][c - 1] - alpha * P[i][hi - 1] for i in range(n)]
        vr = f(b)
        funcount += 1
        if vr < vl:  # reflection is the new best: try extending further
            P[n1 - 1][c - 1] = vr
            for i in range(n):
                ext = gamma * b[i] + (1 - gamma) * P[i][c - 1]
                P[i][c - 1] = b[i]
                b[i] = ext
            fe = f(b)
            funcount += 1
            if fe < vr:
                for i in range(n):
                    P[i][hi - 1] = b[i]
                P[n1 - 1][hi - 1] = fe
            else:
                for i in range(n):
                    P[i][hi - 1] = P[i][c - 1]
                P[n1 - 1][hi - 1] = vr
        else:
            if vr < vh:
                for i in range(n):
                    P[i][hi - 1] = b[i]
                P[n1 - 1][hi - 1] = vr
            b = [(1 - beta) * P[i][hi - 1] + beta * P[i][c - 1] for i in range(n)]
            fc = f(b)
            funcount += 1
            if fc < P[n1 - 1][hi - 1]:
                for i in range(n):
                    P[i][hi - 1] = b[i]
                P[n1 - 1][hi - 1] = fc
            elif vr >= vh:  # shrink towards the best vertex
                calcvert = True
                size = 0.0
                for j in range(n1):
                    if j + 1 != lo:
                        for i in range(n):
                            P[i][j] = beta * (P[i][j] - P[i][lo - 1]) + P[i][lo - 1]
                            size += abs(P[i][j] - P[i][lo - 1])
                if size < oldsize:
                    oldsize = size
                else:
                    fail = 10
                    break
        if funcount > maxit:
            break
    if funcount > maxit:
        fail = 1
    return [P[i][lo - 1] for i in range(n)], float(P[n1 - 1][lo - 1]), funcount, fail


# -- leave one out ----------------------------------------------------------------------------


def leave_one_out(result: IndexResult) -> pd.DataFrame:
    """`code, level, mean_abs_rank_shift, max_abs_rank_shift` per component below the index.

    Each component's weight is set to 0 (its siblings' weights renormalise, as in any
    aggregation) and the normalised data re-aggregated with the build's own aggregation
    parameters; the index ranks are compared with the nominal ones over the units ranked in
    both. A component whose removal moves nothing adds nothing to the ranking. All variants
    are aggregated in batches along a leading axis; Copeland and benefit of the doubt, which take no batch, in a loop.
    """
    fw = result.framework
    codes = result.codes
    plan = result.plan
    method, params = result.aggregation
    normalised = result.stages["normalised"].loc[result.units, fw.indicators].to_numpy(dtype=float)
    idx = codes.index(fw.index_code)
    nominal = result.ranks_array[:, idx]
    components = [c for c in codes if c != fw.index_code]
    base = np.asarray(result.weights, dtype=float)
    weights = np.tile(base, (len(components), 1))
    weights[np.arange(len(components)), [codes.index(c) for c in components]] = 0.0
    kw = {"weights": None, **params}
    index_scores = np.empty((len(components), len(result.units)))
    # Copeland and benefit of the doubt take no batch: one variant at a time
    one_at_a_time = {method, *(m["method"] for lv in plan.levels for m in lv.methods if m)} & {
        name for name, m in AGG_METHODS.items() if not m.batched}
    if one_at_a_time:
        for k in range(len(components)):
            index_scores[k] = aggregate(normalised, plan, method, **{**kw, "weights": weights[k]})[:, idx]
    else:
        per = max(1, _LOO_BATCH_CELLS // max(1, normalised.shape[0] * len(codes)))
        for start in range(0, len(components), per):
            w = weights[start : start + per]
            x = np.broadcast_to(normalised, (len(w),) + normalised.shape)
            index_scores[start : start + per] = aggregate(x, plan, method, **{**kw, "weights": w})[..., idx]
    ranks = rank_desc(at_precision(index_scores, result.rank_digits)[..., None])[..., 0]  # (components, units), as the build ranks
    shift = np.abs(ranks - nominal[None, :])
    with warnings.catch_warnings():  # a variant that ranks no unit: NaN, no warning
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(shift, axis=1)
        mx = np.nanmax(shift, axis=1)
    return pd.DataFrame(
        {
            "code": components,
            "level": [fw.levels[c] for c in components],
            "mean_abs_rank_shift": mean,
            "max_abs_rank_shift": mx,
        }
    )

