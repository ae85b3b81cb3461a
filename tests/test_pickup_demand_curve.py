"""The newsvendor expected-sales curve of the pick-up mix (allocation.demand_curve)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from allocation import demand_curve
from allocation.demand_curve import (
    cumulative_quantiles,
    expected_sales,
    marginal_sales,
    mean_demand,
)
from turnwise.errors import InvalidArgument

DECILES = (0.1, 0.5, 0.9)
Z90 = 1.2815515655446004  # standard normal quantile at 0.9


def _uniform_sales(a: float, b: float, s: np.ndarray) -> np.ndarray:
    """E[min(D, s)] for D uniform on [a, b]."""
    inside = s - (s - a) ** 2 / (2.0 * (b - a))
    return np.where(s <= a, s, np.where(s >= b, (a + b) / 2.0, inside))


# --- hand-computed cases ------------------------------------------------------------------


def test_exported_api():
    assert sorted(demand_curve.__all__) == [
        "cumulative_quantiles",
        "expected_sales",
        "marginal_sales",
        "mean_demand",
        "sample_demand",
        "support_top",
    ]
    for name in demand_curve.__all__:
        assert callable(getattr(demand_curve, name))


@pytest.mark.parametrize("levels", [(0.1, 0.9), DECILES, (0.05, 0.25, 0.5, 0.75, 0.95)])
@pytest.mark.parametrize("c", [0.0, 1.0, 2.5, 7.0])
def test_equal_quantiles_are_deterministic_demand(levels, c):
    s = np.arange(11.0)
    curve = expected_sales(levels, [c] * len(levels), 10)
    np.testing.assert_allclose(curve, np.minimum(c, s), rtol=0, atol=1e-12)
    assert float(mean_demand(levels, [c] * len(levels))) == pytest.approx(c, abs=1e-12)


@pytest.mark.parametrize("b", [1.0, 4.0, 10.0, 13.5])
def test_uniform_from_zero_is_reproduced_exactly(b):
    # U[0, b] has q_tau = tau * b: the lower tail from (0, 0) and the upper tail with the last
    # segment's slope are exactly the uniform's CDF.
    q = [t * b for t in DECILES]
    s = np.arange(16.0)
    np.testing.assert_allclose(
        expected_sales(DECILES, q, 15), _uniform_sales(0.0, b, s), atol=1e-12
    )
    assert float(mean_demand(DECILES, q)) == pytest.approx(b / 2.0, abs=1e-12)


@pytest.mark.parametrize(("a", "b"), [(2.0, 12.0), (5.0, 9.0), (0.5, 3.5)])
def test_uniform_away_from_zero_differs_only_by_the_lower_tail(a, b):
    # The rule spreads the lowest 10% over [0, q_1] instead of [a, q_1]: below q_1 the curve is
    # s - 0.1 s^2 / (2 q_1); above it the uniform's closed form less the constant 0.1 a / 2.
    q = [a + t * (b - a) for t in DECILES]
    s = np.arange(16.0)
    curve = expected_sales(DECILES, q, 15)
    want = np.where(s <= q[0], s - 0.1 * s**2 / (2 * q[0]), _uniform_sales(a, b, s) - 0.05 * a)
    np.testing.assert_allclose(curve, want, atol=1e-12)
    assert float(mean_demand(DECILES, q)) == pytest.approx((a + b) / 2 - 0.05 * a, abs=1e-12)


def test_partial_point_mass_at_zero():
    # q = (0, 2, 4) at (0.25, 0.5, 0.75): 25% at zero, then slope 1/8 up to 1 at 6, i.e.
    # D = 0 w.p. 1/4 and uniform on [0, 6] w.p. 3/4.
    s = np.arange(9.0)
    curve = expected_sales((0.25, 0.5, 0.75), [0.0, 2.0, 4.0], 8)
    want = 0.75 * _uniform_sales(0.0, 6.0, s)
    np.testing.assert_allclose(curve, want, atol=1e-12)
    assert float(mean_demand((0.25, 0.5, 0.75), [0.0, 2.0, 4.0])) == pytest.approx(2.25)


def test_all_zero_quantiles_sell_nothing():
    for levels in [(0.5,), DECILES]:
        zeros = [0.0] * len(levels)
        assert np.array_equal(expected_sales(levels, zeros, 5), np.zeros(6))
        assert float(mean_demand(levels, zeros)) == 0.0


def test_vertical_last_segment_takes_the_last_sloped_piece():
    # q = (1, 3, 3): F slope 0.1 on [0, 1], 0.2 on [1, 3], jump 0.5 -> 0.9 at 3, then slope 0.2
    # up to 1 at 3.5. Integrals of 1 - F per piece: 0.95, 1.4 (0.8 + 0.6), 0.025.
    curve = expected_sales(DECILES, [1.0, 3.0, 3.0], 5)
    np.testing.assert_allclose(curve, [0.0, 0.95, 1.75, 2.35, 2.375, 2.375], atol=1e-12)


def test_single_median_is_uniform_on_twice_the_median():
    s = np.arange(9.0)
    np.testing.assert_allclose(
        expected_sales((0.5,), [3.0], 8), _uniform_sales(0.0, 6.0, s), atol=1e-12
    )


def test_marginal_sales_are_the_sell_through_probability_of_each_unit():
    # U[0, 10]: the (s+1)-th unit sells with probability mean of 1 - x/10 over [s, s+1].
    curve = expected_sales(DECILES, [1.0, 5.0, 9.0], 12)
    steps = marginal_sales(curve)
    want = np.r_[1.0 - (np.arange(10) + 0.5) / 10.0, 0.0, 0.0]
    assert steps.shape == (12,)
    np.testing.assert_allclose(steps, want, atol=1e-12)


# --- shapes -------------------------------------------------------------------------------


def test_cells_are_vectorised_row_by_row():
    values = np.array([[0.0, 0.0, 0.0], [1.0, 3.0, 3.0], [2.0, 6.0, 10.0], [4.0, 4.0, 4.0]])
    curves = expected_sales(DECILES, values, 7)
    means = mean_demand(DECILES, values)
    assert curves.shape == (4, 8)
    assert means.shape == (4,)
    for row, q in enumerate(values):
        np.testing.assert_array_equal(curves[row], expected_sales(DECILES, q, 7))
        assert means[row] == mean_demand(DECILES, q)
    assert marginal_sales(curves).shape == (4, 7)


def test_one_cell_and_grids_of_cells():
    one = expected_sales(DECILES, [1.0, 2.0, 3.0], 4)
    assert one.shape == (5,)
    assert mean_demand(DECILES, [1.0, 2.0, 3.0]).shape == ()
    grid = np.broadcast_to(np.array([1.0, 2.0, 3.0]), (2, 3, 3))
    curves = expected_sales(DECILES, grid, 4)
    assert curves.shape == (2, 3, 5)
    np.testing.assert_array_equal(curves[1, 2], one)
    assert expected_sales(DECILES, np.zeros((0, 3)), 4).shape == (0, 5)
    assert mean_demand(DECILES, np.zeros((0, 3))).shape == (0,)


def test_zero_max_units_is_the_single_point_zero():
    assert np.array_equal(expected_sales(DECILES, [[1.0, 2.0, 3.0]] * 2, 0), np.zeros((2, 1)))


# --- invariants on random monotone quantiles --------------------------------------------------

_GRID = [round(0.05 * k, 2) for k in range(1, 20)]


@st.composite
def _quantiles(draw: st.DrawFn) -> tuple[tuple[float, ...], list[float]]:
    levels = tuple(sorted(draw(st.sets(st.sampled_from(_GRID), min_size=1, max_size=6))))
    step = st.one_of(st.just(0.0), st.floats(0.0, 4.0, allow_nan=False))
    q = [draw(st.one_of(st.just(0.0), st.floats(0.0, 6.0, allow_nan=False)))]
    for _ in levels[1:]:
        q.append(q[-1] + draw(step))
    return levels, q


def _reference(
    levels: tuple[float, ...], q: list[float], s: np.ndarray
) -> tuple[np.ndarray, float]:
    """E[min(D, s)] as the integral over u in (0, 1) of min(Q(u), s), with the quantile function
    Q read off the documented rules (the inverse of the module's CDF), on a dense grid."""
    u_knots = [0.0, *levels]
    q_knots = [0.0, *q]
    if len(q) >= 2 and q[0] == q[-1]:
        q_knots[0] = q[0]
        top = q[-1]
    else:
        sloped = [k for k in range(1, len(q_knots)) if q_knots[k] > q_knots[k - 1]]
        top = q[-1]
        if sloped:
            k = sloped[-1]
            dq, du = q_knots[k] - q_knots[k - 1], u_knots[k] - u_knots[k - 1]
            top = q[-1] + (1.0 - levels[-1]) * dq / du
    u = np.linspace(0.0, 1.0, 8001)
    quantile = np.interp(u, [*u_knots, 1.0], [*q_knots, top])
    clipped = np.minimum(quantile[None, :], s[:, None])
    return np.trapezoid(clipped, u, axis=1), top


@settings(max_examples=50, deadline=None)
@given(_quantiles())
@example(((0.05, 0.1, 0.15), [0.0, 0.0, 1.0]))  # a support top of 18 + 4e-15
def test_curve_invariants(case):
    levels, q = case
    ref_top = _reference(levels, q, np.zeros(1))[1]
    units = math.ceil(ref_top) + 3
    curve = expected_sales(levels, q, units)
    mean = float(mean_demand(levels, q))
    s = np.arange(units + 1.0)
    steps = marginal_sales(curve)
    tol = 1e-12 * (1.0 + units)

    assert curve[0] == 0.0
    assert np.all(steps >= -tol)  # non-decreasing
    assert np.all(steps <= 1.0 + tol)
    assert np.all(np.diff(steps) <= tol)  # concave
    assert np.all(curve <= s + tol)
    assert np.all(curve <= mean + tol)
    past_top = s >= ref_top
    assert past_top.any()
    np.testing.assert_allclose(curve[past_top], mean, rtol=1e-9, atol=1e-12)
    below = s < ref_top - 1e-9  # the top carries round-off (18.000000000000004 for 18)
    if below.any() and ref_top > 0:
        assert curve[below][-1] < mean  # the curve is still rising below the top of the support


@settings(max_examples=50, deadline=None)
@given(_quantiles())
def test_curve_matches_the_quantile_function_integral(case):
    levels, q = case
    s = np.arange(0.0, 41.0)
    want, _ = _reference(levels, q, s)
    np.testing.assert_allclose(expected_sales(levels, q, 40), want, rtol=0, atol=2e-3)


# --- cumulative quantiles -----------------------------------------------------------------


def test_identical_independent_weeks_grow_mean_linearly_and_spread_like_sqrt():
    # Week demand U[0, 10]: mean 5, symmetric, q0.9 - q0.1 = 8.
    weeks = 6
    weekly = np.tile([1.0, 5.0, 9.0], (2, weeks, 1))
    out = cumulative_quantiles(DECILES, weekly)
    w = np.arange(1, weeks + 1.0)
    assert out.shape == (2, weeks, 3)
    np.testing.assert_allclose(out[..., 1], np.broadcast_to(5.0 * w, (2, weeks)), atol=1e-12)
    np.testing.assert_allclose(
        out[..., 2] - out[..., 0], np.broadcast_to(8.0 * np.sqrt(w), (2, weeks))
    )


def test_cumulative_mean_uses_the_distributions_mean():
    # Week quantiles (2, 5, 8): the lower tail from (0, 0) gives mean 4.9375 (not the median 5).
    out = cumulative_quantiles(DECILES, np.tile([2.0, 5.0, 8.0], (1, 3, 1)))
    np.testing.assert_allclose(out[0, :, 1], 4.9375 * np.arange(1, 4.0))


def test_cumulative_spread_without_deciles_uses_the_nearest_symmetric_pair():
    levels = (0.25, 0.5, 0.75, 0.95)
    z75 = 0.6744897501960817
    weekly = np.array([[[2.0, 4.0, 6.0, 9.0], [1.0, 2.0, 3.0, 3.0]]])
    out = cumulative_quantiles(levels, weekly)
    sd = np.array([4.0, 2.0]) / (2 * z75)
    cum_sd = np.sqrt(np.cumsum(sd**2))
    np.testing.assert_allclose(out[0, :, 2] - out[0, :, 0], 2 * z75 * cum_sd)


def test_cumulative_prefers_the_central_80_percent():
    levels = (0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95)
    weekly = np.array([[[0.0, 1.0, 1.5, 5.0, 8.5, 9.0, 30.0]]])
    out = cumulative_quantiles(levels, weekly)
    sd = 8.0 / (2 * Z90)
    assert out[0, 0, 5] - out[0, 0, 1] == pytest.approx(2 * Z90 * sd)


def test_cumulative_quantiles_are_non_negative_and_non_decreasing():
    # Low mean and wide spread: the normal's lower quantiles fall below zero and are clipped.
    weekly = np.array([[[0.0, 0.0, 4.0], [0.0, 1.0, 6.0]], [[3.0, 3.0, 3.0], [0.0, 0.0, 0.0]]])
    out = cumulative_quantiles(DECILES, weekly)
    assert np.all(out >= 0.0)
    assert np.all(np.diff(out, axis=-1) >= 0.0)
    assert out[0, 0, 0] == 0.0
    np.testing.assert_allclose(out[1, :, :], 3.0)  # no spread stays no spread


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("levels", "needle"),
    [
        ((0.5, 0.1, 0.9), "strictly increasing"),
        ((0.1, 0.5, 0.5), "levels[2]"),
        ((0.0, 0.5), "(0, 1)"),
        ((0.5, 1.0), "levels[1]"),
        ((0.1, float("nan")), "levels[1]"),
        ((), "non-empty"),
        ([[0.1, 0.5]], "1-D"),
    ],
)
def test_bad_levels_name_the_field(levels, needle):
    with pytest.raises(InvalidArgument) as err:
        expected_sales(levels, [1.0] * max(1, np.size(levels)), 3)
    assert err.value.field == "levels"
    assert needle in err.value.hint


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ([-1.0, 2.0, 3.0], "values[0] = -1.0 is negative"),
        ([[1.0, 2.0, 3.0], [1.0, float("nan"), 3.0]], "values[1, 1]"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0, float("inf")]], "not finite"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 4.0, 3.0], [5.0, 1.0, 0.0]], "values[2]"),
        ([3.0, 2.0, 4.0], "decreases from 3.0 at level 0.1"),
        ([1.0, 2.0], "3 quantiles"),
        (5.0, "3 quantiles"),
    ],
)
def test_bad_values_name_the_field_and_cell(values, needle):
    with pytest.raises(InvalidArgument) as err:
        expected_sales(DECILES, values, 3)
    assert err.value.field == "values"
    assert needle in err.value.hint
    with pytest.raises(InvalidArgument) as err:
        mean_demand(DECILES, values)
    assert err.value.field == "values"


