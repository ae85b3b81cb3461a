"""KPIs of a pick-up plan (allocation.pickup_kpis), the proportional baseline
(allocation.pickup_baseline) and building the problem from a dealer group's tables
(allocation.pickup_network).

``demo_problem`` builds the problem of a generated demo group for the other pick-up tests too.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from allocation.pickup_baseline import proportional
from allocation.pickup_kpis import current, evaluate
from allocation.pickup_mix import solve
from allocation.pickup_network import (
    DEFAULT_TARGET_PENALTY_CNY,
    NetworkTables,
    PickupOverrides,
    build_problem,
)
from allocation.pickup_problem import PickupProblem, PickupTarget
from dealer_group.demo import DemoGroup, DemoSpec, generate
from tests.test_pickup_problem import CARRY, make_problem, stock
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits

MARGIN = 10_000.0
COST = 90_000.0

# --- the demo group -------------------------------------------------------------------------


@functools.cache
def demo_group(stores: int = 6, trims: int = 16) -> DemoGroup:
    return generate(DemoSpec(stores=stores, trims=trims, seed=1))


def tables(group: DemoGroup) -> NetworkTables:
    return NetworkTables(
        stores=group.stores,
        authorisations=group.authorisations,
        trims=group.trims,
        inventory=group.inventory,
        oem_offers=group.oem_offers,
        brand_targets=group.brand_targets,
        bundles=group.bundles,
    )


def demand_frame(group: DemoGroup, first: date, weeks: int) -> pd.DataFrame:
    """Weekly demand quantiles of every store and trim it may sell: the mean of its last 8
    weeks of sales as the median, half and one and a half times it as q0.1 and q0.9."""
    start = (group.spec.history_end - timedelta(weeks=8)).isoformat()
    recent = group.sales[group.sales["week_start"] >= start]
    mean = recent.groupby(["store_id", "trim_id"])["units"].sum() / 8.0
    sells = group.authorisations.merge(group.trims[["trim_id", "brand_id"]], on="brand_id")
    cells = sells[["store_id", "trim_id"]].sort_values(["store_id", "trim_id"])
    rate = mean.reindex(pd.MultiIndex.from_frame(cells), fill_value=0.0).to_numpy()
    frames = []
    for w in range(weeks):
        frame = cells.copy()
        frame["week_start"] = (first + timedelta(weeks=w)).isoformat()
        frame["q0.1"], frame["q0.5"], frame["q0.9"] = 0.5 * rate, rate, 1.5 * rate
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def demo_problem(
    stores: int = 6, trims: int = 16, weeks: int = 4, first: date = date(2026, 11, 16), soft=False
) -> PickupProblem:
    """The demo group's problem; with ``soft`` every brand target is soft."""
    group = demo_group(stores, trims)
    problem = build_problem(tables(group), first, weeks, demand_frame(group, first, weeks))
    if soft:
        targets = tuple(
            dataclasses.replace(t, hard=False, penalty_cny_per_unit=DEFAULT_TARGET_PENALTY_CNY)
            for t in problem.targets
        )
        problem = dataclasses.replace(problem, targets=targets)
    return problem


# --- KPIs on deterministic demand ------------------------------------------------------------


def _aged_problem(**fields) -> PickupProblem:
    # three cars on the lot, 10, 100 and 200 days old; two weeks of 4 cars of demand
    cars = stock((0, 0, 10, -1), (0, 0, 100, -1), (0, 0, 200, -1))
    return make_problem(1, 1, 2, cars=cars, **fields)


def test_kpis_of_a_plan_that_meets_the_demand():
    # week 0: 3 + 2 cars, 4 sold, 1 carried; week 1: 1 + 4 cars, 4 sold, 1 left
    kpis = evaluate(_aged_problem(), np.array([[[2, 4]]]), samples=5)
    assert kpis.expected_sales == pytest.approx(8.0)
    assert kpis.fill_rate == pytest.approx(1.0)
    assert kpis.days_of_supply == pytest.approx(1 / (8 / 14))  # 1 car, 8 cars in 14 days
    assert kpis.expected_profit_cny == pytest.approx(8 * MARGIN - 2 * CARRY)
    assert kpis.credit_used_cny == pytest.approx(5 * COST)
    assert kpis.cars_ordered == 6
    assert kpis.target_attainment == 1.0
    assert kpis.aged_share == 0.0  # the old cars sold first
    assert kpis.slow_moving_share == 0.0  # the car left is a week old and sells in 2 days


