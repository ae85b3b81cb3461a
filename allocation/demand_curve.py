"""The newsvendor expected-sales curve of the pick-up mix: ``E[min(D, s)]`` from demand quantiles.

The demand ``D >= 0`` of one cell (store x trim over a period) is given by quantiles: levels
``tau_1 < ... < tau_L`` in (0, 1), shared by all cells, and values ``q_1 <= ... <= q_L >= 0``.
The distribution built from them has a piecewise-linear CDF ``F`` (a mixture of uniforms and
point masses), so every expectation below is integrated exactly, without sampling:

- **Inside**: ``F`` is linear between the points ``(q_i, tau_i)``. Equal consecutive quantiles
  ``q_i == q_{i+1}`` are a point mass ``tau_{i+1} - tau_i`` there (a vertical step of ``F``).
- **Lower tail**: ``F`` is linear from ``(0, 0)`` to ``(q_1, tau_1)``; when ``q_1 == 0`` this
  is a point mass ``tau_1`` at zero.
- **Upper tail**: past ``(q_L, tau_L)``, ``F`` goes on with the slope of the last non-vertical
  piece below ``q_L`` (the last inside segment; the lower tail when every inside segment is
  vertical or ``L == 1``) until it reaches 1, at ``top = q_L + (1 - tau_L) / slope``. So a
  single median ``q`` at level 0.5 is the uniform on ``[0, 2 q]``. When no piece has a slope
  (``q_L == 0``) the remaining mass sits at ``q_L`` too and ``D == 0``.
- **No spread**: when ``L >= 2`` and all quantiles are equal (``q_1 == q_L == c``), ``D == c``
  exactly and ``E[min(D, s)] == min(c, s)``. The forecast states that the central
  ``tau_L - tau_1`` of the mass sits on one value, and the tail rules above would have no
  spread to extrapolate from (they would smear ``tau_1`` of the mass down to zero). This is
  the one discontinuity of the construction; it also lets deterministic demand be stated
  exactly. A single quantile (``L == 1``) says nothing about the spread and keeps the tails.

``expected_sales`` is ``E[min(D, s)] = integral_0^s (1 - F(x)) dx`` at ``s = 0..max_units``:
0 at 0, non-decreasing, concave (its slope ``1 - F`` does not increase), at most ``s`` and
``E[D]``, and equal to ``E[D]`` from ``top`` on. Its increments (``marginal_sales``) are the
probability that the ``(s + 1)``-th car sells, ``P(D > x)`` averaged over ``x`` in
``[s, s + 1]``: the slopes of the concave piecewise-linear objective of the optimiser.

``cumulative_quantiles`` turns weekly quantiles into quantiles of the demand summed over weeks
``1..w`` with a normal approximation and independent weeks (see its docstring).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtri

from turnwise.errors import InvalidArgument

__all__ = [
    "cumulative_quantiles",
    "expected_sales",
    "marginal_sales",
    "mean_demand",
    "sample_demand",
    "support_top",
]

_CENTRAL_WIDTH = 0.8
"""The spread of a week is read preferably from its q0.1..q0.9 (central 80%) interval."""

_SYMMETRY_TOL = 1e-9


def expected_sales(
    levels: ArrayLike, values: ArrayLike, max_units: int | np.integer[Any]
) -> np.ndarray:
    """``E[min(D, s)]`` for ``s = 0..max_units`` under the distribution of the module docstring.

    ``values`` has shape ``(L,)`` for one cell or ``(n, L)`` (any leading shape ``(..., L)``)
    for several cells sharing ``levels``; the result has shape ``(..., max_units + 1)``.
    """
    tau = _check_levels(levels)
    q = _check_values("values", values, tau)
    units = _check_max_units(max_units)
    x, f = _knots(tau, q.reshape(-1, tau.size))
    s = np.arange(units + 1, dtype=float)
    curve = _integral(x, f, np.broadcast_to(s, (x.shape[0], s.size)))
    return curve.reshape(*q.shape[:-1], units + 1)


def mean_demand(levels: ArrayLike, values: ArrayLike) -> np.ndarray:
    """``E[D]`` of each cell, shape ``values.shape[:-1]`` (a 0-d array for one cell)."""
    tau = _check_levels(levels)
    q = _check_values("values", values, tau)
    return _mean(tau, q.reshape(-1, tau.size)).reshape(q.shape[:-1])


def support_top(levels: ArrayLike, values: ArrayLike) -> np.ndarray:
    """The top of each cell's support: ``E[min(D, s)] == E[D]`` for every ``s`` above it.
    Shape ``values.shape[:-1]``."""
    tau = _check_levels(levels)
    q = _check_values("values", values, tau)
    x, _ = _knots(tau, q.reshape(-1, tau.size))
    return x[:, -1].reshape(q.shape[:-1])


def sample_demand(
    levels: ArrayLike, values: ArrayLike, rng: np.random.Generator, samples: int
) -> np.ndarray:
    """``samples`` draws of each cell's demand from the distribution of the module docstring
    (inverse transform of its piecewise-linear CDF); shape ``(samples, *values.shape[:-1])``."""
    tau = _check_levels(levels)
    q = _check_values("values", values, tau)
    x, f = _knots(tau, q.reshape(-1, tau.size))
    u = rng.random((samples, x.shape[0]))
    out = np.zeros(u.shape)
    for k in range(x.shape[1] - 1):
        lo, hi = f[None, :, k], f[None, :, k + 1]
        inside = (u >= lo) & (u < hi)
        share = (u - lo) / np.where(hi > lo, hi - lo, 1.0)
        value = x[None, :, k] + share * (x[None, :, k + 1] - x[None, :, k])
        out = np.where(inside, value, out)
    out = np.where(u >= f[None, :, -1], x[None, :, -1], out)
    return out.reshape(samples, *q.shape[:-1])


def marginal_sales(curve: ArrayLike) -> np.ndarray:
    """The increments ``curve[..., s + 1] - curve[..., s]`` of an expected-sales curve: the
    expected sales of the ``(s + 1)``-th unit, shape ``(..., max_units)``."""
    c = np.asarray(curve, dtype=float)
    if c.ndim < 1 or c.shape[-1] < 1:
        raise InvalidArgument("curve", f"needs a last axis over s = 0..max_units, got {c.shape}")
    return np.diff(c, axis=-1)


def cumulative_quantiles(levels: ArrayLike, weekly_values: ArrayLike) -> np.ndarray:
    """Quantiles of the demand summed over weeks ``1..w``, for every ``w``.

    ``weekly_values`` has shape ``(n, W, L)`` (any leading shape ``(..., W, L)``): the quantiles
    of each cell's demand in each week. The result has the same shape; row ``w - 1`` holds the
    quantiles of the sum over weeks ``1..w`` at ``levels``.

    The sum is approximated by a normal whose mean is the sum of the weekly means (``mean_demand``)
    and whose variance is the sum of the weekly variances, i.e. the **weeks are assumed
    independent**. A week's standard deviation is read from one pair of its quantiles,
    ``(q_j - q_i) / (z(tau_j) - z(tau_i))`` with ``z`` the standard normal quantile: the pair
    most symmetric about the median, and among those the one closest to the central 80%
    (``q0.9 - q0.1`` over ``2 * 1.2816`` when both levels exist). The quantile at ``tau`` is
    ``max(0, mean_w + z(tau) * sd_w)``, non-decreasing in ``tau``.

    What this ignores: correlation between weeks (a shared shock such as a launch, a price
    change or a forecast bias moves all weeks together; independence then understates the
    spread of the sum), the skew of count demand (the normal is symmetric about the mean, so
    for ``w = 1`` the result is not the input quantiles), and the normal's mass below zero,
    which the ``max(0, .)`` piles up at zero.
    """
    tau = _check_levels(levels)
    if tau.size < 2:
        raise InvalidArgument("levels", "needs at least two levels to read a week's spread")
    q = _check_values("weekly_values", weekly_values, tau)
    if q.ndim < 2:
        raise InvalidArgument(
            "weekly_values", f"needs shape (..., weeks, {tau.size}), got {q.shape}"
        )
    z = np.asarray(ndtri(tau), dtype=float)
    i, j = _spread_pair(tau)
    mean = _mean(tau, q.reshape(-1, tau.size)).reshape(q.shape[:-1])
    sd = (q[..., j] - q[..., i]) / (z[j] - z[i])
    cum_mean = np.cumsum(mean, axis=-1)
    cum_sd = np.sqrt(np.cumsum(sd * sd, axis=-1))
    return np.asarray(np.maximum(0.0, cum_mean[..., None] + z * cum_sd[..., None]), dtype=float)


def _knots(tau: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The CDF's knots ``(x, F)`` of each cell, both ``(n, L + 2)``: ``(0, 0)``, the
    ``(q_i, tau_i)``, then ``(top, 1)``. ``F`` is linear between consecutive knots; equal ``x``
    is a vertical step (a point mass)."""
    n, n_levels = q.shape
    x_in = np.concatenate([np.zeros((n, 1)), q], axis=1)
    f_in = np.concatenate([[0.0], tau])
    dx = np.diff(x_in, axis=1)
    df = np.diff(f_in)
    sloped = dx > 0
    last = n_levels - 1 - np.argmax(sloped[:, ::-1], axis=1)
    run = dx[np.arange(n), last]
    # (1 - tau_L) / slope written as a product: no division by a tiny width.
    tail = np.where(sloped.any(axis=1), (1.0 - tau[-1]) * run / df[last], 0.0)
    f = np.tile(np.concatenate([f_in, [1.0]]), (n, 1))
    if n_levels >= 2:
        flat = q[:, 0] == q[:, -1]  # no spread: all the mass at q_L
        f[flat, 1:-1] = 0.0
        tail[flat] = 0.0
    x = np.concatenate([x_in, (q[:, -1] + tail)[:, None]], axis=1)
    return x, f


