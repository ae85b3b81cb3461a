"""The planners' hand rule, as the benchmark's baseline: order in proportion to recent sales.

``proportional(problem, recent_weekly_sales)``: each week, every store asks for each trim
it sells as many cars as it sold on average per week recently (the last 4 weeks); when the
stores together ask for more than the OEM offers, the offer is shared in proportion to the
asks (largest remainders get the odd cars); each store's cars are then cut, trim by trim in
decreasing ask, to the lot space and credit it has left at the start of the week (stock
projected with the same recent sales rate). It ignores the forecast, bundles, brand targets
and days of supply, as a spreadsheet would.
"""

from __future__ import annotations

import numpy as np

from allocation.pickup_problem import PickupProblem
from turnwise.errors import InvalidArgument

__all__ = ["proportional"]


def proportional(problem: PickupProblem, recent_weekly_sales: np.ndarray) -> np.ndarray:
    """(S, T, W) cars ordered by the proportional rule (see the module docstring)."""
    n_s, n_t, n_w = problem.shape
    if recent_weekly_sales.shape != (n_s, n_t):
        raise InvalidArgument(
            "recent_weekly_sales", f"needs shape {(n_s, n_t)}, got {recent_weekly_sales.shape}"
        )
    rate = np.where(problem.authorised, np.maximum(recent_weekly_sales, 0.0), 0.0)
    orders = np.zeros((n_s, n_t, n_w), dtype=np.int64)
    stock = problem.on_hand().astype(float)
    arriving = problem.arriving()
    cost = problem.cost_cny
    for w in range(n_w):
        stock += arriving[:, :, w]
        asks = _share_offer(rate, problem.offer[:, w])
        for s in range(n_s):
            room = problem.lot_capacity[s] - stock[s].sum()
            credit = problem.credit_limit_cny[s] - float((stock[s] * cost).sum())
            for t in np.argsort(-asks[s], kind="stable"):
                if asks[s, t] <= 0:
                    break
                fit = min(int(asks[s, t]), int(max(room, 0)), int(max(credit, 0) // cost[t]))
                units = fit - fit % int(problem.order_multiple[t])
                if units > 0:
                    orders[s, t, w] = units
                    room -= units
                    credit -= units * cost[t]
        stock += orders[:, :, w]
        stock = np.maximum(stock - rate, 0.0)  # the recent sales rate sells down the stock
    return orders


def _share_offer(rate: np.ndarray, offer: np.ndarray) -> np.ndarray:
    """(S, T) whole cars asked per store and trim, the offer shared by the asks."""
    asks = np.round(rate)
    total = asks.sum(axis=0)
    over = total > offer
    if not over.any():
        return asks
    shared = asks.copy()
    for t in np.flatnonzero(over):
        exact = rate[:, t] * offer[t] / max(rate[:, t].sum(), 1e-12)
        whole = np.floor(exact)
        left = int(offer[t] - whole.sum())
        if left > 0:
            whole[np.argsort(-(exact - whole), kind="stable")[:left]] += 1
        shared[:, t] = whole
    return shared
