"""The pick-up mix solver (allocation.pickup_mix) and its explanations
(allocation.pickup_explain): tiny instances with a hand-computed optimum, infeasible hard
targets, bundles, Hypothesis invariants on random small problems, warm starts and time limits.

Demand is deterministic in the hand-computed cases (the three quantiles equal: demand is
exactly that many cars), so that expected sales are ``min(demand, stock)``; ``cover_weeks`` is 0
unless a test is about it. A car of the default trim has a margin of 10,000 CNY and costs
``CARRY`` a week on the lot.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocation.demand_curve import cumulative_quantiles, expected_sales
from allocation.pickup_explain import binding_constraints, line_reasons, trim_decisions
from allocation.pickup_mix import solve
from allocation.pickup_model import CREDIT_UNIT, RowKind
from allocation.pickup_problem import PickupBundle, PickupProblem, PickupTarget
from tests.test_pickup_kpis import demo_problem
from tests.test_pickup_problem import CARRY, make_problem, stock
from turnwise.errors import InvalidArgument
from turnwise.solving import SolveLimits, SolveStatus, relative_gap

MARGIN = 10_000.0
EXACT = SolveLimits(time_limit_seconds=20.0, relative_gap=1e-6)
"""Limits of the hand-computed cases: optimal, to round-off."""


def _solve(problem: PickupProblem, limits: SolveLimits = EXACT):
    solution = solve(problem, limits)
    assert solution.index is not None
    return solution


def _binding(problem, solution) -> dict[str, float]:
    assert solution.relaxation is not None and solution.relaxation.feasible
    found = binding_constraints(problem, solution.index, solution.relaxation.duals)
    return {b.name: b.shadow_price_cny for b in found}


def _optimal(solution, objective: float) -> None:
    assert solution.status is SolveStatus.OPTIMAL
    assert solution.objective == pytest.approx(objective, rel=1e-9)
    assert solution.bound == pytest.approx(objective, rel=1e-6)
    assert 0.0 <= solution.gap <= 1e-6


# --- one store, one trim, one week: demand 4 --------------------------------------------


def test_orders_exactly_the_demand():
    p = make_problem(lot=10, offer=10, demand=4.0)
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[4]]])
    _optimal(solution, 4 * MARGIN)
    assert solution.method in ("neighbourhood", "mip")
    assert solution.orders.dtype == np.int64


def test_orders_nothing_when_the_margin_is_negative():
    solution = _solve(make_problem(price=89_000.0))
    np.testing.assert_array_equal(solution.orders, [[[0]]])
    _optimal(solution, 0.0)


def test_lot_of_three_orders_three():
    solution = _solve(make_problem(lot=3))
    np.testing.assert_array_equal(solution.orders, [[[3]]])
    _optimal(solution, 3 * MARGIN)


def test_full_lot_binds_with_the_margin_of_one_more_car_as_shadow_price():
    # Two cars of T2 (no demand) take two of the five spaces: T1 gets three, and one more
    # space would sell one more T1 (its margin; it sells within the week, no carrying).
    p = make_problem(1, 2, lot=5, demand=[[[4.0], [0.0]]], cars=stock((0, 1, 0, -1), (0, 1, 0, -1)))
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[3], [0]]])
    _optimal(solution, 3 * MARGIN - 2 * CARRY)
    binding = _binding(p, solution)
    assert binding["lot[S1]"] == pytest.approx(MARGIN, rel=1e-6)
    assert "credit[S1]" not in binding  # credit is not short


def test_lot_goes_to_the_higher_margin_trim_first():
    # Lot 5, demand 4 of each: T1 (margin 10,000) gets 4, T2 (margin 5,000) the last space,
    # which is worth T2's margin.
    p = make_problem(1, 2, lot=5, price=[100_000.0, 95_000.0])
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[4], [1]]])
    _optimal(solution, 4 * MARGIN + 5_000.0)
    assert _binding(p, solution)["lot[S1]"] == pytest.approx(5_000.0, rel=1e-6)


def test_offer_of_two_orders_two():
    p = make_problem(offer=2)
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[2]]])
    _optimal(solution, 2 * MARGIN)
    # with one store the offer is the order's column bound, not a row
    assert solution.index.rows_of(RowKind.OFFER).size == 0
    assert solution.index.order_upper.tolist() == [2.0]


def test_two_stores_share_an_offer_of_five():
    # Demand 4 at each store: any split of the 5 cars with at most 4 per store sells all 5,
    # and one more car offered would sell one more (its margin).
    p = make_problem(2, 1, 1, offer=5)
    solution = _solve(p)
    assert solution.orders.sum() == 5 and solution.orders.max() <= 4
    _optimal(solution, 5 * MARGIN)
    assert _binding(p, solution)["offer[T1,2026-11-02]"] == pytest.approx(MARGIN, rel=1e-6)


def test_two_stores_share_an_offer_by_the_chance_each_car_sells():
    # S1's demand is exactly 4; S2's is uniform on [0, 8] (quantiles 0.8, 4, 7.2): its k-th
    # car sells with probability 1 - (k - 0.5) / 8. S1's 4 cars sell for sure, the fifth goes to
    # S2 (15/16), and one more car offered would go to S2 as well (13/16).
    quantiles = np.array([[[[4.0, 4.0, 4.0]]], [[[0.8, 4.0, 7.2]]]])
    p = make_problem(2, 1, 1, offer=5, quantiles=quantiles)
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[4]], [[1]]])
    _optimal(solution, MARGIN * (4 + 15 / 16) - CARRY / 16)
    shadow = _binding(p, solution)["offer[T1,2026-11-02]"]
    assert shadow == pytest.approx(MARGIN * 13 / 16 - CARRY * 3 / 16, rel=1e-6)


def test_order_multiple_of_three_rounds_up_when_the_margin_pays_for_the_rest():
    # 3 cars sell 3; 6 cars sell 4 and carry 2 for the week.
    solution = _solve(make_problem(multiple=3))
    np.testing.assert_array_equal(solution.orders, [[[6]]])
    assert solution.objective == pytest.approx(4 * MARGIN - 2 * CARRY, rel=1e-9)
    assert solution.status in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    # the LP takes 4/3 of a multiple: its bound is the 4 cars sold, nothing carried
    assert solution.objective <= solution.bound <= 4 * MARGIN * (1 + 1e-9)


def test_order_multiple_of_three_rounds_down_when_it_does_not():
    # margin 300: 3 cars make 900; 6 cars make 1,200 - 2 x 173.56 = 852.88.
    solution = _solve(make_problem(multiple=3, price=90_300.0))
    np.testing.assert_array_equal(solution.orders, [[[3]]])
    assert solution.objective == pytest.approx(900.0, rel=1e-9)
    assert solution.objective <= solution.bound <= 1_200.0 * (1 + 1e-9)


@pytest.mark.parametrize(("cover", "cars"), [(0, 4), (1, 8), (2, 12)])
def test_cover_weeks_order_for_the_demand_after_the_horizon(cover, cars):
    # the last week's sales count `cover` more weeks of its demand; all of it sells then, so
    # no car is carried past the cover weeks
    solution = _solve(make_problem(lot=20, offer=20, cover_weeks=cover))
    np.testing.assert_array_equal(solution.orders, [[[cars]]])
    _optimal(solution, cars * MARGIN)


def test_cars_ordered_early_are_carried():
    # Offered only in week 0; demand 4 in each of 2 weeks: 8 cars, 4 carried through week 0.
    solution = _solve(make_problem(1, 1, 2, offer=[[10, 0]]))
    np.testing.assert_array_equal(solution.orders, [[[8, 0]]])
    _optimal(solution, 8 * MARGIN - 4 * CARRY)
    # with a lot of 6 only 6 fit, 2 of them carried
    solution = _solve(make_problem(1, 1, 2, lot=6, offer=[[10, 0]]))
    np.testing.assert_array_equal(solution.orders, [[[6, 0]]])
    _optimal(solution, 6 * MARGIN - 2 * CARRY)


def test_stock_on_hand_is_sold_before_ordering():
    cars = stock(*[(0, 0, 0, -1)] * 3)
    solution = _solve(make_problem(cars=cars))
    np.testing.assert_array_equal(solution.orders, [[[1]]])
    _optimal(solution, 4 * MARGIN)


# --- hard and soft brand targets ----------------------------------------------------------

_TARGET = "target[B1,2026-11]"


def _target_problem(hard: bool) -> PickupProblem:
    # two trims of brand B1 at one store with 5 spaces; the target asks for 8 cars
    target = PickupTarget(
        "B1", (0,), 8, hard=hard, penalty_cny_per_unit=0.0 if hard else 3000.0, label=_TARGET
    )
    return make_problem(1, 2, lot=5, targets=(target,))


def test_a_hard_target_above_the_lot_space_is_infeasible_and_diagnosed():
    p = _target_problem(hard=True)
    solution = _solve(p)
    assert solution.status is SolveStatus.INFEASIBLE
    np.testing.assert_array_equal(solution.orders, np.zeros((1, 2, 1)))
    assert math.isnan(solution.objective)
    assert _TARGET in solution.diagnosis
    assert "asks 8 cars" in solution.diagnosis and "at most 5" in solution.diagnosis
    assert "lot[S1]" in solution.diagnosis
    assert "credit[S1]" not in solution.diagnosis  # credit holds nothing back


def test_the_same_target_soft_is_met_as_far_as_the_lot_allows():
    p = _target_problem(hard=False)
    solution = _solve(p)
    assert solution.orders.sum() == 5 and solution.orders.max() <= 4
    # 5 cars sold, 3 short at 3,000 CNY each
    _optimal(solution, 5 * MARGIN - 3 * 3000.0)
    index = solution.index
    np.testing.assert_allclose(solution.values[index.n_orders + index.n_segments :], [3.0])
    binding = _binding(p, solution)
    assert binding["lot[S1]"] == pytest.approx(MARGIN + 3000.0, rel=1e-6)
    assert binding[_TARGET] == pytest.approx(-3000.0, rel=1e-6)


def test_a_hard_target_met_only_by_fractional_orders_is_infeasible():
    # 4 cars asked, trims ordered in threes, 5 spaces: the LP meets it, no whole plan does
    target = PickupTarget("B1", (0,), 4, hard=True, label=_TARGET)
    p = make_problem(1, 2, lot=5, multiple=3, targets=(target,))
    solution = _solve(p)
    assert solution.status is SolveStatus.INFEASIBLE
    assert not solution.orders.any()
    assert "fractional" in solution.diagnosis and "T1" in solution.diagnosis


def test_a_hard_target_within_reach_is_met():
    # 6 cars asked, 5 sell: the sixth is the trim that is cheaper to carry (T1)
    target = PickupTarget("B1", (0,), 6, hard=True, label=_TARGET)
    p = make_problem(1, 2, lot=10, demand=[[[4.0], [1.0]]], holding=[10.0, 30.0], targets=(target,))
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[5], [1]]])
    _optimal(solution, 5 * MARGIN - CARRY)


# --- bundles ------------------------------------------------------------------------------


def _bundle_problem(bundles: tuple[PickupBundle, ...]) -> PickupProblem:
    # T1 (hot): 4 a week at both stores, offered only in week 0. T2 (slow): 1 car in week 1 at
    # S1 only. One T2 for every 4 T1, group-wide and by each week.
    demand = np.zeros((2, 2, 2))
    demand[:, 0, :] = 4.0
    demand[0, 1, 1] = 1.0
    return make_problem(2, 2, 2, demand=demand, offer=[[16, 0], [10, 10]], lot=20, bundles=bundles)


def test_bundle_takes_the_slow_trim_by_the_week_of_the_hot_one():
    solution = _solve(_bundle_problem(()))
    # without the bundle: 8 hot at each store in week 0, the one slow car in week 1
    np.testing.assert_array_equal(solution.orders, [[[8, 0], [0, 1]], [[8, 0], [0, 0]]])
    _optimal(solution, 17 * MARGIN - 8 * CARRY)

    p = _bundle_problem((PickupBundle(hot_trim=0, slow_trim=1, hot_units_per_slow=4),))
    solution = _solve(p)
    # 16 hot in week 0 need 4 slow by week 0, all at S1 (S2 sells none): 3 of them unsold
    np.testing.assert_array_equal(solution.orders, [[[8, 0], [4, 0]], [[8, 0], [0, 0]]])
    _optimal(solution, 17 * MARGIN - 8 * CARRY - 7 * CARRY)
    hot = np.cumsum(solution.orders[:, 0].sum(axis=0))
    slow = np.cumsum(solution.orders[:, 1].sum(axis=0))
    assert (hot <= 4 * slow).all()
    assert any(name.startswith("bundle[T1->T2,") for name in _binding(p, solution))


# --- explanations -------------------------------------------------------------------------


def test_trim_decisions_say_why():
    # T1 is ordered; T2 is not offered; T3's brand is sold by no store; T4 has no demand.
    auth = np.array([[True, True, False, True]] * 2)
    p = make_problem(
        2,
        4,
        brands=("B1", "B1", "B2", "B1"),
        authorised=auth,
        offer=[[10], [0], [10], [10]],
        demand=[[[4.0], [4.0], [0.0], [0.0]]] * 2,
    )
    solution = _solve(p)
    decisions = trim_decisions(p, solution.orders, solution.relaxation.duals, solution.index)
    assert [d.trim_id for d in decisions] == ["T1", "T2", "T3", "T4"]
    assert [d.ordered_units for d in decisions] == [8, 0, 0, 0]
    assert decisions[0].reason.startswith("ordered 8")
    assert decisions[1].reason == "the OEM offers none in the horizon"
    assert decisions[2].reason == "no store in the plan sells brand B2"
    assert decisions[3].reason == "no demand forecast in the horizon"
    assert decisions[0].expected_demand == pytest.approx(8.0)


def test_trim_decisions_name_the_full_lot():
    p = make_problem(1, 2, lot=2, demand=[[[4.0], [0.0]]], cars=stock((0, 1, 0, -1), (0, 1, 0, -1)))
    solution = _solve(p)
    assert not solution.orders.any()
    decisions = trim_decisions(p, solution.orders, solution.relaxation.duals, solution.index)
    assert decisions[0].reason == "held back by lot[S1]"


def test_line_reasons_give_each_lines_expected_sales():
    p = make_problem(2, 1, 2, lot=3, offer=10)
    solution = _solve(p)
    np.testing.assert_array_equal(solution.orders, [[[3, 3]], [[3, 3]]])
    lines = line_reasons(p, solution.orders, solution.index)
    assert [(r.week, r.store) for r in lines] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    for line in lines:
        assert line.expected_sales == pytest.approx(3.0)
        assert "100%" in line.reason


# --- Hypothesis invariants on random small problems -----------------------------------------


@st.composite
def _problems(draw: st.DrawFn) -> PickupProblem:
    n_s, n_t, n_w = draw(st.integers(2, 4)), draw(st.integers(2, 5)), draw(st.integers(1, 3))

    def ints(lo: int, hi: int, n: int) -> np.ndarray:
        return np.array(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)))

    n_b = draw(st.integers(1, 2))
    brand_of = ints(0, n_b - 1, n_t)
    # each store sells one of the brands, or both
    choices = [(True, False), (False, True), (True, True)] if n_b == 2 else [(True,)]
    sells = np.array([draw(st.sampled_from(choices)) for _ in range(n_s)])
    authorised = sells[:, brand_of]
    quantiles = np.zeros((n_s, n_t, n_w, 3))
    for s, t, w in np.ndindex(n_s, n_t, n_w):
        if authorised[s, t]:
            kind = draw(st.sampled_from(["spread", "exact", "spread", "zero"]))
            low = draw(st.integers(0, 5)) * 0.5
            if kind == "exact":
                quantiles[s, t, w] = low
            elif kind == "spread":
                steps = np.cumsum(
                    [low, draw(st.integers(0, 6)) * 0.5, draw(st.integers(1, 6)) * 0.5]
                )
                quantiles[s, t, w] = steps
    cost = ints(5, 15, n_t) * 10_000.0
    cars = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_s - 1),
                st.integers(0, n_t - 1),
                st.integers(0, 200),
                st.integers(-1, n_w - 1),
            ),
            max_size=8,
        )
    )
    bundles = ()
    if draw(st.booleans()):
        hot, slow = draw(st.lists(st.integers(0, n_t - 1), min_size=2, max_size=2, unique=True))
        bundles = (PickupBundle(hot, slow, draw(st.integers(1, 4))),)
    targets = tuple(
        PickupTarget(
            f"B{draw(st.sampled_from(sorted(set(brand_of.tolist())))) + 1}",
            tuple(sorted(draw(st.sets(st.integers(0, n_w - 1), min_size=1)))),
            draw(st.integers(0, 12)),
            hard=False,
            penalty_cny_per_unit=float(draw(st.integers(0, 5)) * 1000),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    group = draw(st.one_of(st.none(), st.integers(0, 30).map(lambda k: k * 100_000.0)))
    return make_problem(
        n_s,
        n_t,
        n_w,
        quantiles=quantiles,
        authorised=authorised,
        brands=tuple(f"B{b + 1}" for b in brand_of),
        lot=ints(0, 15, n_s),
        credit=ints(1, 15, n_s) * 100_000.0,
        offer=ints(0, 8, n_t * n_w).reshape(n_t, n_w),
        cost=cost,
        price=cost + ints(-1, 20, n_t) * 1000.0,
        holding=ints(0, 60, n_t) * 1.0,
        multiple=ints(1, 3, n_t),
        cars=stock(*cars),
        bundles=bundles,
        targets=targets,
        group_credit_limit_cny=group,
        cover_weeks=draw(st.integers(0, 2)),
        max_days_of_supply=float(draw(st.sampled_from([14, 30, 60, 90]))),
    )


def _sales(problem: PickupProblem, position: np.ndarray, cover: int = 0) -> np.ndarray:
    """(S, T, W) E[min(D_1..w, position_w)], the model's cumulative expected sales, straight
    from the demand curve; with ``cover`` the last week's demand runs on that many weeks."""
    demand = problem.demand
    if cover:
        demand = np.concatenate([demand, np.repeat(demand[:, :, -1:], cover, axis=2)], axis=2)
    cumulative = cumulative_quantiles(problem.levels, demand)
    n_w = len(problem.weeks)
    out = np.zeros(position.shape)
    for s, t, w in np.ndindex(*position.shape):
        at = w if w < n_w - 1 else w + cover
        curve = expected_sales(problem.levels, cumulative[s, t, at], int(position[s, t, w]))
        out[s, t, w] = curve[-1]
    return out