def test_kpis_of_a_plan_that_runs_short():
    # week 0: 3 cars for 4 customers (one lost); week 1: 2 cars for 4
    kpis = evaluate(_aged_problem(), np.array([[[0, 2]]]), samples=5)
    assert kpis.expected_sales == pytest.approx(5.0)
    assert kpis.fill_rate == pytest.approx(5 / 8)
    assert kpis.days_of_supply == 0.0
    assert kpis.expected_profit_cny == pytest.approx(5 * MARGIN)
    assert kpis.credit_used_cny == pytest.approx(3 * COST)


def test_aged_and_slow_moving_shares():
    # one week, one car of demand: the 200-day car sells; the 100-day car (107 at the end) is
    # aged, and with a car a week it waits 7 more days; the 10-day car (17) waits 14: not slow
    p = make_problem(demand=1.0, cars=stock((0, 0, 10, -1), (0, 0, 100, -1), (0, 0, 200, -1)))
    kpis = evaluate(p, np.zeros((1, 1, 1), dtype=np.int64), samples=3)
    assert kpis.expected_sales == pytest.approx(1.0)
    assert kpis.aged_share == pytest.approx(0.5)
    assert kpis.slow_moving_share == pytest.approx(0.5)
    assert kpis.days_of_supply == pytest.approx(14.0)
    now = current(p)
    assert now.days_of_supply == pytest.approx(21.0)
    assert now.aged_share == pytest.approx(2 / 3)  # 100 and 200 days old now
    assert now.slow_moving_share == pytest.approx(2 / 3)  # 200 + 7 and 100 + 14 days
    assert now.credit_used_cny == pytest.approx(3 * COST)
    assert now.cars_ordered == 0 and now.target_attainment == 1.0


def test_target_attainment_and_the_soft_penalty():
    target = PickupTarget("B1", (0, 1), 10, hard=False, penalty_cny_per_unit=1000.0)
    p = _aged_problem(targets=(target,))
    kpis = evaluate(p, np.array([[[2, 4]]]), samples=2)
    assert kpis.target_attainment == pytest.approx(0.6)
    assert kpis.expected_profit_cny == pytest.approx(8 * MARGIN - 2 * CARRY - 4 * 1000.0)
    assert current(p).target_attainment == 0.0


def test_kpis_agree_with_the_solvers_objective_on_deterministic_demand():
    p = make_problem(1, 1, 2, offer=[[10, 0]])  # 8 cars in week 0, 4 carried
    solution = solve(p, SolveLimits(relative_gap=1e-6))
    kpis = evaluate(p, solution.orders, samples=2)
    assert kpis.expected_profit_cny == pytest.approx(solution.objective, rel=1e-9)
    assert kpis.expected_sales == pytest.approx(8.0)


# --- KPIs on sampled demand ------------------------------------------------------------------


def _uniform_problem() -> PickupProblem:
    # S1: demand uniform on [0, 8] a week; S2: exactly 2 a week
    quantiles = np.zeros((2, 1, 2, 3))
    quantiles[0] = [0.8, 4.0, 7.2]
    quantiles[1] = 2.0
    return make_problem(2, 1, 2, quantiles=quantiles, cars=stock(*[(0, 0, 0, -1)] * 40))


def test_the_same_seed_gives_the_same_kpis():
    p = _uniform_problem()
    orders = np.array([[[0, 0]], [[3, 1]]])
    assert evaluate(p, orders, samples=50, seed=3) == evaluate(p, orders, samples=50, seed=3)
    assert evaluate(p, orders, samples=50, seed=3) != evaluate(p, orders, samples=50, seed=4)


def test_sampled_sales_converge_to_the_mean_demand():
    # 40 cars never run out at S1: it sells its mean demand, 4 a week; S2 sells 2 + 2
    kpis = evaluate(_uniform_problem(), np.array([[[0, 0]], [[3, 1]]]), samples=4000, seed=1)
    assert kpis.expected_sales == pytest.approx(8.0 + 4.0, abs=0.15)
    assert kpis.fill_rate == pytest.approx(1.0)


def test_bad_arguments_name_the_field():
    p = make_problem(1, 1, 2)
    with pytest.raises(InvalidArgument) as err:
        evaluate(p, np.zeros((1, 1, 1), dtype=np.int64))
    assert err.value.field == "orders"
    with pytest.raises(InvalidArgument) as err:
        evaluate(p, np.zeros((1, 1, 2), dtype=np.int64), samples=0)
    assert err.value.field == "samples"
    with pytest.raises(InvalidArgument) as err:
        proportional(p, np.zeros((2, 1)))
    assert err.value.field == "recent_weekly_sales"


