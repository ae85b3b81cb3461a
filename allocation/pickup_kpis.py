"""The KPIs of a pick-up plan, evaluated on sampled demand.

``evaluate(problem, orders)`` simulates the horizon week by week for ``samples`` draws of
demand from each cell's weekly quantiles (``demand_curve.sample_demand``, weeks drawn
independently): a week's sales are ``min(demand, cars on the lot)``, unmet demand is lost
(a customer who finds no car buys elsewhere), cars arrive at the start of their week. The
same ``seed`` gives the same draws, so two plans of one problem are compared on the same
demand. Cars sell oldest first, so the slow-moving cars left at the end are the old ones
that the sales did not reach.

``current(problem)`` are the same measures for the stock held now, before any plan.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocation.demand_curve import sample_demand
from allocation.pickup_problem import PickupProblem
from turnwise.errors import InvalidArgument

__all__ = ["DEFAULT_SAMPLES", "PickupKpis", "current", "evaluate"]

DEFAULT_SAMPLES = 200


@dataclass(frozen=True)
class PickupKpis:
    """Means over the sampled demand. Money in CNY."""

    expected_profit_cny: float
    """Margin of the cars sold, less carrying cost (holding and credit interest) of the
    cars on the lot at each week's end, less the penalties of soft targets missed."""
    expected_sales: float
    """Cars sold within the horizon."""
    fill_rate: float
    """Cars sold / cars demanded."""
    days_of_supply: float
    """Cars on the lot at the end / mean daily demand of the horizon."""
    slow_moving_share: float
    """Projected slow-moving share: of the cars on the lot at the end, the share that will be
    older than ``slow_moving_days`` before their turn to sell comes (oldest first, at the
    horizon's mean demand rate of their store and trim): the aged stock this plan leaves
    behind or builds up."""
    aged_share: float
    """Share of the cars on the lot at the end that are already older than
    ``slow_moving_days`` then."""
    credit_used_cny: float
    """Highest cost value of the cars on the lots over the weeks (floor-plan credit drawn)."""
    target_attainment: float
    """Cars ordered towards the brand targets / cars asked (1 when there is no target)."""
    cars_ordered: int


def evaluate(
    problem: PickupProblem,
    orders: np.ndarray,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
) -> PickupKpis:
    """The KPIs of ``orders`` (S, T, W cars) for ``problem`` (see the module docstring)."""
    if orders.shape != problem.shape:
        raise InvalidArgument("orders", f"needs shape {problem.shape}, got {orders.shape}")
    if samples < 1:
        raise InvalidArgument("samples", f"must be >= 1, got {samples}")
    n_w = len(problem.weeks)
    arrivals = problem.arriving() + orders
    on_hand = problem.on_hand()
    cells = np.argwhere((on_hand > 0) | arrivals.any(axis=2) | problem.authorised)
    s, t = cells[:, 0], cells[:, 1]
    rng = np.random.default_rng(seed)
    demand = sample_demand(problem.levels, problem.demand[s, t], rng, samples)  # (N, C, W)
    stock = np.broadcast_to(on_hand[s, t].astype(float), (samples, len(cells))).copy()
    sold = np.zeros_like(stock)
    margin, carry, cost = problem.margin_cny[t], problem.weekly_carrying_cny[t], problem.cost_cny
    carrying = 0.0
    credit = 0.0
    for w in range(n_w):
        stock += arrivals[s, t, w]
        credit = max(credit, float((stock.mean(axis=0) * cost[t]).sum()))
        sales = np.minimum(demand[:, :, w], stock)
        stock -= sales
        sold += sales
        carrying += float((stock.mean(axis=0) * carry).sum())
    old = _old_at_end(problem, orders)[s, t]
    old_left = np.maximum(0.0, old[None, :] - sold).mean(axis=0)
    end_stock = stock.mean(axis=0)
    bound_to_age = _projected_slow(problem, orders, cells, end_stock)
    mean_sold = sold.mean(axis=0)
    daily = problem.mean_weekly_demand()[s, t].sum() / (7.0 * n_w)
    asked, got, penalty = _targets(problem, orders)
    return PickupKpis(
        expected_profit_cny=float((mean_sold * margin).sum()) - carrying - penalty,
        expected_sales=float(mean_sold.sum()),
        fill_rate=_ratio(float(mean_sold.sum()), float(demand.sum(axis=2).mean(axis=0).sum())),
        days_of_supply=_ratio(float(end_stock.sum()), float(daily)),
        slow_moving_share=_ratio(bound_to_age, float(end_stock.sum())),
        aged_share=_ratio(float(old_left.sum()), float(end_stock.sum())),
        credit_used_cny=credit,
        target_attainment=_ratio(got, asked) if asked else 1.0,
        cars_ordered=int(orders.sum()),
    )