def _before(x: np.ndarray) -> np.ndarray:
    """The value of the week before (0 before the first)."""
    return np.concatenate([np.zeros_like(x[:, :, :1]), x[:, :, :-1]], axis=2)


def _within(value: np.ndarray, limit: np.ndarray, unit: float = 1.0) -> bool:
    """``value <= limit`` to the solver's relative tolerance (in ``unit``s)."""
    return bool((value <= limit + 1e-6 * np.maximum(unit, np.abs(limit))).all())


def _check_plan(problem: PickupProblem, orders: np.ndarray) -> None:
    """Every hard limit of the plan, recomputed from the problem."""
    n_s, n_t, n_w = problem.shape
    assert orders.shape == (n_s, n_t, n_w) and (orders >= 0).all()
    assert not orders[~problem.authorised].any()
    assert (orders % problem.order_multiple[None, :, None] == 0).all()
    assert (orders.sum(axis=0) <= problem.offer).all()
    base = problem.base_position()
    position = base + np.cumsum(orders, axis=2)
    # cars on the lot when each week's orders arrive, with the sales of the weeks before as
    # the model counts them; limits already exceeded by the stock held are raised to it
    on_lot = position - _before(_sales(problem, position))
    held = base - _before(_sales(problem, base))
    assert _within(on_lot.sum(axis=1), np.maximum(problem.lot_capacity[:, None], held.sum(axis=1)))
    cost = problem.cost_cny[None, :, None]
    credit, held_credit = (on_lot * cost).sum(axis=1), (held * cost).sum(axis=1)
    credit_limit = np.maximum(problem.credit_limit_cny[:, None], held_credit)
    assert _within(credit, credit_limit, CREDIT_UNIT)
    if problem.group_credit_limit_cny is not None:
        group = np.maximum(problem.group_credit_limit_cny, held_credit.sum(axis=0))
        assert _within(credit.sum(axis=0), group, CREDIT_UNIT)
    # days of supply after each order within the cap (but for the slow trims of bundles,
    # which are taken for their hot trims' sake)
    mean = problem.mean_weekly_demand()
    daily = mean.sum(axis=2, keepdims=True) / (7.0 * n_w)
    projected = position - _before(np.cumsum(mean, axis=2))
    ordered = np.cumsum(orders, axis=2) > 0
    ordered[:, [b.slow_trim for b in problem.bundles]] = False
    assert (~ordered | (projected <= problem.max_days_of_supply * daily + 1e-6)).all(), (
        "days of supply above the cap"
    )
    for b in problem.bundles:
        hot = np.cumsum(orders[:, b.hot_trim].sum(axis=0))
        slow = np.cumsum(orders[:, b.slow_trim].sum(axis=0))
        assert (hot <= b.hot_units_per_slow * slow).all()


