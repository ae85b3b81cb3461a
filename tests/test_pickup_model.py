"""The pick-up mix MIP's structure (allocation.pickup_model), without solving it."""

from __future__ import annotations

import numpy as np
import pytest

from allocation.pickup_model import CREDIT_UNIT, RowKind, build_model, supply_caps
from allocation.pickup_problem import PickupBundle, PickupTarget
from tests.test_pickup_problem import CARRY, make_problem, stock

MARGIN = 10_000.0  # price 100,000 less cost 90,000


def _cells(index) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in cell) for cell in index.order_cells}


def _upper(index) -> dict[tuple[int, int, int], float]:
    return dict(zip(map(tuple, index.order_cells.tolist()), index.order_upper, strict=True))


def _rows(index, kind: RowKind) -> list[tuple[int, int, int]]:
    return [tuple(int(v) for v in index.row_keys[r]) for r in index.rows_of(kind)]


# --- order columns ------------------------------------------------------------------------


def test_no_order_column_for_unauthorised_unoffered_or_demandless_cells():
    # S2 may not sell brand B2 (T2); T1 is not offered in week 1; T3 has no demand anywhere.
    auth = np.array([[True, True, True], [True, False, True]])
    demand = np.ones((2, 3, 2)) * np.array([4.0, 4.0, 0.0])[None, :, None]
    offer = [[10, 0], [10, 10], [10, 10]]
    p = make_problem(
        2, 3, 2, brands=("B1", "B2", "B1"), authorised=auth, demand=demand, offer=offer
    )
    _, index = build_model(p)
    assert _cells(index) == {(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 1, 1)}
    assert index.n_orders == 4
    assert index.integer[: index.n_orders].all() and not index.integer[index.n_orders :].any()


@pytest.mark.parametrize(
    ("offer", "lot", "multiple", "days", "upper"),
    [
        (10, 10, 1, 60.0, 10),  # all of the offer
        (7, 5, 1, 60.0, 5),  # the lot
        (3, 10, 1, 60.0, 3),  # the offer
        (7, 10, 2, 60.0, 3),  # 7 cars are 3 whole pairs
        (20, 20, 1, 14.0, 8),  # 14 days of 4 cars a week
        (20, 20, 3, 14.0, 2),  # 8 cars allowed: 2 whole triples
        (20, 20, 3, 10.0, 1),  # 10 days: 5 cars
    ],
)
def test_order_upper_bound_is_offer_lot_and_supply_cap_in_multiples(
    offer, lot, multiple, days, upper
):
    p = make_problem(offer=offer, lot=lot, multiple=multiple, max_days_of_supply=days)
    _, index = build_model(p)
    assert _upper(index) == {(0, 0, 0): upper}
    np.testing.assert_array_equal(index.order_multiple, [multiple])
    orders = index.orders_from(np.r_[upper, np.zeros(index.n_columns - 1)])
    np.testing.assert_array_equal(orders, [upper * multiple])


def test_order_is_dropped_when_its_bound_is_below_one_multiple():
    _, index = build_model(make_problem(offer=2, multiple=3))
    assert index.n_orders == 0


def test_supply_caps_by_hand():
    # Two cars on the lot, 4 a week for two weeks: 4/7 a day, 14 days allow 8 cars of stock.
    # Week 0: 8 - 2 held = 6 more. Week 1: 8 + 4 sold in week 0 - 2 held = 10 cumulated.
    cars = stock((0, 0, 0, -1), (0, 0, 0, -1))
    p = make_problem(1, 1, 2, offer=20, lot=20, max_days_of_supply=14.0, cars=cars)
    caps = supply_caps(p, p.mean_weekly_demand(), p.base_position())
    np.testing.assert_array_equal(caps, [[[6, 10]]])
    _, index = build_model(p)
    assert _upper(index) == {(0, 0, 0): 6, (0, 0, 1): 10}
    # the cumulative cap binds in week 1 only (week 0 is its column bound)
    assert _rows(index, RowKind.SUPPLY_CAP) == [(0, 0, 1)]
    row = index.rows_of(RowKind.SUPPLY_CAP)[0]
    assert index.row_upper[row] == 10
    np.testing.assert_array_equal(index.matrix[row].toarray()[0, : index.n_orders], [1.0, 1.0])