def _integral(x: np.ndarray, f: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``integral_0^s (1 - F)`` for each cell (rows of ``x``, ``f``) at the points ``s`` (n, S),
    exactly: on a knot segment of width ``w`` the integrand is linear, so the part up to
    ``t <= w`` is ``t (1 - F_k) - (F_{k+1} - F_k) (t / w) t / 2``."""
    total = np.zeros(s.shape)
    for k in range(x.shape[1] - 1):
        width = (x[:, k + 1] - x[:, k])[:, None]
        t = np.clip(s - x[:, k, None], 0.0, width)
        ratio = t / np.where(width > 0, width, 1.0)
        rise = (f[:, k + 1] - f[:, k])[:, None]
        total += t * (1.0 - f[:, k, None]) - rise * ratio * t / 2.0
    return total


def _mean(tau: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``E[D]`` of each row of ``q`` (n, L): the same integral up to the top of the support."""
    x, f = _knots(tau, q)
    return _integral(x, f, x[:, -1:])[:, 0]


def _spread_pair(tau: np.ndarray) -> tuple[int, int]:
    """The level indices ``i < j`` a week's spread is read from: most symmetric about the
    median, then closest to the central 80%."""
    pairs = [(i, j) for i in range(tau.size) for j in range(i + 1, tau.size)]
    return min(
        pairs,
        key=lambda p: (
            _asymmetry(float(tau[p[0]]), float(tau[p[1]])),
            abs(float(tau[p[1]] - tau[p[0]]) - _CENTRAL_WIDTH),
        ),
    )


def _asymmetry(lo: float, hi: float) -> float:
    """How far ``lo`` and ``hi`` are from symmetric about 0.5; 0 within round-off."""
    gap = abs(lo + hi - 1.0)
    return gap if gap > _SYMMETRY_TOL else 0.0


def _check_levels(levels: ArrayLike) -> np.ndarray:
    tau = np.asarray(levels, dtype=float)
    if tau.ndim != 1 or tau.size == 0:
        raise InvalidArgument("levels", f"must be a non-empty 1-D sequence, got shape {tau.shape}")
    bad = ~np.isfinite(tau) | (tau <= 0.0) | (tau >= 1.0)
    if bad.any():
        k = int(np.argmax(bad))
        raise InvalidArgument("levels", f"levels[{k}] = {tau[k]} must lie strictly within (0, 1)")
    steps = np.diff(tau) <= 0.0
    if steps.any():
        k = int(np.argmax(steps)) + 1
        raise InvalidArgument(
            "levels",
            f"levels[{k}] = {tau[k]} is not above levels[{k - 1}] = {tau[k - 1]}; "
            "levels must be strictly increasing",
        )
    return tau


def _check_values(field: str, values: ArrayLike, tau: np.ndarray) -> np.ndarray:
    q = np.asarray(values, dtype=float)
    if q.ndim < 1 or q.shape[-1] != tau.size:
        raise InvalidArgument(
            field, f"needs {tau.size} quantiles (one per level) on its last axis, got {q.shape}"
        )
    checks = (
        (~np.isfinite(q), "is not finite; quantiles must be finite numbers"),
        (q < 0.0, "is negative; demand quantiles must be >= 0"),
    )
    for bad, why in checks:
        if bad.any():
            at = _index(np.unravel_index(int(np.argmax(bad)), q.shape))
            raise InvalidArgument(field, f"{field}[{_show(at)}] = {q[at]} {why}")
    falls = np.diff(q, axis=-1) < 0.0
    if falls.any():
        *cell, k = (int(i) for i in np.unravel_index(int(np.argmax(falls)), falls.shape))
        where = f"{field}[{_show(tuple(cell))}]" if cell else field
        raise InvalidArgument(
            field,
            f"{where} decreases from {q[(*cell, k)]} at level {tau[k]} to "
            f"{q[(*cell, k + 1)]} at level {tau[k + 1]}; "
            "quantiles must be non-decreasing in the level",
        )
    return q


def _index(at: tuple[np.intp, ...]) -> tuple[int, ...]:
    return tuple(int(i) for i in at)


def _show(at: tuple[int, ...]) -> str:
    return ", ".join(map(str, at))


def _check_max_units(max_units: int | np.integer[Any]) -> int:
    if isinstance(max_units, bool) or not isinstance(max_units, int | np.integer):
        raise InvalidArgument("max_units", f"must be an integer, got {max_units!r}")
    if max_units < 0:
        raise InvalidArgument("max_units", f"must be >= 0, got {max_units}")
    return int(max_units)