def _objective(problem: PickupProblem, orders: np.ndarray) -> float:
    """The model's objective of a plan, recomputed from the problem and the demand curve."""
    position = problem.base_position() + np.cumsum(orders, axis=2)
    sold = _sales(problem, position, cover=problem.cover_weeks)
    margin = (problem.margin_cny[None, :] * sold[:, :, -1]).sum()
    carrying = (problem.weekly_carrying_cny[None, :, None] * (position - sold)).sum()
    # the cars unsold after the cover weeks are carried through them too
    left = position[:, :, -1] - sold[:, :, -1]
    carrying += problem.cover_weeks * (problem.weekly_carrying_cny[None, :] * left).sum()
    brands = problem.brand_index()
    penalty = 0.0
    for target in problem.targets:
        got = orders[:, brands[target.brand_id]][:, :, list(target.weeks)].sum()
        penalty += target.penalty_cny_per_unit * max(0, target.units - got)
    return float(margin - carrying - penalty)


LIMITS = SolveLimits(time_limit_seconds=10.0, relative_gap=1e-4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems())
def test_plans_keep_every_limit(problem):
    solution = solve(problem, LIMITS)
    assert solution.status is not SolveStatus.INFEASIBLE  # no hard target
    assert solution.method in ("neighbourhood", "mip")
    _check_plan(problem, solution.orders)
    index = solution.index
    assert index.is_feasible(solution.values, 1e-6)
    np.testing.assert_array_equal(
        solution.values, index.columns_for(problem, solution.values[: index.n_orders])
    )
    # the objective is the plan's, as the formulation states it
    scale = 1e-6 * max(1.0, abs(solution.objective))
    assert solution.objective == pytest.approx(index.value_of(solution.values), abs=scale)
    assert solution.objective == pytest.approx(_objective(problem, solution.orders), abs=1.0)
    # and bounded by the LP, within the gap reported
    assert solution.gap >= 0.0
    assert solution.bound >= solution.objective - scale
    assert solution.gap == pytest.approx(
        abs(solution.bound - solution.objective) / max(abs(solution.objective), 1.0), abs=1e-12
    )
    if solution.status is SolveStatus.OPTIMAL:
        assert solution.gap <= LIMITS.relative_gap + 1e-12
        nothing = index.value_of(index.columns_for(problem, np.zeros(index.n_orders)))
        assert solution.objective >= nothing - LIMITS.relative_gap * max(
            abs(solution.objective), 1.0
        )


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems(), st.integers(0, 2**32 - 1))
def test_a_plan_as_hint_is_kept_or_repaired(problem, seed):
    # any plan of the right shape is a valid hint: cut to the bounds and repaired, the result
    # keeps every limit
    rng = np.random.default_rng(seed)
    hint = rng.integers(0, 6, size=problem.shape)
    solution = solve(problem, LIMITS, hint=hint)
    assert solution.status is not SolveStatus.INFEASIBLE
    _check_plan(problem, solution.orders)
    assert solution.index.is_feasible(solution.values, 1e-6)


