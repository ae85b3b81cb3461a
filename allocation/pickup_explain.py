"""What a planner reads beside a pick-up plan: which constraints bind and what relaxing
them is worth (LP duals), why each trim was or was not ordered, why each order line is
there, and, for an infeasible request, which constraints conflict.

The shadow prices come from the LP relaxation of the model (``pickup_mix.LpRelaxation``),
the usual reading of a MIP plan: the objective gained per extra unit of a resource, at
the LP optimum, summed over the weeks of the horizon (one more parking space or one more
CNY of credit in every week).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from allocation.highs import HighsStatus, solve_lp
from allocation.pickup_model import (
    CREDIT_UNIT,
    PickupIndex,
    RowKind,
    sales_curves,
    supply_caps,
)
from allocation.pickup_problem import PickupProblem, PickupTarget

__all__ = [
    "BindingConstraint",
    "LineReason",
    "TrimDecision",
    "binding_constraints",
    "diagnose",
    "line_reasons",
    "trim_decisions",
]

_DUAL_TOL = 1e-6
_TOP_CONFLICTS = 6


@dataclass(frozen=True)
class BindingConstraint:
    """``name`` e.g. ``lot[S014]``; ``shadow_price_cny`` the objective gained per extra unit
    of the resource (a car of lot space, a CNY of credit, a car of offer, a unit of target)."""

    name: str
    kind: RowKind
    shadow_price_cny: float
    explanation: str


@dataclass(frozen=True)
class TrimDecision:
    trim_id: str
    ordered_units: int
    offered_units: int
    expected_demand: float
    stock_units: int
    reason: str


@dataclass(frozen=True)
class LineReason:
    store: int
    trim: int
    week: int
    expected_sales: float
    reason: str


def binding_constraints(
    problem: PickupProblem, index: PickupIndex, duals: np.ndarray, limit: int = 50
) -> list[BindingConstraint]:
    """The constraints with a non-zero dual, aggregated over weeks for lot and credit, by
    decreasing shadow price (at most ``limit``)."""
    totals: dict[tuple[RowKind, tuple[int, ...]], float] = defaultdict(float)
    for r in np.flatnonzero(np.abs(duals) > _DUAL_TOL):
        kind = index.row_kinds[r]
        if kind is RowKind.SALES:
            continue
        key = tuple(int(k) for k in index.row_keys[r])
        if kind in (RowKind.LOT, RowKind.CREDIT):
            key = (key[0],)  # one more unit in every week of the horizon
        # a binding <= row gains with more room; a target (>= row) costs with more asked
        value = -abs(float(duals[r])) if kind is RowKind.TARGET else abs(float(duals[r]))
        if kind in (RowKind.CREDIT, RowKind.GROUP_CREDIT):
            value /= CREDIT_UNIT
        totals[(kind, key)] += value
    out = [_binding(problem, kind, key, value) for (kind, key), value in totals.items()]
    out.sort(key=lambda b: (-abs(b.shadow_price_cny), b.name))
    return out[:limit]


def _binding(
    problem: PickupProblem, kind: RowKind, key: tuple[int, ...], value: float
) -> BindingConstraint:
    name, text = _describe(problem, kind, key)
    if kind is RowKind.LOT:
        why = f"{text} is full: one more parking space is worth {value:,.0f} CNY over the horizon"
    elif kind in (RowKind.CREDIT, RowKind.GROUP_CREDIT):
        why = f"{text} is used up: 10,000 CNY more credit is worth {value * 1e4:,.0f} CNY"
    elif kind is RowKind.OFFER:
        why = f"{text} is all taken: one more car offered is worth {value:,.0f} CNY"
    elif kind is RowKind.SUPPLY_CAP:
        why = f"{text} stops further orders: one more car allowed is worth {value:,.0f} CNY"
    elif kind is RowKind.BUNDLE:
        why = f"{text} binds: one hot car more without its slow car is worth {value:,.0f} CNY"
    else:
        why = f"{text} binds: each unit more asked costs {-value:,.0f} CNY"
    return BindingConstraint(name, kind, value, why)


def _describe(problem: PickupProblem, kind: RowKind, key: tuple[int, ...]) -> tuple[str, str]:
    """The constraint's name and a phrase for it."""
    if kind is RowKind.LOT:
        s = problem.store_ids[key[0]]
        return f"lot[{s}]", f"{s}'s lot"
    if kind is RowKind.CREDIT:
        s = problem.store_ids[key[0]]
        return f"credit[{s}]", f"{s}'s floor-plan credit"
    if kind is RowKind.GROUP_CREDIT:
        week = problem.weeks[key[0]].isoformat()
        return f"group_credit[{week}]", f"the group's floor-plan credit in the week of {week}"
    if kind is RowKind.OFFER:
        t, week = problem.trim_ids[key[0]], problem.weeks[key[1]].isoformat()
        return f"offer[{t},{week}]", f"the OEM's offer of {t} for the week of {week}"
    if kind is RowKind.SUPPLY_CAP:
        s, t = problem.store_ids[key[0]], problem.trim_ids[key[1]]
        week = problem.weeks[key[2]].isoformat()
        cap = problem.max_days_of_supply
        return (
            f"supply_cap[{s},{t},{week}]",
            f"the {cap:g}-day supply cap of {t} at {s} (week of {week})",
        )
    if kind is RowKind.BUNDLE:
        b = problem.bundles[key[0]]
        hot, slow = problem.trim_ids[b.hot_trim], problem.trim_ids[b.slow_trim]
        week = problem.weeks[key[1]].isoformat()
        return (
            f"bundle[{hot}->{slow},{week}]",
            f"the bundle of one {slow} per {b.hot_units_per_slow} {hot} (by the week of {week})",
        )
    target = problem.targets[key[0]]
    return target.name, f"the {'hard' if target.hard else 'soft'} brand target {target.name}"