# --- the proportional baseline ---------------------------------------------------------------


def _baseline_problem(**fields) -> PickupProblem:
    # S1 sells both brands and holds 4 T1; S2 sells only B1 and has credit for 1.5 cars
    auth = np.array([[True, True], [True, False]])
    return make_problem(
        2,
        2,
        1,
        brands=("B1", "B2"),
        authorised=auth,
        lot=[7, 5],
        credit=[1e9, 1.5 * COST],
        offer=[[4], [10]],
        cars=stock(*[(0, 0, 0, -1)] * 4),
        **fields,
    )


RECENT = np.array([[3.0, 2.0], [3.0, 5.0]])


def test_proportional_shares_the_offer_and_cuts_to_lot_and_credit():
    # T1: asks of 3 and 3 for an offer of 4 -> 2 and 2. S1 has 3 spaces: T1 2, T2 1 (of 2).
    # S2 has credit for one car; its T2 sales do not count (not authorised).
    orders = proportional(_baseline_problem(), RECENT)
    np.testing.assert_array_equal(orders, [[[2], [1]], [[1], [0]]])


def test_proportional_keeps_order_multiples():
    orders = proportional(_baseline_problem(multiple=[1, 2]), RECENT)
    np.testing.assert_array_equal(orders, [[[2], [0]], [[1], [0]]])  # 1 T2 is no pair


def test_proportional_respects_offer_lot_and_authorisations_over_weeks():
    rng = np.random.default_rng(5)
    auth = rng.random((4, 3)) < 0.7
    p = make_problem(
        4,
        3,
        3,
        brands=("B1", "B2", "B3"),
        authorised=auth,
        lot=[6, 0, 12, 9],
        offer=rng.integers(0, 9, size=(3, 3)),
        cars=stock((0, 0, 5, -1), (0, 1, 5, -1), (2, 2, 0, 0), (3, 0, 0, 1)),
    )
    recent = rng.uniform(0.0, 6.0, size=(4, 3))
    orders = proportional(p, recent)
    assert (orders >= 0).all()
    assert (orders.sum(axis=0) <= p.offer).all()
    assert not orders[~auth].any()
    first_week = p.on_hand() + p.arriving()[:, :, 0] + orders[:, :, 0]
    assert (first_week.sum(axis=1) <= np.maximum(p.lot_capacity, 0)).all()
    assert orders.sum() > 0


# --- the problem from the network's tables ---------------------------------------------------

FIRST = date(2026, 11, 16)  # 4 weeks: three of November's five Mondays, one of December's four


def test_build_problem_from_the_demo_group():
    group = demo_group()
    demand = demand_frame(group, FIRST, 4)
    p = build_problem(tables(group), FIRST, 4, demand)
    assert p.shape == (6, 16, 4)
    assert p.store_ids == tuple(sorted(group.stores["store_id"]))
    assert p.trim_ids == tuple(sorted(group.trims["trim_id"]))
    assert p.weeks == (
        date(2026, 11, 16),
        date(2026, 11, 23),
        date(2026, 11, 30),
        date(2026, 12, 7),
    )
    stores = group.stores.set_index("store_id").loc[list(p.store_ids)]
    trims = group.trims.set_index("trim_id").loc[list(p.trim_ids)]
    np.testing.assert_array_equal(p.lot_capacity, stores["lot_capacity"])
    np.testing.assert_array_equal(p.credit_limit_cny, stores["credit_limit_cny"])
    np.testing.assert_array_equal(p.price_cny, trims["msrp_cny"])
    np.testing.assert_array_equal(p.cost_cny, trims["cost_cny"])
    assert p.trim_brand_ids == tuple(trims["brand_id"])
    auth = group.authorisations
    sells = set(zip(auth["store_id"], auth["brand_id"], strict=True))
    want = [[(s, trims.loc[t, "brand_id"]) in sells for t in p.trim_ids] for s in p.store_ids]
    np.testing.assert_array_equal(p.authorised, want)
    np.testing.assert_array_equal(p.levels, [0.1, 0.5, 0.9])
    # each demand row lands in its cell; cells without a row have none
    s = demand["store_id"].map({x: i for i, x in enumerate(p.store_ids)}).to_numpy()
    t = demand["trim_id"].map({x: i for i, x in enumerate(p.trim_ids)}).to_numpy()
    w = demand["week_start"].map({d.isoformat(): i for i, d in enumerate(p.weeks)}).to_numpy()
    np.testing.assert_allclose(p.demand[s, t, w], demand[["q0.1", "q0.5", "q0.9"]].to_numpy())
    assert not p.demand[~p.authorised].any()
    assert p.demand.sum() > 0


