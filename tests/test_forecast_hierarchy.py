"""Hierarchical reconciliation: the summing matrix, aggregation, coherence of every method,
agreement with the textbook MinT formula, and the Australian tourism hierarchy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from forecasting import hierarchy as hi
from forecasting.hierarchy import LevelMetric, ReconcileMethod
from tests.test_datasets import needs
from turnwise.errors import InvalidArgument

COMBINATIONS = [ReconcileMethod.OLS, ReconcileMethod.WLS_STRUCT, ReconcileMethod.MINT_SHRINK]


def _crossed_2x2() -> hi.Hierarchy:
    bottom = pd.DataFrame(
        {
            "unique_id": ["r1b1", "r1b2", "r2b1", "r2b2"],
            "region_id": ["R1", "R1", "R2", "R2"],
            "brand_id": ["B1", "B2", "B1", "B2"],
        }
    )
    return hi.build_hierarchy(bottom, [[], ["region_id"], ["brand_id"]])


def _dealer_hierarchy() -> hi.Hierarchy:
    """3 stores (2 regions) x 4 trims (2 models, 2 brands): nested and crossed levels."""
    rows = [(s, t) for s in range(3) for t in range(4)]
    bottom = pd.DataFrame(
        {
            "unique_id": [f"S{s}/T{t}" for s, t in rows],
            "store_id": [f"S{s}" for s, _ in rows],
            "region_id": [f"R{min(s, 1)}" for s, _ in rows],
            "trim_id": [f"T{t}" for _, t in rows],
            "model_id": [f"M{t // 2}" for _, t in rows],
            "brand_id": [f"B{t % 2}" for _, t in rows],
        }
    )
    levels = [[], ["region_id"], ["brand_id"], ["region_id", "brand_id"], ["model_id"]]
    return hi.build_hierarchy(bottom, [*levels, ["store_id"]])


DEALER = _dealer_hierarchy()


def _residuals(h: hi.Hierarchy, steps: int, seed: int) -> np.ndarray:
    """Correlated in-sample errors: bottom noise summed up, plus node noise."""
    rng = np.random.default_rng(seed)
    bottom = rng.normal(size=(h.n_bottom, steps)) + rng.normal(size=(1, steps))
    return np.asarray(h.summing @ bottom) + 0.5 * rng.normal(size=(h.n_nodes, steps))


def _coherent(h: hi.Hierarchy, forecasts: np.ndarray) -> bool:
    bottom = forecasts[h.n_aggregates :]
    return bool(np.allclose(h.summing @ bottom, forecasts, rtol=0, atol=1e-9))


def _mint_textbook(h: hi.Hierarchy, base: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """``S (S' W^-1 S)^-1 S' W^-1 y^`` with R hts's ``shrink.estim`` written out densely."""
    x = residuals.T
    t = x.shape[0]
    cov = x.T @ x / t
    sd = np.sqrt(np.diag(cov))
    xs = x / sd
    v = ((xs**2).T @ (xs**2) - (xs.T @ xs) ** 2 / t) / (t * (t - 1))
    d = (cov / np.outer(sd, sd)) ** 2
    np.fill_diagonal(v, 0.0)
    np.fill_diagonal(d, 0.0)
    lam = min(max(v.sum() / d.sum(), 0.0), 1.0)
    w = lam * np.diag(np.diag(cov)) + (1 - lam) * cov
    s = h.summing.toarray()
    w_inv_s = np.linalg.solve(w, s)
    g = np.linalg.solve(s.T @ w_inv_s, w_inv_s.T)
    return np.asarray(s @ g @ base)


# --- structure ---------------------------------------------------------------------------


def test_summing_matrix_of_crossed_2x2() -> None:
    h = _crossed_2x2()
    assert h.node_ids == (
        "total",
        "region_id=R1",
        "region_id=R2",
        "brand_id=B1",
        "brand_id=B2",
        "r1b1",
        "r1b2",
        "r2b1",
        "r2b2",
    )
    assert h.level_names == ("total", "region_id", "brand_id", "bottom")
    assert h.node_levels[:5] == ("total", "region_id", "region_id", "brand_id", "brand_id")
    expected = np.array(
        [[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], *np.eye(4)]
    )
    np.testing.assert_array_equal(h.summing.toarray(), expected)
    assert (h.n_nodes, h.n_bottom, h.n_aggregates) == (9, 4, 5)
    assert h.bottom_ids == ("r1b1", "r1b2", "r2b1", "r2b2")
    np.testing.assert_array_equal(h.level_rows("brand_id"), [3, 4])


def test_crossed_level_ids_name_every_column() -> None:
    assert "region_id=R1/brand_id=B0" in DEALER.node_ids
    assert DEALER.node_levels[DEALER.node_ids.index("model_id=M1")] == "model_id"
    assert DEALER.summing.sum() == DEALER.n_bottom * (len(DEALER.level_names))


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        ([["shop"]], "levels[0]"),
        ([["region_id"], ["region_id"]], "levels[1]"),
        ([["unique_id"]], "levels[0]"),
    ],
)
def test_bad_levels_are_rejected(levels: list[list[str]], field: str) -> None:
    bottom = pd.DataFrame({"unique_id": ["a", "b"], "region_id": ["R1", "R2"]})
    with pytest.raises(InvalidArgument) as err:
        hi.build_hierarchy(bottom, levels)
    assert err.value.field == field