# --- warm start and time limits ------------------------------------------------------------


@pytest.mark.slow
def test_warm_start_after_a_credit_cut():
    limits = SolveLimits(time_limit_seconds=20.0, relative_gap=1e-3)
    p = demo_problem(weeks=4, soft=True)
    first = solve(p, limits)
    assert first.status is SolveStatus.OPTIMAL
    short = [name[7:-1] for name in _binding(p, first) if name.startswith("credit[")]
    assert short, "the demo's credit binds somewhere"
    repaired = 0
    for store in short:
        credit = p.credit_limit_cny.copy()
        credit[p.store_ids.index(store)] *= 0.9
        changed = dataclasses.replace(p, credit_limit_cny=credit)
        warm = solve(changed, limits, hint=first.orders)
        cold = solve(changed, limits)
        index = warm.index
        assert index.is_feasible(warm.values, 1e-6)
        _check_plan(changed, warm.orders)
        assert warm.status is not SolveStatus.INFEASIBLE
        assert warm.bound == pytest.approx(cold.bound, rel=1e-6)  # the same LP
        # within the gap it reports (the requested one when optimal) of the cold re-solve
        assert cold.objective - warm.objective <= warm.gap * max(abs(warm.objective), 1.0) + 1e-6
        if warm.status is SolveStatus.OPTIMAL:
            assert warm.gap <= limits.relative_gap
        hint = first.orders[tuple(index.order_cells.T)] / index.order_multiple
        repaired += not index.is_feasible(index.columns_for(changed, hint), 1e-6)
    assert repaired, "a cut made the first plan infeasible: the hint was repaired"