def test_supply_cap_with_no_demand_allows_nothing():
    caps_of = make_problem(1, 2, demand=[[[4.0], [0.0]]])
    caps = supply_caps(caps_of, caps_of.mean_weekly_demand(), caps_of.base_position())
    assert caps[0, 1, 0] == 0 and caps[0, 0, 0] > 0


def test_order_objective_is_the_carrying_cost_of_the_weeks_left():
    p = make_problem(1, 1, 3, multiple=2, offer=10)
    _, index = build_model(p)
    weeks = index.order_cells[:, 2]
    np.testing.assert_allclose(index.objective[: index.n_orders], -CARRY * 2 * (3 - weeks))


# --- rows ---------------------------------------------------------------------------------


def test_offer_rows_only_where_the_stores_could_take_more_than_the_offer():
    _, index = build_model(make_problem(2, 1, 1, lot=5, offer=12))
    assert _rows(index, RowKind.OFFER) == []
    _, index = build_model(make_problem(2, 1, 1, lot=5, offer=8))
    assert _rows(index, RowKind.OFFER) == [(0, 0, -1)]
    row = index.rows_of(RowKind.OFFER)[0]
    assert index.row_upper[row] == 8
    np.testing.assert_array_equal(index.matrix[row].toarray()[0, : index.n_orders], [1.0, 1.0])


def test_one_target_row_per_target_and_shortfalls_only_for_soft_ones():
    targets = (
        PickupTarget("B1", (0,), 3, hard=True, label="hard"),
        PickupTarget("B2", (0, 1), 5, hard=False, penalty_cny_per_unit=3000.0),
        PickupTarget("B1", (1,), 2, hard=False, penalty_cny_per_unit=500.0),
    )
    p = make_problem(2, 3, 2, brands=("B1", "B2", "B1"), multiple=[1, 2, 1], targets=targets)
    _, index = build_model(p)
    assert _rows(index, RowKind.TARGET) == [(0, -1, -1), (1, -1, -1), (2, -1, -1)]
    rows = index.rows_of(RowKind.TARGET)
    np.testing.assert_array_equal(index.row_lower[rows], [3, 5, 2])
    assert np.isinf(index.row_upper[rows]).all()
    np.testing.assert_array_equal(index.shortfall_targets, [1, 2])
    assert index.n_columns == index.n_orders + index.n_segments + 2
    short0 = index.n_orders + index.n_segments
    np.testing.assert_allclose(index.objective[short0:], [-3000.0, -500.0])
    dense = index.matrix[rows].toarray()
    cells = index.order_cells
    brand = np.array(["B1", "B2", "B1"])[cells[:, 1]]
    want = np.zeros((3, index.n_orders))
    want[0] = np.where((brand == "B1") & (cells[:, 2] == 0), 1.0, 0.0)
    want[1] = np.where(brand == "B2", 2.0, 0.0)  # in cars: two per order unit
    want[2] = np.where((brand == "B1") & (cells[:, 2] == 1), 1.0, 0.0)
    np.testing.assert_array_equal(dense[:, : index.n_orders], want)
    np.testing.assert_array_equal(dense[:, short0:], [[0, 0], [1, 0], [0, 1]])


def test_bundle_rows_only_when_bundles_exist():
    p = make_problem(2, 2, 2, multiple=[1, 2])
    _, index = build_model(p)
    assert _rows(index, RowKind.BUNDLE) == []
    _, index = build_model(make_problem(2, 2, 2, multiple=[1, 2], bundles=(PickupBundle(0, 1, 3),)))
    assert _rows(index, RowKind.BUNDLE) == [(0, 0, -1), (0, 1, -1)]
    rows = index.rows_of(RowKind.BUNDLE)
    assert (index.row_upper[rows] == 0).all()
    dense = index.matrix[rows].toarray()[:, : index.n_orders]
    cells = index.order_cells
    for i, week in enumerate((0, 1)):
        by_then = cells[:, 2] <= week  # cumulative over the weeks
        want = np.where(cells[:, 1] == 0, 1.0, -3.0 * 2) * by_then
        np.testing.assert_array_equal(dense[i], want)


