"""What one more (or one fewer) car of a trim is worth at a store: the transfer objective.

For store s and trim t, with ``D`` the demand of the whole horizon (the weekly quantiles
summed, ``demand_curve.cumulative_quantiles``) and ``k`` the cars the store will hold
(on the lot plus arriving within the horizon), the value of holding ``k`` cars is

    V(k) = (m + c/2 + a) * E[min(D, k)] - (c + a) * k

with ``m`` the trim's margin, ``c`` the carrying cost of one car over the horizon
(holding and floor-plan interest; a car sold is carried half the horizon on average) and
``a`` the aging penalty: ``aging_penalty_cny`` times the share of the store's cars of that
trim that will be past the slow-moving age at the end of the horizon (the cars left
unsold there turn slow-moving). ``unit_value(s, t, k) = V(k) - V(k-1)`` falls with ``k``
(V is concave), so moves are a concave separable problem: min-cost flow with one unit arc
per rank (``transfer_fast``) or an LP with unit segments (``transfer_mip``).

Moving a car of trim t from i to j changes the objective by ``unit_value(j, t, n_j + 1) -
unit_value(i, t, n_i)`` less transport and the lead-time loss: the car sells nothing on
the road, which costs the share ``lead / horizon`` of the destination's expected margin on
its first extra car. The aging term makes a store with aged stock value its last cars
less, so the solver moves cars out of it first; VIN selection then moves the oldest.

Known simplifications: the demand of the weeks is summed (the KPIs lose sales week by
week), the destination's aging term ignores the age of the car that arrives, and a
store that both sends and receives the same trim is valued as if the two did not cancel
(``transfer_mip``; the flow is exact there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from allocation.demand_curve import cumulative_quantiles, expected_sales, mean_demand, support_top
from allocation.transfer_problem import TransferProblem

__all__ = ["CellValues", "cell_values"]


@dataclass(frozen=True, eq=False)
class CellValues:
    """Per store x trim cell: the cars held and movable, and the unit values of the ranks a
    plan may reach, ``ranks[c] = unit_value(k)`` for ``k = low[c] .. low[c] + len - 1``
    stored flat (``start[c]`` into ``flat``); ``floor`` the value of a rank past the demand."""

    held: np.ndarray  # (S, T) cars on the lot + arriving within the horizon
    movable: np.ndarray  # (S, T) cars that may move
    mean_demand: np.ndarray  # (S, T) expected demand of the horizon
    floor: np.ndarray  # (S, T) unit value of a car that never sells: -(c + a)
    aged: np.ndarray  # (S, T) share of the cars on the lot past the slow-moving age at the end
    cells: np.ndarray  # (C, 2) store, trim of the cells with ranks
    low: np.ndarray  # (C,) first rank stored
    count: np.ndarray  # (C,) ranks stored
    start: np.ndarray  # (C,) offset into flat
    flat: np.ndarray  # unit values
    cell_of: dict[tuple[int, int], int]

    def unit(self, s: int, t: int, k: int) -> float:
        """``unit_value(s, t, k)`` for a rank ``k >= 1``; the floor outside the stored span."""
        c = self.cell_of.get((s, t))
        if c is None or not self.low[c] <= k < self.low[c] + self.count[c]:
            return float(self.floor[s, t])
        return float(self.flat[self.start[c] + k - self.low[c]])

    def change(self, s: int, t: int, delta: int) -> float:
        """``V(held + delta) - V(held)`` at cell (s, t)."""
        n = int(self.held[s, t])
        if delta > 0:
            return sum(self.unit(s, t, n + r) for r in range(1, delta + 1))
        return -sum(self.unit(s, t, n - r) for r in range(-delta))

    def at_rank(self, offset: int) -> np.ndarray:
        """(S, T) ``unit(s, t, held + offset)``: ``offset`` 1 is what one more car is worth
        at each cell, 0 what its last car is worth."""
        out = np.asarray(self.floor, dtype=float).copy()
        if len(self.cells):
            s, t = self.cells[:, 0], self.cells[:, 1]
            k = self.held[s, t] + offset
            inside = (self.low <= k) & (k < self.low + self.count)
            at = np.where(inside, self.start + k - self.low, 0)
            out[s, t] = np.where(inside, self.flat[at], out[s, t])
        return out

    def total_change(self, delta: np.ndarray) -> float:
        """``sum over cells of V(held + delta) - V(held)`` for a (S, T) array of net cars."""
        s, t = np.nonzero(delta)
        d = delta[s, t]
        n = self.held[s, t]
        a = np.where(d > 0, n + 1, n + d + 1)  # the ranks filled or emptied: a..b
        b = np.where(d > 0, n + d, n)
        sign = np.sign(d).astype(float)
        index = np.full(self.held.shape, -1, dtype=np.int64)
        if len(self.cells):
            index[self.cells[:, 0], self.cells[:, 1]] = np.arange(len(self.cells))
        c = index[s, t]
        has = c >= 0
        cs = np.where(has, c, 0)
        low = np.where(has, self.low[cs], 0)
        high = np.where(has, self.low[cs] + self.count[cs] - 1, -1)
        lo, hi = np.maximum(a, low), np.minimum(b, high)
        inside = has & (hi >= lo)
        cum = np.concatenate([[0.0], np.cumsum(self.flat)])
        start = self.start[cs] if len(self.cells) else np.zeros_like(cs)
        stored = np.where(
            inside,
            cum[np.where(inside, start + hi - low + 1, 0)]
            - cum[np.where(inside, start + lo - low, 0)],
            0.0,
        )
        outside = (b - a + 1) - np.where(inside, hi - lo + 1, 0)
        return float((sign * (stored + outside * self.floor[s, t])).sum())


def cell_values(p: TransferProblem, inbound_cap: np.ndarray | None = None) -> CellValues:
    """The values of every cell that holds movable cars (ranks ``held - movable + 1 ..
    held``) or may receive (ranks ``held + 1 ..`` up to the top of its demand, at most
    ``inbound_cap`` more when given)."""
    base = p.base
    n_s, n_t, n_w = base.shape
    held = base.base_position()[:, :, -1]
    cars = base.cars
    movable = np.zeros((n_s, n_t), dtype=np.int64)
    np.add.at(movable, (cars.store[p.movable], cars.trim[p.movable]), 1)
    total = cumulative_quantiles(base.levels, base.demand)[:, :, -1, :]  # (S, T, L)
    mean = mean_demand(base.levels, total)
    top = np.ceil(support_top(base.levels, total)).astype(np.int64)
    carrying = base.weekly_carrying_cny * n_w  # (T,)
    aged = _aged_share(p)
    a = p.aging_penalty_cny * aged  # (S, T)
    slope = base.margin_cny[None, :] + carrying[None, :] / 2 + a
    floor = -(carrying[None, :] + a)

    room = np.maximum(top - held, 0) * base.authorised
    if inbound_cap is not None:
        room = np.minimum(room, inbound_cap)
    low = np.where(movable > 0, held - movable + 1, held + 1)
    high = held + room  # last rank stored
    cells = np.argwhere(high >= low)
    s, t = cells[:, 0], cells[:, 1]
    c_low, c_high = low[s, t], high[s, t]
    count = c_high - c_low + 1
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    flat = np.zeros(int(count.sum()))
    if cells.size:
        width = int(c_high.max())
        curve = expected_sales(base.levels, total[s, t], width)  # (C, width + 1)
        step = np.diff(curve, axis=1)  # step[:, k-1] = E[min(D,k)] - E[min(D,k-1)]
        owner = np.repeat(np.arange(len(cells)), count)
        rank = c_low[owner] + np.arange(flat.size) - start[owner]
        flat = slope[s, t][owner] * step[owner, rank - 1] + floor[s, t][owner]
    return CellValues(
        held=held,
        movable=movable,
        mean_demand=mean,
        floor=floor,
        aged=aged,
        cells=cells,
        low=c_low,
        count=count,
        start=start,
        flat=flat,
        cell_of={(int(a_), int(b_)): i for i, (a_, b_) in enumerate(cells)},
    )


def _aged_share(p: TransferProblem) -> np.ndarray:
    """(S, T) share of the cars on the lot that are past the slow-moving age at the end."""
    base = p.base
    n_s, n_t, _ = base.shape
    cars = base.cars
    lot = cars.arrival_week < 0
    on_lot = np.zeros((n_s, n_t))
    old = np.zeros((n_s, n_t))
    np.add.at(on_lot, (cars.store[lot], cars.trim[lot]), 1.0)
    aged = lot & (cars.age_days + p.horizon_days > base.slow_moving_days)
    np.add.at(old, (cars.store[aged], cars.trim[aged]), 1.0)
    return np.divide(old, on_lot, out=np.zeros_like(old), where=on_lot > 0)