def test_targets_are_prorated_by_the_weeks_of_the_month_in_the_horizon():
    group = demo_group()
    p = build_problem(tables(group), FIRST, 4, demand_frame(group, FIRST, 4))
    want = []
    for row in group.brand_targets.itertuples():
        weeks, share = {"2026-11": ((0, 1, 2), 3 / 5), "2026-12": ((3,), 1 / 4)}[row.month]
        hard = bool(row.is_hard)
        want.append(
            PickupTarget(
                brand_id=row.brand_id,
                weeks=weeks,
                units=math.ceil(row.target_units * share - 1e-9),
                hard=hard,
                penalty_cny_per_unit=0.0 if hard else DEFAULT_TARGET_PENALTY_CNY,
                label=f"target[{row.brand_id},{row.month}]",
            )
        )
    assert list(p.targets) == want
    assert any(t.hard for t in want) and any(not t.hard for t in want)


def test_offers_cars_and_bundles_come_from_their_tables():
    group = demo_group()
    p = build_problem(tables(group), FIRST, 4, demand_frame(group, FIRST, 4))
    t_of = {x: i for i, x in enumerate(p.trim_ids)}
    s_of = {x: i for i, x in enumerate(p.store_ids)}
    offers = np.zeros((16, 4), dtype=np.int64)
    for row in group.oem_offers.itertuples():
        w = (date.fromisoformat(row.week_start) - FIRST).days // 7
        if 0 <= w < 4:
            offers[t_of[row.trim_id], w] = row.max_units
    np.testing.assert_array_equal(p.offer, offers)
    on_hand, arriving = np.zeros((6, 16), dtype=int), np.zeros((6, 16, 4), dtype=int)
    for car in group.inventory.itertuples():
        days = (date.fromisoformat(car.arrival_date) - FIRST).days
        cell = (s_of[car.store_id], t_of[car.trim_id])
        if car.status == "IN_STOCK" or (car.status == "IN_TRANSIT" and days < 0):
            on_hand[cell] += 1
        elif car.status == "IN_TRANSIT" and days < 28:
            arriving[(*cell, days // 7)] += 1
    np.testing.assert_array_equal(p.on_hand(), on_hand)
    np.testing.assert_array_equal(p.arriving(), arriving)
    lot = p.cars.arrival_week < 0
    assert (p.cars.age_days[lot] >= 0).all() and not p.cars.age_days[~lot].any()
    bundles = [(b.hot_trim, b.slow_trim, b.hot_units_per_slow) for b in p.bundles]
    want = [
        (t_of[r.hot_trim_id], t_of[r.slow_trim_id], r.hot_units_per_slow)
        for r in group.bundles.itertuples()
    ]
    assert bundles == want and bundles


def test_the_latest_schedule_version_of_each_line_is_used():
    group = demo_group()
    offers = group.oem_offers
    line = offers[(offers["week_start"] == "2026-11-23") & (offers["trim_id"] == "T0003")]
    newer = line.assign(schedule_version=line["schedule_version"] + 1, max_units=1)
    net = dataclasses.replace(tables(group), oem_offers=pd.concat([offers, newer]))
    p = build_problem(net, FIRST, 4, demand_frame(group, FIRST, 4))
    base = build_problem(tables(group), FIRST, 4, demand_frame(group, FIRST, 4))
    t = p.trim_ids.index("T0003")
    assert p.offer[t, 1] == 1
    changed = np.argwhere(p.offer != base.offer)
    np.testing.assert_array_equal(changed, [[t, 1]])


def test_overrides_replace_the_stored_values():
    group = demo_group()
    overrides = PickupOverrides(
        credit_limit_cny={"S002": 1e6},
        lot_capacity={"S001": 50},
        group_credit_limit_cny=5e7,
        offers={(date(2026, 11, 23), "T0003"): 7},
        price_factor={"T0001": 1.1},
        demand_factor={"T0004": 2.0},
        order_multiple={"T0002": 3},
    )
    demand = demand_frame(group, FIRST, 4)
    base = build_problem(tables(group), FIRST, 4, demand)
    p = build_problem(tables(group), FIRST, 4, demand, overrides)
    assert p.lot_capacity[0] == 50 and p.credit_limit_cny[1] == 1e6
    np.testing.assert_array_equal(p.lot_capacity[1:], base.lot_capacity[1:])
    assert p.group_credit_limit_cny == 5e7
    assert p.offer[2, 1] == 7
    assert p.price_cny[0] == pytest.approx(1.1 * base.price_cny[0])
    np.testing.assert_allclose(p.demand[:, 3], 2.0 * base.demand[:, 3])
    np.testing.assert_array_equal(p.demand[:, 4:], base.demand[:, 4:])
    assert p.order_multiple.tolist() == [1, 3] + [1] * 14


def test_store_selection():
    group = demo_group()
    p = build_problem(
        tables(group), FIRST, 4, demand_frame(group, FIRST, 4), store_ids=("S005", "S002")
    )
    assert p.store_ids == ("S002", "S005")
    inventory = group.inventory
    held = inventory[inventory["store_id"].isin(["S002", "S005"])]
    in_transit = (held["status"] == "IN_TRANSIT") & (held["arrival_date"] < "2026-12-14")
    kept = held[(held["status"] == "IN_STOCK") | in_transit]
    assert len(p.cars) == len(kept)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (PickupOverrides(lot_capacity={"S999": 10}), "overrides.lot_capacity[S999]"),
        (PickupOverrides(credit_limit_cny={"S999": 1.0}), "overrides.credit_limit_cny[S999]"),
        (PickupOverrides(lot_capacity={"S001": -1}), "overrides.lot_capacity[S001]"),
        (PickupOverrides(price_factor={"T9999": 1.1}), "overrides.price_factor[T9999]"),
        (PickupOverrides(price_factor={"T0001": 0.0}), "overrides.price_factor[T0001]"),
        (PickupOverrides(order_multiple={"T9999": 2}), "overrides.order_multiple[T9999]"),
        (PickupOverrides(order_multiple={"T0001": 0}), "overrides.order_multiple[T0001]"),
        (PickupOverrides(demand_factor={"T9999": 2.0}), "overrides.demand_factor[T9999]"),
        (PickupOverrides(demand_factor={"T0001": -1.0}), "overrides.demand_factor[T0001]"),
        (PickupOverrides(offers={(date(2026, 11, 23), "T9999"): 3}), "overrides.offers[T9999]"),
        (
            PickupOverrides(offers={(date(2027, 1, 4), "T0001"): 3}),
            "overrides.offers[2027-01-04,T0001]",
        ),
        (
            PickupOverrides(offers={(date(2026, 11, 23), "T0001"): -3}),
            "overrides.offers[2026-11-23,T0001]",
        ),
    ],
)
def test_bad_overrides_name_the_field(overrides, field):
    group = demo_group()
    with pytest.raises(InvalidArgument) as err:
        build_problem(tables(group), FIRST, 4, demand_frame(group, FIRST, 4), overrides)
    assert err.value.field == field