def test_duplicate_and_colliding_ids_are_rejected() -> None:
    twice = pd.DataFrame({"unique_id": ["a", "a"], "region_id": ["R1", "R2"]})
    with pytest.raises(InvalidArgument, match="twice"):
        hi.build_hierarchy(twice, [[]])
    collide = pd.DataFrame({"unique_id": ["region_id=R1", "b"], "region_id": ["R1", "R2"]})
    with pytest.raises(InvalidArgument, match="collide"):
        hi.build_hierarchy(collide, [["region_id"]])


def test_aggregate_sums_every_node_and_counts_absent_rows_as_zero() -> None:
    h = _crossed_2x2()
    days = pd.to_datetime(["2024-01-01", "2024-02-01"])
    df = pd.DataFrame(
        {
            "unique_id": ["r1b1", "r1b1", "r1b2", "r1b2", "r2b1", "r2b2", "r2b2"],
            "ds": [days[0], days[1], days[0], days[1], days[0], days[0], days[1]],
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 8.0],
        }
    )
    every = hi.aggregate(h, df)
    assert list(every.columns) == ["unique_id", "ds", "y"]
    values, dates = hi.node_matrix(h, every)
    assert list(dates) == list(days)
    np.testing.assert_array_equal(values[0], [16.0, 14.0])  # total
    np.testing.assert_array_equal(values[1], [4.0, 6.0])  # R1
    np.testing.assert_array_equal(values[3], [6.0, 2.0])  # B1: r2b1 absent in Feb
    np.testing.assert_array_equal(values[7], [5.0, 0.0])
    assert every["unique_id"].iloc[0] == "total"


def test_aggregate_rejects_unknown_series_and_missing_values() -> None:
    h = _crossed_2x2()
    day = pd.Timestamp("2024-01-01")
    with pytest.raises(InvalidArgument, match="not a bottom series"):
        hi.aggregate(h, pd.DataFrame({"unique_id": ["zz"], "ds": [day], "y": [1.0]}))
    with pytest.raises(InvalidArgument, match="missing"):
        hi.aggregate(h, pd.DataFrame({"unique_id": ["r1b1"], "ds": [day], "y": [np.nan]}))


# --- reconciliation ----------------------------------------------------------------------

BASES = hnp.arrays(
    np.float64,
    (DEALER.n_nodes, 3),
    elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=40, deadline=None)
@given(base=BASES, seed=st.integers(0, 2**16))
def test_every_method_returns_coherent_forecasts(base: np.ndarray, seed: int) -> None:
    residuals = _residuals(DEALER, 20, seed)
    for method in ReconcileMethod:
        out = hi.reconcile(DEALER, base, method, residuals)
        assert out.shape == base.shape
        assert _coherent(DEALER, out), method
    bottom_up = hi.reconcile(DEALER, base, ReconcileMethod.BOTTOM_UP)
    np.testing.assert_array_equal(bottom_up[DEALER.n_aggregates :], base[DEALER.n_aggregates :])