def diagnose(problem: PickupProblem, index: PickupIndex) -> str:
    """Why no plan meets the hard brand targets: a phase-1 LP that minimises the hard
    targets' total shortfall names the targets it cannot meet and, from its duals, the
    constraints that hold them back."""
    hard = [j for j, t in enumerate(problem.targets) if t.hard]
    target_rows = index.rows_of(RowKind.TARGET)
    row_of = {int(index.row_keys[r, 0]): int(r) for r in target_rows}
    n_cols = index.n_columns
    extra = len(hard)
    add = sp.csr_matrix(
        (np.ones(extra), ([row_of[j] for j in hard], np.arange(extra))),
        shape=(len(index.row_kinds), extra),
    )
    matrix = sp.hstack([index.matrix, add]).tocsr()
    lower = np.zeros(n_cols + extra)
    upper = np.concatenate([index.column_upper, np.full(extra, np.inf)])
    objective = np.concatenate([np.zeros(n_cols), -np.ones(extra)])
    lp = solve_lp(lower, upper, objective, index.row_lower, index.row_upper, matrix, 30.0)
    if lp.status is not HighsStatus.OPTIMAL:
        return "no plan meets the hard brand targets (the diagnosis did not finish)"
    values, duals = lp.values, lp.duals
    missed = [(hard[i], values[n_cols + i]) for i in range(extra) if values[n_cols + i] > 1e-6]
    if not missed:
        multiples = [problem.trim_ids[t] for t in np.flatnonzero(problem.order_multiple > 1)]
        return (
            "the hard brand targets can be met only with fractional orders; the order multiples"
            f" of {', '.join(multiples[:10]) or 'the trims'} make them infeasible"
        )
    parts = []
    for j, short in missed:
        target = problem.targets[j]
        most = target.units - short
        weeks = f"{problem.weeks[target.weeks[0]]}..{problem.weeks[target.weeks[-1]]}"
        parts.append(
            f"hard target {target.name} asks {target.units} cars in the weeks {weeks} but at "
            f"most {most:.0f} can be ordered{_capacity(problem, target)}"
        )
    limits = binding_constraints(problem, index, duals, limit=_TOP_CONFLICTS + 1)
    limits = [b for b in limits if b.kind is not RowKind.TARGET]
    names = ", ".join(b.name for b in limits[:_TOP_CONFLICTS])
    more = " and others" if len(limits) > _TOP_CONFLICTS else ""
    held = f"; it conflicts with {names}{more}" if names else ""
    return "; ".join(parts) + held + "; lower the target, mark it soft, or raise those limits"


def _capacity(problem: PickupProblem, target: PickupTarget) -> str:
    """The brand's capacities that fall short of a target, as a parenthesis ('' if none)."""
    trims = problem.brand_index()[target.brand_id]
    weeks = np.asarray(target.weeks, dtype=np.int64)
    stores = np.flatnonzero(problem.authorised[:, trims].any(axis=1))
    base = problem.base_position()
    offered = int(problem.offer[np.ix_(trims, weeks)].sum())
    free = int(np.maximum(problem.lot_capacity[stores] - base[stores, :, 0].sum(axis=1), 0).sum())
    caps = supply_caps(problem, problem.mean_weekly_demand(), base)
    cap = int(caps[np.ix_(stores, trims, weeks[-1:])].sum())
    short = []
    if offered < target.units:
        short.append(f"the OEM offers {offered}")
    if free < target.units:
        short.append(f"the stores selling {target.brand_id} have {free} free parking spaces now")
    if cap < target.units:
        short.append(f"the {problem.max_days_of_supply:g}-day supply cap allows {cap}")
    return f" ({'; '.join(short)})" if short else ""


