"""The pick-up mix problem (allocation.pickup_problem): validation naming the field, and the
derived arrays the model is built from.

``make_problem`` and ``stock`` build the small problems of the other pick-up tests too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest

from allocation.pickup_problem import PickupBundle, PickupProblem, PickupTarget, StockCars
from turnwise.errors import InvalidArgument

LEVELS = (0.1, 0.5, 0.9)
MONDAY = date(2026, 11, 2)
CARRY = 7.0 * (10.0 + 90_000.0 * 0.06 / 365.0)
"""Weekly carrying cost of a car of the default trim: holding 10 CNY/day plus 6% a year on
its 90,000 CNY cost."""


def stock(*cars: tuple[int, int, int, int]) -> StockCars:
    """Cars as ``(store, trim, age_days, arrival_week)``; arrival_week -1 = on the lot."""
    if not cars:
        return StockCars.empty()
    store, trim, age, arrival = (np.array(col, dtype=np.int64) for col in zip(*cars, strict=True))
    return StockCars(store, trim, age, arrival)


def make_problem(
    stores: int = 1,
    trims: int = 1,
    weeks: int = 1,
    *,
    demand: object = 4.0,
    quantiles: np.ndarray | None = None,
    lot: object = 10,
    credit: object = 1e9,
    offer: object = 10,
    price: object = 100_000.0,
    cost: object = 90_000.0,
    holding: object = 10.0,
    multiple: object = 1,
    brands: tuple[str, ...] | None = None,
    authorised: np.ndarray | None = None,
    cover_weeks: int = 0,
    **fields: object,
) -> PickupProblem:
    """A small problem: stores ``S1..``, trims ``T1..`` (brand ``B1`` unless ``brands``), weeks
    from Monday 2026-11-02. ``demand`` is deterministic (all three quantiles equal, so demand is
    exactly that many cars), broadcast to (S, T, W) and zero where not authorised; ``quantiles``
    replaces it with (S, T, W, 3) quantiles. Per-store and per-trim values broadcast."""
    auth = np.ones((stores, trims), dtype=bool) if authorised is None else authorised
    if quantiles is None:
        cells = np.broadcast_to(np.asarray(demand, dtype=float), (stores, trims, weeks))
        cells = cells * auth[:, :, None]
        quantiles = np.repeat(cells[..., None], len(LEVELS), axis=3)
    return PickupProblem(
        store_ids=tuple(f"S{i + 1}" for i in range(stores)),
        trim_ids=tuple(f"T{i + 1}" for i in range(trims)),
        trim_brand_ids=brands or ("B1",) * trims,
        weeks=tuple(MONDAY + timedelta(days=7 * i) for i in range(weeks)),
        lot_capacity=np.broadcast_to(np.asarray(lot, dtype=np.int64), (stores,)).copy(),
        credit_limit_cny=np.broadcast_to(np.asarray(credit, dtype=float), (stores,)).copy(),
        authorised=auth,
        price_cny=np.broadcast_to(np.asarray(price, dtype=float), (trims,)).copy(),
        cost_cny=np.broadcast_to(np.asarray(cost, dtype=float), (trims,)).copy(),
        holding_cny_per_day=np.broadcast_to(np.asarray(holding, dtype=float), (trims,)).copy(),
        order_multiple=np.broadcast_to(np.asarray(multiple, dtype=np.int64), (trims,)).copy(),
        levels=np.array(LEVELS),
        demand=np.array(quantiles, dtype=float),
        offer=np.broadcast_to(np.asarray(offer, dtype=np.int64), (trims, weeks)).copy(),
        cover_weeks=cover_weeks,
        **fields,
    )


def _field_of(build: Callable[[], object]) -> str:
    with pytest.raises(InvalidArgument) as err:
        build()
    assert err.value.hint, "the error says how to fix it"
    return err.value.field


# --- a valid problem --------------------------------------------------------------------


def test_a_valid_problem_builds_and_reports_its_shape():
    p = make_problem(2, 3, 4)
    assert p.shape == (2, 3, 4)
    assert p.weeks[-1] == date(2026, 11, 23)
    assert p.targets == () and p.bundles == () and len(p.cars) == 0


def test_problem_is_frozen():
    p = make_problem()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.cover_weeks = 3


# --- validation names the field -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"lot_capacity": np.array([10, 10, 10])}, "lot_capacity"),
        ({"credit_limit_cny": np.array([1.0])}, "credit_limit_cny"),
        ({"price_cny": np.ones(2)}, "price_cny"),
        ({"holding_cny_per_day": np.ones((3, 1))}, "holding_cny_per_day"),
        ({"order_multiple": np.ones(1, dtype=np.int64)}, "order_multiple"),
        ({"offer": np.ones((1, 3))}, "offer"),
        ({"authorised": np.ones((3, 2), dtype=bool)}, "authorised"),
        ({"trim_brand_ids": ("B1",)}, "trim_brand_ids"),
        ({"demand": np.full((2, 3, 2, 3), 4.0)}, "demand"),
        ({"demand": np.full((2, 3, 1, 2), 4.0)}, "demand"),
        ({"levels": np.array([[0.1, 0.5, 0.9]])}, "demand"),
    ],
)
def test_bad_shapes_name_the_field(fields, field):
    p = make_problem(2, 3)
    assert _field_of(lambda: dataclasses.replace(p, **fields)) == field


def test_authorised_must_be_boolean():
    assert _field_of(lambda: make_problem(authorised=np.ones((1, 1), dtype=int))) == "authorised"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: make_problem(2, lot=[10, -1]), "lot_capacity[S2]"),
        (lambda: make_problem(2, credit=[float("nan"), 1.0]), "credit_limit_cny[S1]"),
        (lambda: make_problem(1, 2, price=[1.0, -5.0]), "price_cny[T2]"),
        (lambda: make_problem(cost=-1.0), "cost_cny[T1]"),
        (lambda: make_problem(holding=float("inf")), "holding_cny_per_day[T1]"),
        (lambda: make_problem(1, 1, 2, offer=[[3, -1]]), "offer[T1,2026-11-09]"),
    ],
)
def test_negative_or_non_finite_values_name_the_cell(build, field):
    assert _field_of(build) == field


def test_weeks_must_be_consecutive_mondays():
    p = make_problem(1, 1, 2)
    tuesday = date(2026, 11, 3)
    assert _field_of(lambda: dataclasses.replace(p, weeks=(tuesday, MONDAY))) == "weeks[0]"
    skipped = (MONDAY, MONDAY + timedelta(days=14))
    assert _field_of(lambda: dataclasses.replace(p, weeks=skipped)) == "weeks[1]"
    backwards = (MONDAY, MONDAY - timedelta(days=7))
    assert _field_of(lambda: dataclasses.replace(p, weeks=backwards)) == "weeks[1]"


@pytest.mark.parametrize("weeks", [0, 27])
def test_horizon_length_is_bounded(weeks):
    p = make_problem()
    many = tuple(MONDAY + timedelta(days=7 * i) for i in range(weeks))
    demand = np.zeros((1, 1, weeks, 3))
    assert (
        _field_of(
            lambda: dataclasses.replace(p, weeks=many, demand=demand, offer=np.zeros((1, weeks)))
        )
        == "weeks"
    )


def test_duplicate_ids_name_the_second():
    p = make_problem(3, 2)
    assert _field_of(lambda: dataclasses.replace(p, store_ids=("S1", "S2", "S1"))) == "store_ids[2]"
    assert _field_of(lambda: dataclasses.replace(p, trim_ids=("T1", "T1"))) == "trim_ids[1]"


def test_no_store_or_no_trim():
    p = make_problem()
    assert _field_of(lambda: dataclasses.replace(p, store_ids=())) == "store_ids"
    assert _field_of(lambda: dataclasses.replace(p, trim_ids=())) == "trim_ids"


@pytest.mark.parametrize("multiple", [0, -2])
def test_order_multiple_below_one(multiple):
    assert _field_of(lambda: make_problem(1, 2, multiple=[1, multiple])) == "order_multiple[T2]"


def test_order_multiple_must_be_whole():
    p = make_problem(1, 2)
    bad = np.array([1.0, 2.5])
    assert _field_of(lambda: dataclasses.replace(p, order_multiple=bad)) == "order_multiple[T2]"


def test_demand_on_an_unauthorised_cell_names_the_cell():
    auth = np.array([[True, True], [True, False]])
    quantiles = np.zeros((2, 2, 1, 3))
    quantiles[1, 1, 0] = [0.0, 0.0, 1.0]  # only the top quantile is positive
    field = _field_of(lambda: make_problem(2, 2, authorised=auth, quantiles=quantiles))
    assert field == "demand[S2,T2]"
    # zero demand there is fine
    make_problem(2, 2, authorised=auth, quantiles=np.zeros((2, 2, 1, 3)))


@pytest.mark.parametrize("cell", [(0, 0), (1, 0), (1, 1)])
@pytest.mark.parametrize(
    "values", [[3.0, 2.0, 4.0], [-1.0, 2.0, 4.0], [1.0, float("nan"), 4.0], [1.0, 2.0, np.inf]]
)
def test_bad_quantiles_name_the_cell(cell, values):
    quantiles = np.full((2, 2, 2, 3), 4.0)
    quantiles[cell[0], cell[1], 1] = values
    field = _field_of(lambda: make_problem(2, 2, 2, quantiles=quantiles))
    assert field == f"demand[S{cell[0] + 1},T{cell[1] + 1},2026-11-09]"


def test_bad_levels_are_named_under_demand():
    p = make_problem()
    assert _field_of(lambda: dataclasses.replace(p, levels=np.array([0.5, 0.1, 0.9]))) == (
        "demand.levels"
    )


@pytest.mark.parametrize(
    ("cars", "field"),
    [
        (stock((1, 0, 0, -1)), "cars.store[0]"),
        (stock((0, 0, 0, -1), (-1, 0, 0, -1)), "cars.store[1]"),
        (stock((0, 2, 0, -1)), "cars.trim[0]"),
        (stock((0, 0, -3, -1)), "cars.age_days[0]"),
        (stock((0, 0, 0, 0), (0, 0, 0, 2)), "cars.arrival_week[1]"),
        (stock((0, 0, 0, -2)), "cars.arrival_week[0]"),
        (
            StockCars(np.zeros(2, np.int64), np.zeros(1, np.int64), np.zeros(2), np.zeros(2)),
            "cars.trim",
        ),
    ],
)
def test_bad_cars_name_the_field(cars, field):
    assert _field_of(lambda: make_problem(1, 2, 2, cars=cars)) == field


@pytest.mark.parametrize(
    ("target", "field"),
    [
        (PickupTarget("B9", (0,), 5, hard=True), "targets[1].brand_id"),
        (PickupTarget("B1", (0, 2), 5, hard=True), "targets[1].weeks"),
        (PickupTarget("B1", (-1,), 5, hard=True), "targets[1].weeks"),
        (PickupTarget("B1", (), 5, hard=True), "targets[1].weeks"),
        (PickupTarget("B1", (0,), -1, hard=False), "targets[1].units"),
        (
            PickupTarget("B1", (0,), 5, hard=False, penalty_cny_per_unit=-1.0),
            "targets[1].penalty_cny_per_unit",
        ),
    ],
)
def test_bad_targets_name_the_field(target, field):
    good = PickupTarget("B1", (0, 1), 3, hard=False, penalty_cny_per_unit=100.0)
    assert _field_of(lambda: make_problem(1, 2, 2, targets=(good, target))) == field


@pytest.mark.parametrize(
    ("bundle", "field"),
    [
        (PickupBundle(1, 1, 2), "bundles[0].slow_trim"),
        (PickupBundle(2, 0, 2), "bundles[0].hot_trim"),
        (PickupBundle(0, -1, 2), "bundles[0].slow_trim"),
        (PickupBundle(0, 1, 0), "bundles[0].hot_units_per_slow"),
    ],
)
def test_bad_bundles_name_the_field(bundle, field):
    assert _field_of(lambda: make_problem(1, 2, bundles=(bundle,))) == field


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"group_credit_limit_cny": -1.0}, "group_credit_limit_cny"),
        ({"group_credit_limit_cny": float("nan")}, "group_credit_limit_cny"),
        ({"max_days_of_supply": -1.0}, "max_days_of_supply"),
        ({"credit_rate_per_year": float("inf")}, "credit_rate_per_year"),
        ({"cover_weeks": 27}, "cover_weeks"),
        ({"cover_weeks": -1}, "cover_weeks"),
        ({"slow_moving_days": 0}, "slow_moving_days"),
    ],
)
def test_bad_scalars_name_the_field(fields, field):
    p = make_problem()
    assert _field_of(lambda: dataclasses.replace(p, **fields)) == field


# --- derived arrays -----------------------------------------------------------------------


def _held_problem() -> PickupProblem:
    # S1: two T1 on the lot, one T2 arriving in week 1. S2: one T1 arriving in week 0, one T2
    # on the lot and one T2 arriving in week 2.
    cars = stock(
        (0, 0, 30, -1), (0, 0, 5, -1), (0, 1, 0, 1), (1, 0, 0, 0), (1, 1, 100, -1), (1, 1, 0, 2)
    )
    return make_problem(2, 2, 3, cars=cars)


def test_on_hand_arriving_and_base_position():
    p = _held_problem()
    np.testing.assert_array_equal(p.on_hand(), [[2, 0], [0, 1]])
    arriving = np.zeros((2, 2, 3), dtype=int)
    arriving[0, 1, 1] = 1
    arriving[1, 0, 0] = 1
    arriving[1, 1, 2] = 1
    np.testing.assert_array_equal(p.arriving(), arriving)
    np.testing.assert_array_equal(
        p.base_position(),
        [[[2, 2, 2], [0, 1, 1]], [[1, 1, 1], [1, 1, 2]]],
    )
    assert p.base_position().dtype == np.int64


def test_no_cars_means_zero_positions():
    p = make_problem(2, 2, 2)
    assert not p.on_hand().any() and not p.arriving().any() and not p.base_position().any()
    assert p.on_hand().shape == (2, 2) and p.base_position().shape == (2, 2, 2)


def test_margin_carrying_and_mean_demand():
    p = make_problem(1, 2, 2, demand=[[[4.0, 2.5], [0.0, 1.0]]], price=[100_000.0, 50_000.0])
    np.testing.assert_allclose(p.margin_cny, [10_000.0, -40_000.0])
    np.testing.assert_allclose(p.weekly_carrying_cny, [CARRY, CARRY])
    assert pytest.approx(173.5616438, rel=1e-9) == CARRY
    np.testing.assert_allclose(p.mean_weekly_demand(), [[[4.0, 2.5], [0.0, 1.0]]], atol=1e-12)


def test_brand_index_and_describe():
    p = make_problem(2, 3, 2, brands=("B2", "B1", "B2"))
    index = p.brand_index()
    assert list(index) == ["B2", "B1"]
    np.testing.assert_array_equal(index["B2"], [0, 2])
    np.testing.assert_array_equal(index["B1"], [1])
    assert p.describe(1, 2, 1) == "S2,T3,2026-11-09"
    assert p.describe(t=0) == "T1"


def test_target_name_falls_back_to_the_brand():
    assert PickupTarget("B3", (0,), 1, hard=True).name == "target[B3]"
    assert PickupTarget("B3", (0,), 1, hard=True, label="target[B3,2026-11]").name == (
        "target[B3,2026-11]"
    )