@settings(max_examples=30, deadline=None)
@given(
    bottom=hnp.arrays(np.float64, (DEALER.n_bottom, 2), elements=st.floats(-1e3, 1e3)),
    seed=st.integers(0, 2**16),
)
def test_coherent_base_is_returned_unchanged(bottom: np.ndarray, seed: int) -> None:
    base = np.asarray(DEALER.summing @ bottom)
    residuals = _residuals(DEALER, 15, seed)
    for method in COMBINATIONS:
        out = hi.reconcile(DEALER, base, method, residuals)
        np.testing.assert_allclose(out, base, rtol=0, atol=1e-8)


@pytest.mark.parametrize("steps", [12, 200])  # fewer and more steps than nodes
def test_mint_shrink_equals_the_textbook_formula(steps: int) -> None:
    base = np.random.default_rng(3).normal(size=(DEALER.n_nodes, 4)) * 10
    residuals = _residuals(DEALER, steps, 5)
    done = hi.reconcile_report(DEALER, base, ReconcileMethod.MINT_SHRINK, residuals)
    np.testing.assert_allclose(done.forecasts, _mint_textbook(DEALER, base, residuals), atol=1e-9)
    assert done.method is ReconcileMethod.MINT_SHRINK and not done.fell_back
    assert done.shrinkage is not None and 0.0 <= done.shrinkage <= 1.0


def test_ols_and_wls_equal_their_textbook_formulas() -> None:
    base = np.random.default_rng(4).normal(size=(DEALER.n_nodes, 2))
    s = DEALER.summing.toarray()
    for method, weights in [
        (ReconcileMethod.OLS, np.ones(DEALER.n_nodes)),
        (ReconcileMethod.WLS_STRUCT, s.sum(axis=1)),
    ]:
        w_inv_s = s / weights[:, None]
        expected = s @ np.linalg.solve(s.T @ w_inv_s, w_inv_s.T @ base)
        np.testing.assert_allclose(hi.reconcile(DEALER, base, method), expected, atol=1e-10)


def test_sparse_factorisation_agrees_with_dense(monkeypatch: pytest.MonkeyPatch) -> None:
    base = np.random.default_rng(6).normal(size=(DEALER.n_nodes, 3))
    residuals = _residuals(DEALER, 10, 7)
    dense = [hi.reconcile(DEALER, base, m, residuals) for m in COMBINATIONS]
    monkeypatch.setattr(hi, "DENSE_AGGREGATES", 0)
    for method, expected in zip(COMBINATIONS, dense, strict=True):
        np.testing.assert_allclose(hi.reconcile(DEALER, base, method, residuals), expected)


def test_mint_falls_back_to_wls_struct_above_the_size_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = np.random.default_rng(8).normal(size=(DEALER.n_nodes, 2))
    monkeypatch.setattr(hi, "MINT_MAX_CELLS", DEALER.n_nodes * 5)
    done = hi.reconcile_report(DEALER, base, ReconcileMethod.MINT_SHRINK, _residuals(DEALER, 6, 1))
    assert done.fell_back and done.method is ReconcileMethod.WLS_STRUCT
    assert done.requested is ReconcileMethod.MINT_SHRINK and done.shrinkage is None
    wls = hi.reconcile(DEALER, base, ReconcileMethod.WLS_STRUCT)
    np.testing.assert_allclose(done.forecasts, wls)


def test_mint_drops_unfinished_residual_steps_and_needs_three() -> None:
    base = np.random.default_rng(9).normal(size=(DEALER.n_nodes, 2))
    residuals = _residuals(DEALER, 12, 2)
    padded = np.concatenate([np.full((DEALER.n_nodes, 4), np.nan), residuals], axis=1)
    np.testing.assert_allclose(
        hi.reconcile(DEALER, base, ReconcileMethod.MINT_SHRINK, padded),
        hi.reconcile(DEALER, base, ReconcileMethod.MINT_SHRINK, residuals),
    )
    with pytest.raises(InvalidArgument) as err:
        hi.reconcile(DEALER, base, ReconcileMethod.MINT_SHRINK, residuals[:, :2])
    assert err.value.field == "residuals"
    with pytest.raises(InvalidArgument):
        hi.reconcile(DEALER, base, ReconcileMethod.MINT_SHRINK)