def current(problem: PickupProblem, nothing: PickupKpis | None = None) -> PickupKpis:
    """The stock held now, before any plan: days of supply, slow-moving share and credit
    drawn by the cars on the lots; the other KPIs are those of ordering nothing (``nothing``,
    when the caller has evaluated it already; else one draw)."""
    if nothing is None:
        nothing = evaluate(problem, np.zeros(problem.shape, dtype=np.int64), samples=1)
    on_hand = problem.on_hand()
    lot = problem.cars.arrival_week < 0
    old = int((problem.cars.age_days[lot] > problem.slow_moving_days).sum())
    cells = np.argwhere(on_hand > 0)
    bound_to_age = _projected_slow(problem, None, cells, on_hand[cells[:, 0], cells[:, 1]])
    daily = problem.mean_weekly_demand().sum() / (7.0 * len(problem.weeks))
    return PickupKpis(
        expected_profit_cny=nothing.expected_profit_cny,
        expected_sales=nothing.expected_sales,
        fill_rate=nothing.fill_rate,
        days_of_supply=_ratio(float(on_hand.sum()), float(daily)),
        slow_moving_share=_ratio(bound_to_age, float(on_hand.sum())),
        aged_share=_ratio(float(old), float(on_hand.sum())),
        credit_used_cny=float((on_hand * problem.cost_cny[None, :]).sum()),
        target_attainment=0.0 if problem.targets else 1.0,
        cars_ordered=0,
    )


def _projected_slow(
    problem: PickupProblem, orders: np.ndarray | None, cells: np.ndarray, left: np.ndarray
) -> float:
    """Of the ``left[i]`` cars (the youngest) on the lot of cell ``cells[i]`` at the end of the
    horizon (at its start when ``orders`` is None), how many turn slow-moving before their
    turn to sell comes (oldest first, at the horizon's mean daily demand of the cell)."""
    n_w = len(problem.weeks)
    end = 7 * n_w if orders is not None else 0
    cars = problem.cars
    on_lot = cars.arrival_week < 0
    age = np.where(on_lot, cars.age_days + end, end - 7 * np.maximum(cars.arrival_week, 0))
    keep = on_lot | (orders is not None)
    by_cell: dict[tuple[int, int], list[np.ndarray]] = {}
    for s_i, t_i, a in zip(cars.store[keep], cars.trim[keep], age[keep], strict=True):
        by_cell.setdefault((int(s_i), int(t_i)), []).append(np.array([a]))
    daily = problem.mean_weekly_demand().sum(axis=2) / (7.0 * n_w)
    limit = problem.slow_moving_days
    total = 0.0
    for (s_i, t_i), remaining in zip(map(tuple, cells), left, strict=True):
        count = round(float(remaining))
        if count <= 0:
            continue
        ages = by_cell.get((int(s_i), int(t_i)), [])
        if orders is not None:
            units = orders[s_i, t_i]
            ages = ages + [np.full(int(units[w]), end - 7 * w) for w in range(n_w) if units[w]]
        queue = np.sort(np.concatenate(ages))[::-1] if ages else np.zeros(0)
        queue = queue[max(queue.size - count, 0) :]  # the youngest are left, oldest first
        rate = daily[s_i, t_i]
        if rate <= 0:
            total += queue.size
            continue
        wait = (np.arange(queue.size) + 1) / rate
        total += float((queue + wait > limit).sum())
    return total


def _old_at_end(problem: PickupProblem, orders: np.ndarray) -> np.ndarray:
    """(S, T) cars held or ordered that will be older than the slow-moving age at the end
    of the horizon (if still on the lot)."""
    n_w = len(problem.weeks)
    end = 7 * n_w
    cars = problem.cars
    age_at_end = np.where(
        cars.arrival_week < 0, cars.age_days + end, end - 7 * np.maximum(cars.arrival_week, 0)
    )
    out = np.zeros(problem.shape[:2])
    old = age_at_end > problem.slow_moving_days
    np.add.at(out, (cars.store[old], cars.trim[old]), 1.0)
    for w in range(n_w):
        if end - 7 * w > problem.slow_moving_days:
            out += orders[:, :, w]
    return out


def _targets(problem: PickupProblem, orders: np.ndarray) -> tuple[float, float, float]:
    """(cars asked, cars ordered towards them, penalty of the soft ones missed)."""
    brands = problem.brand_index()
    asked = got = penalty = 0.0
    for target in problem.targets:
        ordered = float(orders[:, brands[target.brand_id]][:, :, list(target.weeks)].sum())
        asked += target.units
        got += min(ordered, target.units)
        if not target.hard:
            penalty += target.penalty_cny_per_unit * max(0.0, target.units - ordered)
    return asked, got, penalty


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0