def test_bad_requests_name_the_field():
    group = demo_group()
    net, demand = tables(group), demand_frame(group, FIRST, 4)

    def field_of(**kwargs) -> str:
        args = {"tables": net, "first_week": FIRST, "weeks": 4, "demand": demand, **kwargs}
        with pytest.raises(InvalidArgument) as err:
            build_problem(**args)
        return err.value.field

    assert field_of(first_week=date(2026, 11, 17)) == "first_week"
    assert field_of(weeks=0) == "weeks"
    assert field_of(weeks=27) == "weeks"
    assert field_of(store_ids=("S001", "S999")) == "store_ids[1]"
    assert field_of(demand=demand.drop(columns=["q0.1", "q0.5", "q0.9"])) == "demand"
    stray = demand.copy()
    stray.loc[7, "trim_id"] = "T9999"
    assert field_of(demand=stray) == "demand[7].trim_id"


def test_demand_for_a_trim_the_store_may_not_sell():
    group = demo_group()
    demand = demand_frame(group, FIRST, 4)
    p = build_problem(tables(group), FIRST, 4, demand)
    s, t = (int(i) for i in np.argwhere(~p.authorised)[0])
    extra = pd.DataFrame(
        {
            "store_id": [p.store_ids[s]],
            "trim_id": [p.trim_ids[t]],
            "week_start": [FIRST.isoformat()],
            "q0.1": [1.0],
            "q0.5": [2.0],
            "q0.9": [3.0],
        }
    )
    stray = pd.concat([demand, extra], ignore_index=True)
    with pytest.raises(InvalidArgument) as err:
        build_problem(tables(group), FIRST, 4, stray)
    assert err.value.field == f"demand[{len(demand)}]"
    dropped = build_problem(tables(group), FIRST, 4, stray, drop_unauthorised_demand=True)
    np.testing.assert_array_equal(dropped.demand, p.demand)