def test_zero_variance_nodes_are_kept_and_still_coherent() -> None:
    base = np.random.default_rng(10).normal(size=(DEALER.n_nodes, 2))
    residuals = _residuals(DEALER, 12, 3)
    residuals[-1] = 0.0  # a bottom series fitted perfectly (e.g. always zero demand)
    out = hi.reconcile(DEALER, base, ReconcileMethod.MINT_SHRINK, residuals)
    assert _coherent(DEALER, out)
    assert out[-1] == pytest.approx(base[-1], abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    e=hnp.arrays(
        np.float64, (6, 8), elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    )
)
def test_shrinkage_intensity_is_in_unit_interval(e: np.ndarray) -> None:
    assert 0.0 <= hi.shrinkage_intensity(e) <= 1.0


def test_nonnegative_clips_bottom_and_stays_coherent() -> None:
    base = np.random.default_rng(11).normal(size=(DEALER.n_nodes, 3))
    for method in COMBINATIONS:
        out = hi.reconcile(DEALER, base, method, _residuals(DEALER, 9, 4), nonnegative=True)
        assert (out >= 0).all()
        assert _coherent(DEALER, out)


def test_reconcile_rejects_bad_shapes() -> None:
    with pytest.raises(InvalidArgument) as err:
        hi.reconcile(DEALER, np.zeros((3, 2)), ReconcileMethod.OLS)
    assert err.value.field == "base"


# --- quantiles ---------------------------------------------------------------------------


def test_reconcile_quantiles_projects_each_level_and_sorts() -> None:
    rng = np.random.default_rng(12)
    mean = rng.normal(size=(DEALER.n_nodes, 3)) * 5
    spread = np.abs(rng.normal(size=(DEALER.n_nodes, 3)))
    quantiles = np.stack([mean - 1.28 * spread, mean, mean + 1.28 * spread])
    residuals = _residuals(DEALER, 10, 5)
    done = hi.reconcile_quantiles(
        DEALER, mean, quantiles, (0.1, 0.5, 0.9), ReconcileMethod.MINT_SHRINK, residuals
    )
    assert done.quantiles.shape == quantiles.shape and done.levels == (0.1, 0.5, 0.9)
    assert (np.diff(done.quantiles, axis=0) >= 0).all()
    expected_mean = hi.reconcile(DEALER, mean, ReconcileMethod.MINT_SHRINK, residuals)
    np.testing.assert_allclose(done.mean, expected_mean)
    assert done.method is ReconcileMethod.MINT_SHRINK
    np.testing.assert_allclose(done.quantiles[1], expected_mean)  # the median slice = mean


def test_bottom_up_quantiles_keep_the_bottom_and_nonnegative_clips() -> None:
    rng = np.random.default_rng(13)
    mean = rng.normal(size=(DEALER.n_nodes, 2))
    quantiles = np.stack([mean - 1.0, mean + 1.0])
    done = hi.reconcile_quantiles(
        DEALER, mean, quantiles, [0.25, 0.75], ReconcileMethod.BOTTOM_UP, nonnegative=True
    )
    k = DEALER.n_aggregates
    np.testing.assert_allclose(done.quantiles[1, k:], np.maximum(mean[k:] + 1.0, 0.0))
    assert (done.mean >= 0).all() and _coherent(DEALER, done.mean)
    with pytest.raises(InvalidArgument):
        hi.reconcile_quantiles(DEALER, mean, quantiles, [0.75, 0.25], ReconcileMethod.OLS)


# --- evaluation --------------------------------------------------------------------------


def test_evaluate_levels_scores_base_and_each_method_per_level() -> None:
    h = _crossed_2x2()
    actual = np.asarray(h.summing @ np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]))
    base = actual + 1.0
    bu = hi.reconcile(h, base, ReconcileMethod.BOTTOM_UP)
    rmse = hi.evaluate_levels(
        h, actual, base, {ReconcileMethod.BOTTOM_UP: bu}, metric=LevelMetric.RMSE
    )
    assert [(s.level, s.method) for s in rmse[:2]] == [
        ("total", None),
        ("total", ReconcileMethod.BOTTOM_UP),
    ]
    by_key = {(s.level, s.method): s for s in rmse}
    assert by_key["total", None].value == pytest.approx(1.0)
    assert by_key["total", ReconcileMethod.BOTTOM_UP].value == pytest.approx(4.0)
    assert by_key["region_id", ReconcileMethod.BOTTOM_UP].value == pytest.approx(2.0)
    assert by_key["bottom", None].n_series == 4
    history = np.tile(np.arange(6.0), (h.n_nodes, 1)) * np.arange(1, h.n_nodes + 1)[:, None]
    scale = hi.seasonal_scale(history, 1)
    mase = hi.evaluate_levels(h, actual, base, {}, metric=LevelMetric.MASE, scale=scale)
    assert mase[0].value == pytest.approx(1.0) and mase[0].metric is LevelMetric.MASE
    assert mase[-1].value == pytest.approx(np.mean(1.0 / np.arange(6, 10)))
    with pytest.raises(InvalidArgument):
        hi.evaluate_levels(h, actual, base, {}, metric=LevelMetric.MASE)