@pytest.mark.parametrize("max_units", [-1, 2.5, True, "3"])
def test_bad_max_units_name_the_field(max_units):
    with pytest.raises(InvalidArgument) as err:
        expected_sales(DECILES, [1.0, 2.0, 3.0], max_units)
    assert err.value.field == "max_units"


def test_numpy_integer_max_units_is_accepted():
    assert expected_sales(DECILES, [1.0, 2.0, 3.0], np.int64(2)).shape == (3,)


def test_bad_weekly_values_name_their_field():
    with pytest.raises(InvalidArgument) as err:
        cumulative_quantiles(DECILES, [1.0, 2.0, 3.0])
    assert err.value.field == "weekly_values"
    with pytest.raises(InvalidArgument) as err:
        cumulative_quantiles(DECILES, [[[1.0, 2.0, 3.0], [2.0, 1.0, 3.0]]])
    assert err.value.field == "weekly_values"
    assert "weekly_values[0, 1]" in err.value.hint
    with pytest.raises(InvalidArgument) as err:
        cumulative_quantiles((0.5,), [[[1.0]]])
    assert err.value.field == "levels"


def test_bad_curve_names_its_field():
    with pytest.raises(InvalidArgument) as err:
        marginal_sales(3.0)
    assert err.value.field == "curve"