def test_a_plan_that_is_still_optimal_is_kept_without_searching():
    p = demo_problem(weeks=4, soft=True)
    first = solve(p, LIMITS)
    again = solve(p, LIMITS, hint=first.orders)
    assert again.method == "hint"
    np.testing.assert_array_equal(again.orders, first.orders)
    assert again.objective == pytest.approx(first.objective, rel=1e-12)


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        ({"time_limit_seconds": 0.0}, "time_limit_seconds"),
        ({"time_limit_seconds": float("nan")}, "time_limit_seconds"),
        ({"relative_gap": 1.0}, "relative_gap"),
        ({"relative_gap": -0.1}, "relative_gap"),
        ({"workers": 0}, "workers"),
    ],
)
def test_bad_limits_name_the_field(limits, field):
    with pytest.raises(InvalidArgument) as err:
        SolveLimits(**limits)
    assert err.value.field == field


def test_relative_gap():
    assert relative_gap(100.0, 100.0) == 0.0
    assert relative_gap(200.0, 210.0) == pytest.approx(0.05)
    assert relative_gap(-200.0, -190.0) == pytest.approx(0.05)
    assert relative_gap(0.0, 0.5) == pytest.approx(0.5)  # measured against at least 1


def test_a_hint_of_the_wrong_shape_names_the_field():
    with pytest.raises(InvalidArgument) as err:
        solve(make_problem(1, 1, 2), LIMITS, hint=np.zeros((1, 1, 1), dtype=np.int64))
    assert err.value.field == "hint"