def test_group_credit_rows_only_with_a_group_limit():
    _, index = build_model(make_problem(2, 1, 2))
    assert _rows(index, RowKind.GROUP_CREDIT) == []
    _, index = build_model(make_problem(2, 1, 2, group_credit_limit_cny=5e5))
    assert _rows(index, RowKind.GROUP_CREDIT) == [(0, -1, -1), (1, -1, -1)]
    rows = index.rows_of(RowKind.GROUP_CREDIT)
    np.testing.assert_allclose(index.row_upper[rows], 5e5 / CREDIT_UNIT)
    # both stores' orders count, at cost in units of 10,000 CNY
    week0 = index.matrix[rows[0]].toarray()[0, : index.n_orders]
    np.testing.assert_allclose(week0, np.where(index.order_cells[:, 2] == 0, 9.0, 0.0))


def test_lot_and_credit_rows_per_store_and_week_with_orders():
    p = make_problem(2, 1, 2, lot=[7, 9], credit=[4.5e5, 9e5], cars=stock((1, 0, 0, -1)))
    _, index = build_model(p)
    assert _rows(index, RowKind.LOT) == [(0, 0, -1), (0, 1, -1), (1, 0, -1), (1, 1, -1)]
    assert _rows(index, RowKind.CREDIT) == _rows(index, RowKind.LOT)
    lot = index.rows_of(RowKind.LOT)
    credit = index.rows_of(RowKind.CREDIT)
    # S2 holds a car in week 0, sold by week 1 (demand 4)
    np.testing.assert_allclose(index.row_upper[lot], [7, 7, 8, 9])
    np.testing.assert_allclose(
        index.row_upper[credit], np.array([4.5e5, 4.5e5, 8.1e5, 9e5]) / CREDIT_UNIT
    )


def test_limits_already_exceeded_by_stock_are_raised_to_it():
    # five cars on a lot of three: no more room, but ordering nothing stays feasible
    cars = stock(*[(0, 0, 10, -1)] * 5)
    p = make_problem(1, 1, 2, lot=3, credit=1e5, demand=2.0, cars=cars)
    _, index = build_model(p)
    lot = index.rows_of(RowKind.LOT)
    credit = index.rows_of(RowKind.CREDIT)
    np.testing.assert_allclose(index.row_upper[lot], [0.0, 0.0])
    np.testing.assert_allclose(index.row_upper[credit], [0.0, 0.0])
    zero = index.columns_for(p, np.zeros(index.n_orders))
    assert index.is_feasible(zero, 1e-9)


def test_sales_rows_are_the_cells_with_segments():
    p = make_problem(1, 2, 2, demand=[[[2.0, 1.0], [0.0, 3.0]]])
    _, index = build_model(p)
    keys = _rows(index, RowKind.SALES)
    assert keys == sorted({tuple(int(v) for v in c) for c in index.segment_cells})
    assert keys == [(0, 0, 0), (0, 0, 1), (0, 1, 1)]
    # deterministic demand: one segment of slope 1 per car of cumulative demand
    assert np.allclose(index.segment_slopes, 1.0)
    per_row = {k: int((index.segment_cells == k).all(axis=1).sum()) for k in keys}
    assert per_row == {(0, 0, 0): 2, (0, 0, 1): 3, (0, 1, 1): 3}


# --- the model and the index --------------------------------------------------------------