def trim_decisions(
    problem: PickupProblem, orders: np.ndarray, duals: np.ndarray | None, index: PickupIndex
) -> list[TrimDecision]:
    """Per trim: what was ordered and why (or why not), in trim order."""
    mean = problem.mean_weekly_demand()
    stock = problem.base_position()[:, :, -1]
    margin = problem.margin_cny
    carry = problem.weekly_carrying_cny
    bound_kinds = _bound_by_trim(problem, index, duals)
    out = []
    for t, trim_id in enumerate(problem.trim_ids):
        sold_at = problem.authorised[:, t]
        demand = float(mean[sold_at, t].sum())
        held = int(stock[sold_at, t].sum())
        offered = int(problem.offer[t].sum())
        ordered = int(orders[:, t].sum())
        if ordered:
            reason = (
                f"ordered {ordered}: expected demand {demand:.1f} over the horizon against "
                f"{held} in stock or arriving"
            )
        elif not sold_at.any():
            reason = f"no store in the plan sells brand {problem.trim_brand_ids[t]}"
        elif offered == 0:
            reason = "the OEM offers none in the horizon"
        elif demand <= 0:
            reason = "no demand forecast in the horizon"
        elif margin[t] <= carry[t]:
            reason = (
                f"margin {margin[t]:,.0f} CNY does not cover a week of carrying cost "
                f"({carry[t]:,.0f} CNY)"
            )
        elif bound_kinds.get(t):
            reason = f"held back by {bound_kinds[t]}"
        else:
            reason = (
                f"stock or arrivals ({held}) already cover the expected demand ({demand:.1f}) "
                f"within the {problem.max_days_of_supply:g}-day supply cap"
            )
        out.append(TrimDecision(trim_id, ordered, offered, demand, held, reason))
    return out


def _bound_by_trim(
    problem: PickupProblem, index: PickupIndex, duals: np.ndarray | None
) -> dict[int, str]:
    """trim -> the binding rows that name it (offer, supply cap, the bundles it is the hot
    trim of), else the binding lot or credit of the stores that sell it."""
    if duals is None or duals.size == 0:
        return {}
    named: dict[int, list[str]] = defaultdict(list)
    stores_full: dict[int, list[str]] = defaultdict(list)
    for r in np.flatnonzero(np.abs(duals) > _DUAL_TOL):
        kind = index.row_kinds[r]
        key = tuple(int(k) for k in index.row_keys[r])
        if kind is RowKind.OFFER:
            named[key[0]].append(_describe(problem, kind, key)[0])
        elif kind is RowKind.SUPPLY_CAP:
            named[key[1]].append(_describe(problem, kind, key)[0])
        elif kind is RowKind.BUNDLE:
            named[problem.bundles[key[0]].hot_trim].append(_describe(problem, kind, key)[0])
        elif kind in (RowKind.LOT, RowKind.CREDIT):
            name = _describe(problem, kind, (key[0],))[0]
            if name not in stores_full[key[0]]:
                stores_full[key[0]].append(name)
    out: dict[int, str] = {}
    for t in range(len(problem.trim_ids)):
        names = list(dict.fromkeys(named.get(t, [])))
        if not names:
            for s in np.flatnonzero(problem.authorised[:, t]):
                names += stores_full.get(int(s), [])
        if names:
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            out[t] = ", ".join(names[:3]) + more
    return out


def _rise(curve: np.ndarray, lo: int, hi: int) -> float:
    """``curve[hi] - curve[lo]`` of a curve that is flat past its last point."""
    top = curve.size - 1
    return float(curve[min(hi, top)] - curve[min(max(lo, 0), top)])


def line_reasons(
    problem: PickupProblem, orders: np.ndarray, index: PickupIndex
) -> list[LineReason]:
    """Per order line (store, trim, week with cars): its expected sales within the horizon
    and why it is there, in week, store, trim order."""
    out: list[LineReason] = []
    cells = np.argwhere(orders > 0)
    if cells.size == 0:
        return out
    pairs = np.unique(cells[:, :2], axis=0)
    base = problem.base_position()
    most = int((base[:, :, -1] + orders.sum(axis=2))[tuple(pairs.T)].max()) + 1
    horizon = sales_curves(problem, pairs, most)[:, -1]
    after = sales_curves(problem, pairs, most, cover=True)[:, -1]
    row_of = {(int(s), int(t)): i for i, (s, t) in enumerate(pairs)}
    mean = problem.mean_weekly_demand()
    later = f"within the horizon or the {problem.cover_weeks} weeks after"
    for s, t, w in sorted((int(a), int(b), int(c)) for a, b, c in cells):
        # FIFO: the line's cars come after the stock and the earlier orders of the cell
        lo = int(base[s, t, -1] + orders[s, t, :w].sum())
        hi = lo + int(orders[s, t, w])
        sells = _rise(horizon[row_of[(s, t)]], lo, hi)
        last = _rise(after[row_of[(s, t)]], hi - 1, hi)
        demand = float(mean[s, t, w:].sum())
        reason = (
            f"expected demand {demand:.1f} from this week against {int(base[s, t, w])} in "
            f"stock or arriving; the last car ordered sells {later} with probability {last:.0%}"
        )
        out.append(LineReason(s, t, w, sells, reason))
    out.sort(key=lambda r: (r.week, problem.store_ids[r.store], problem.trim_ids[r.trim]))
    return out