def test_a_tiny_time_limit_returns_the_fallback_or_a_plan():
    p = demo_problem(stores=30, trims=60, weeks=8, soft=True)
    solution = solve(p, SolveLimits(time_limit_seconds=0.01))
    index = solution.index
    zero = index.columns_for(p, np.zeros(index.n_orders))
    assert index.is_feasible(zero, 1e-6)
    assert solution.status in (SolveStatus.TIME_LIMIT, SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)
    assert math.isfinite(solution.objective)
    assert index.is_feasible(solution.values, 1e-6)
    if solution.method == "none":  # nothing found in time: order nothing
        assert solution.status is SolveStatus.TIME_LIMIT
        assert not solution.orders.any()
        assert solution.objective == pytest.approx(index.value_of(zero))
    else:
        _check_plan(p, solution.orders)


def test_a_bundle_slow_trim_without_demand_is_taken_for_its_hot_trim():
    # trim 1 (slow) has no demand; one of it must come with every 2 of trim 0 (demand 4)
    demand = np.array([[[4.0], [0.0]]])  # (stores, trims, weeks) cars
    p = make_problem(1, 2, 1, lot=20, offer=20, bundles=(PickupBundle(0, 1, 2),), demand=demand)
    solution = _solve(p)
    assert solution.orders[0, 0, 0] == 4
    assert solution.orders[0, 1, 0] == 2