def test_model_matches_the_index():
    targets = (PickupTarget("B1", (0, 1), 4, hard=False, penalty_cny_per_unit=100.0),)
    p = make_problem(2, 2, 2, offer=20, targets=targets, bundles=(PickupBundle(0, 1, 2),))
    model, index = build_model(p)
    assert len(model.variables.ids) == index.n_columns
    assert list(model.variables.integers) == [True] * index.n_orders + [False] * (
        index.n_columns - index.n_orders
    )
    assert len(model.linear_constraints.ids) == len(index.row_kinds) == index.matrix.shape[0]
    assert len(model.linear_constraint_matrix.coefficients) == index.matrix.nnz
    assert model.objective.maximize
    assert model.objective.offset == pytest.approx(index.objective_constant)
    assert index.matrix.shape[1] == index.n_columns
    assert index.row_keys.shape == (len(index.row_kinds), 3)
    assert set(index.row_kinds) == {
        RowKind.SALES,
        RowKind.LOT,
        RowKind.CREDIT,
        RowKind.BUNDLE,
        RowKind.TARGET,
    }


def test_the_zero_plan_is_feasible_without_hard_targets_and_worth_the_constant():
    cars = stock(*[(0, 0, 0, -1)] * 6)
    p = make_problem(1, 1, 1, cars=cars)  # six cars held, four sold, two carried a week
    _, index = build_model(p)
    assert index.objective_constant == pytest.approx(4 * MARGIN - 2 * CARRY)
    zero = index.columns_for(p, np.zeros(index.n_orders))
    assert zero.shape == (index.n_columns,)
    assert index.is_feasible(zero, 1e-9)
    assert index.value_of(zero) == pytest.approx(index.objective_constant)


def test_the_zero_plan_pays_the_soft_shortfall_and_breaks_a_hard_target():
    soft = PickupTarget("B1", (0,), 3, hard=False, penalty_cny_per_unit=1000.0)
    p = make_problem(1, 1, 1, targets=(soft,))
    _, index = build_model(p)
    zero = index.columns_for(p, np.zeros(index.n_orders))
    assert index.is_feasible(zero, 1e-9)
    assert index.value_of(zero) == pytest.approx(index.objective_constant - 3000.0)
    hard = PickupTarget("B1", (0,), 3, hard=True)
    p = make_problem(1, 1, 1, targets=(hard,))
    _, index = build_model(p)
    assert not index.is_feasible(index.columns_for(p, np.zeros(index.n_orders)), 1e-9)
    assert index.is_feasible(index.columns_for(p, np.array([3.0])), 1e-9)


@pytest.mark.parametrize(
    ("cars", "value"),
    [(2, 2 * MARGIN), (4, 4 * MARGIN), (6, 4 * MARGIN - 2 * CARRY), (10, 4 * MARGIN - 6 * CARRY)],
)
def test_value_of_a_plan_by_hand(cars, value):
    p = make_problem(offer=10)
    _, index = build_model(p)
    values = index.columns_for(p, np.array([float(cars)]))
    assert index.is_feasible(values, 1e-9)
    assert index.value_of(values) == pytest.approx(value)
    np.testing.assert_array_equal(index.orders_from(values), [cars])


def test_cover_weeks_value_the_stock_left_at_the_end():
    # one week of 4 cars, and 2 more weeks of the same demand after the horizon
    p = make_problem(offer=20, lot=20, cover_weeks=2)
    _, index = build_model(p)
    assert index.value_of(index.columns_for(p, np.array([12.0]))) == pytest.approx(12 * MARGIN)
    # the 2 cars left after the cover weeks are carried through the last week and both
    # cover weeks
    assert index.value_of(index.columns_for(p, np.array([14.0]))) == pytest.approx(
        12 * MARGIN - 2 * 3 * CARRY
    )


def test_is_feasible_rejects_values_outside_the_bounds_and_rows():
    p = make_problem(2, 1, 1, lot=5, offer=8)
    _, index = build_model(p)
    ok = index.columns_for(p, np.array([4.0, 4.0]))
    assert index.is_feasible(ok, 1e-9)
    too_many = index.columns_for(p, np.array([5.0, 4.0]))  # 9 cars of an offer of 8
    assert not index.is_feasible(too_many, 1e-9)
    above_bound = index.columns_for(p, np.array([6.0, 0.0]))  # 6 cars on a lot of 5
    assert not index.is_feasible(above_bound, 1e-9)
    negative = ok.copy()
    negative[0] = -1.0
    assert not index.is_feasible(negative, 1e-9)