# --- Australian domestic tourism ---------------------------------------------------------

SEASON = 4
HOLDOUT = 8


def _ets_ana(y: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """ETS(A,N,A) for every row of ``y`` (nodes x T), smoothing picked per row from a grid
    by in-sample one-step squared error; returns forecasts and one-step residuals (nan
    over the first season, which initialises the state)."""
    n, t = y.shape
    best_sse = np.full(n, np.inf)
    forecasts = np.zeros((n, horizon))
    residuals = np.full((n, t), np.nan)
    for alpha in (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
        for gamma in (0.01, 0.05, 0.1, 0.2):
            level = y[:, :SEASON].mean(axis=1)
            season = list((y[:, :SEASON] - level[:, None]).T)
            err = np.full((n, t), np.nan)
            for i in range(SEASON, t):
                s = season[i - SEASON]
                err[:, i] = y[:, i] - level - s
                level = level + alpha * err[:, i]
                season.append(s + gamma * err[:, i])
            sse = np.nansum(err**2, axis=1)
            steps = np.arange(horizon)
            fc = level[:, None] + np.stack(season[t - SEASON :], axis=1)[:, steps % SEASON]
            better = sse < best_sse
            best_sse[better] = sse[better]
            forecasts[better], residuals[better] = fc[better], err[better]
    return forecasts, residuals


def _tourism_scores() -> tuple[
    hi.Hierarchy, list[hi.LevelScore], dict[ReconcileMethod, np.ndarray]
]:
    from forecasting.datasets import load_tourism, tourism_hierarchy

    h = hi.build_hierarchy(
        tourism_hierarchy(), [[], ["State"], ["State", "Region"], ["Purpose"], ["State", "Purpose"]]
    )
    values, _ = hi.node_matrix(h, hi.aggregate(h, load_tourism()))
    train, test = values[:, :-HOLDOUT], values[:, -HOLDOUT:]
    base, residuals = _ets_ana(train, HOLDOUT)
    methods = [ReconcileMethod.BOTTOM_UP, ReconcileMethod.WLS_STRUCT, ReconcileMethod.MINT_SHRINK]
    reconciled = {m: hi.reconcile(h, base, m, residuals) for m in methods}
    scale = hi.seasonal_scale(train, SEASON)
    return h, hi.evaluate_levels(h, test, base, reconciled, scale=scale), reconciled


@needs("aus_tourism_hierarchical")
def test_tourism_reconciliation_is_coherent_and_sane() -> None:
    h, scores, reconciled = _tourism_scores()
    assert (h.n_bottom, h.n_aggregates) == (304, 1 + 8 + 76 + 4 + 32)
    for forecasts in reconciled.values():
        assert _coherent(h, forecasts)
    table = {(s.level, s.method): s.value for s in scores}
    print("\nlevel            base      BU   WLS-S    MinT-shrink  (MASE, 8 quarters)")
    for level in h.level_names:
        row = [table[level, m] for m in (None, *reconciled)]
        print(f"{level:14s}" + "".join(f"{v:8.3f}" for v in row))
    for level in h.level_names:
        base_value = table[level, None]
        assert 0.0 < base_value < 5.0
        for method in reconciled:
            assert table[level, method] < 2.0 * base_value, (level, method)
    # bottom-up leaves the bottom as it was; the aggregates then differ from the base
    assert table["bottom", ReconcileMethod.BOTTOM_UP] == table["bottom", None]


def test_public_names_are_exported() -> None:
    assert hi.__all__ and all(hasattr(hi, name) for name in hi.__all__)
